package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.ExitCodeList;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.gpuwarden.proto.v1.ReleaseRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gpuwarden release ID --force --reason R}: the audited override that skips verification. */
@Command(name = "release", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Forces a node back to SERVING without verification (audited override).",
        "The gate releases nodes itself when verification passes; this override needs --force."})
public final class ReleaseCommand extends OneNodeAction {
  /** Printed when {@code --force} is missing; the collector would refuse anyway, this says why before asking it. */
  static final String FORCE_REQUIRED = "release without --force is not allowed: the gate releases nodes itself when "
      + "verification passes; --force is an audited admin override";

  @Option(names = "--force", description = "Required: skip verification (audited).")
  boolean force;

  @Mixin
  RequiredReason reason;

  @Override
  protected String done() {
    return "released";
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.USAGE, "--force missing, or " + USAGE);
  }

  @Override
  protected void checkCommandLine() {
    if (!force) {
      throw usage(FORCE_REQUIRED);
    }
  }

  @Override
  protected List<NodeActionResult> send(GateServiceBlockingStub gate) {
    return single(gate.release(ReleaseRequest.newBuilder().setNodeId(nodeId).setForce(true).setReason(reason.text()).build())
        .getResult());
  }
}

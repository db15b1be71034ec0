package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.ReleaseRequest;
import io.gpuwarden.proto.v1.ReleaseResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden release ID --force --reason R}: the audited override that skips verification. */
@Command(name = "release", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Forces a node back to SERVING without verification (audited override).",
        "The gate releases nodes itself when verification passes; this override needs --force."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:released", "1:collector unreachable or the call failed",
        "2:invalid command line (--force missing) or unreadable admin token", "3:no such node",
        "4:refused (the message says why)"})
public final class ReleaseCommand implements Callable<Integer> {
  /** Printed when {@code --force} is missing; the collector would refuse anyway, this says why before asking it. */
  static final String FORCE_REQUIRED = "release without --force is not allowed: the gate releases nodes itself when "
      + "verification passes; --force is an audited admin override";

  @Mixin
  CollectorAddress collector;

  @Mixin
  AdminToken adminToken;

  @Parameters(index = "0", paramLabel = "ID", description = "Node id.")
  String nodeId;

  @Option(names = "--force", description = "Required: skip verification (audited).")
  boolean force;

  @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why (recorded in the audit history).")
  String reason;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    if (!force) {
      spec.commandLine().getErr().println("gpuwarden release: " + FORCE_REQUIRED);
      spec.commandLine().getErr().flush();
      return ExitCodes.USAGE;
    }
    return GateClient.run(spec, collector, adminToken, c -> {
      ReleaseResponse r = c.stub().release(ReleaseRequest.newBuilder().setNodeId(nodeId).setForce(true)
          .setReason(reason).build());
      return c.report(r.hasResult() ? r.getResult() : null);
    });
  }
}

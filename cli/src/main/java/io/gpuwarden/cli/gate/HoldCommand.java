package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.proto.v1.HoldRequest;
import io.gpuwarden.proto.v1.HoldResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden hold ID --reason R}: keeps a node out of service until {@code unhold}. */
@Command(name = "hold", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Places an operator hold: the node is not allocatable until unhold, whatever automation decides.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:held", "1:collector unreachable or the call failed",
        "2:invalid command line or unreadable admin token", "3:no such node", "4:refused (the message says why)"})
public final class HoldCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Mixin
  AdminToken adminToken;

  @Parameters(index = "0", paramLabel = "ID", description = "Node id.")
  String nodeId;

  @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why (recorded in the audit history).")
  String reason;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return GateClient.run(spec, collector, adminToken, c -> {
      HoldResponse r = c.stub().hold(HoldRequest.newBuilder().setNodeId(nodeId).setReason(reason).build());
      return c.report(r.hasResult() ? r.getResult() : null);
    });
  }
}

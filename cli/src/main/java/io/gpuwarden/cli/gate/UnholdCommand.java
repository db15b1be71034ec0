package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.proto.v1.UnholdRequest;
import io.gpuwarden.proto.v1.UnholdResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden unhold ID}: removes an operator hold. */
@Command(name = "unhold", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Removes an operator hold; the node is allocatable again if nothing else keeps it out.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:hold removed", "1:collector unreachable or the call failed",
        "2:invalid command line or unreadable admin token", "3:no such node", "4:refused (the message says why)"})
public final class UnholdCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Mixin
  AdminToken adminToken;

  @Parameters(index = "0", paramLabel = "ID", description = "Node id.")
  String nodeId;

  @Option(names = "--reason", paramLabel = "TEXT", description = "Note for the audit history.")
  String reason = "";

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return GateClient.run(spec, collector, adminToken, c -> {
      UnholdResponse r = c.stub().unhold(UnholdRequest.newBuilder().setNodeId(nodeId).setReason(reason).build());
      return c.report(r.hasResult() ? r.getResult() : null);
    });
  }
}

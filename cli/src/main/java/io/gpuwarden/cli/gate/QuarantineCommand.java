package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.proto.v1.QuarantineRequest;
import io.gpuwarden.proto.v1.QuarantineResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden quarantine ID --reason R}: takes a node out until it is repaired. */
@Command(name = "quarantine", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Quarantines a node: out of service until 'repair-done' and a passed verification.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:quarantined", "1:collector unreachable or the call failed",
        "2:invalid command line or unreadable admin token", "3:no such node", "4:refused (the message says why)"})
public final class QuarantineCommand implements Callable<Integer> {
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
      QuarantineResponse r = c.stub().quarantine(QuarantineRequest.newBuilder().setNodeId(nodeId).setReason(reason).build());
      return c.report(r.hasResult() ? r.getResult() : null);
    });
  }
}

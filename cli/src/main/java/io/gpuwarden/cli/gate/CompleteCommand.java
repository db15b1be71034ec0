package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.proto.v1.CompleteRequest;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden complete ID...}: maintenance of locked nodes is done; the gate starts verifying them. */
@Command(name = "complete", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Reports maintenance of LOCKED nodes done; they go to VERIFYING.",
        "They return to service by themselves once verification passes, or go to QUARANTINED if it fails."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:every node now verifying", "1:collector unreachable or the call failed",
        "2:invalid command line or unreadable admin token", "3:no such node", "4:refused (the message says why)"})
public final class CompleteCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Mixin
  AdminToken adminToken;

  @Parameters(arity = "1..*", paramLabel = "ID", description = "Node ids.")
  List<String> nodeIds;

  @Option(names = "--reason", paramLabel = "TEXT", description = "What was done (recorded in the audit history).")
  String reason = "";

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return GateClient.run(spec, collector, adminToken, c -> c.report(c.stub()
        .complete(CompleteRequest.newBuilder().addAllNodeIds(nodeIds).setReason(reason).build()).getResultsList()));
  }
}

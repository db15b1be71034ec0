package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.proto.v1.RepairDoneRequest;
import io.gpuwarden.proto.v1.RepairDoneResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden repair-done ID}: a quarantined node was repaired; the gate starts verifying it. */
@Command(name = "repair-done", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Reports a QUARANTINED node repaired: it goes to VERIFYING and returns to service once verification passes.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:now verifying", "1:collector unreachable or the call failed",
        "2:invalid command line or unreadable admin token", "3:no such node", "4:refused (the message says why)"})
public final class RepairDoneCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Mixin
  AdminToken adminToken;

  @Parameters(index = "0", paramLabel = "ID", description = "Node id.")
  String nodeId;

  @Option(names = "--reason", paramLabel = "TEXT", description = "What was repaired (recorded in the audit history).")
  String reason = "";

  @Option(names = "--expect-reboot", description = "Verification will require the node to have rebooted.")
  boolean expectReboot;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return GateClient.run(spec, collector, adminToken, c -> {
      RepairDoneResponse r = c.stub().repairDone(RepairDoneRequest.newBuilder().setNodeId(nodeId).setReason(reason)
          .setExpectReboot(expectReboot).build());
      return c.report(r.hasResult() ? r.getResult() : null);
    });
  }
}

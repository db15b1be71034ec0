package io.gpuwarden.cli.gate;

import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.gpuwarden.proto.v1.RepairDoneRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gpuwarden repair-done ID}: a quarantined node was repaired; the gate starts verifying it. */
@Command(name = "repair-done", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Reports a QUARANTINED node repaired: it goes to VERIFYING and returns to service once verification passes.")
public final class RepairDoneCommand extends OneNodeAction {
  @Mixin
  OptionalReason reason;

  @Option(names = "--expect-reboot", description = "Verification will require the node to have rebooted.")
  boolean expectReboot;

  @Override
  protected String done() {
    return "now verifying";
  }

  @Override
  protected List<NodeActionResult> send(GateServiceBlockingStub gate) {
    return single(gate.repairDone(RepairDoneRequest.newBuilder().setNodeId(nodeId).setReason(reason.text())
        .setExpectReboot(expectReboot).build()).getResult());
  }
}

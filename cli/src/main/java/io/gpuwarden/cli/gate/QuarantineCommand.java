package io.gpuwarden.cli.gate;

import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.gpuwarden.proto.v1.QuarantineRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code gpuwarden quarantine ID --reason R}: takes a node out until it is repaired. */
@Command(name = "quarantine", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Quarantines a node: out of service until 'repair-done' and a passed verification.")
public final class QuarantineCommand extends OneNodeAction {
  @Mixin
  RequiredReason reason;

  @Override
  protected String done() {
    return "quarantined";
  }

  @Override
  protected List<NodeActionResult> send(GateServiceBlockingStub gate) {
    return single(gate.quarantine(QuarantineRequest.newBuilder().setNodeId(nodeId).setReason(reason.text()).build())
        .getResult());
  }
}

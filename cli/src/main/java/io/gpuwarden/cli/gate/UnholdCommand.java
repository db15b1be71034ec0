package io.gpuwarden.cli.gate;

import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.gpuwarden.proto.v1.UnholdRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code gpuwarden unhold ID}: removes an operator hold. */
@Command(name = "unhold", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Removes an operator hold; the node is allocatable again if nothing else keeps it out.")
public final class UnholdCommand extends OneNodeAction {
  @Mixin
  OptionalReason reason;

  @Override
  protected String done() {
    return "hold removed";
  }

  @Override
  protected List<NodeActionResult> send(GateServiceBlockingStub gate) {
    return single(gate.unhold(UnholdRequest.newBuilder().setNodeId(nodeId).setReason(reason.text()).build()).getResult());
  }
}

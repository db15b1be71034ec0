package io.gpuwarden.cli.gate;

import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.HoldRequest;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code gpuwarden hold ID --reason R}: keeps a node out of service until {@code unhold}. */
@Command(name = "hold", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Places an operator hold: the node is not allocatable until unhold, whatever automation decides.")
public final class HoldCommand extends OneNodeAction {
  @Mixin
  RequiredReason reason;

  @Override
  protected String done() {
    return "held";
  }

  @Override
  protected List<NodeActionResult> send(GateServiceBlockingStub gate) {
    return single(gate.hold(HoldRequest.newBuilder().setNodeId(nodeId).setReason(reason.text()).build()).getResult());
  }
}

package io.gpuwarden.cli.gate;

import io.gpuwarden.proto.v1.CompleteRequest;
import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code gpuwarden complete ID...}: maintenance of locked nodes is done; the gate starts verifying them. */
@Command(name = "complete", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Reports maintenance of LOCKED nodes done; they go to VERIFYING.",
        "They return to service by themselves once verification passes, or go to QUARANTINED if it fails."})
public final class CompleteCommand extends NodeAction {
  @Parameters(arity = "1..*", paramLabel = "ID", description = "Node ids.")
  List<String> nodeIds;

  @Mixin
  OptionalReason reason;

  @Override
  protected String done() {
    return "every node now verifying";
  }

  @Override
  protected List<NodeActionResult> send(GateServiceBlockingStub gate) {
    return gate.complete(CompleteRequest.newBuilder().addAllNodeIds(nodeIds).setReason(reason.text()).build())
        .getResultsList();
  }
}

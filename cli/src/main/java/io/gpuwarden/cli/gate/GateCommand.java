package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GetGateRequest;
import io.gpuwarden.proto.v1.GetGateResponse;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden gate [ID...]}: where nodes are in the maintenance cycle and whether they are allocatable. */
@Command(name = "gate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Shows the gate status of nodes: state, allocatable, hold, since when, and why (lock, hold, pending checks).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:listed", "1:collector unreachable or the call failed", "2:invalid command line",
        "3:a named node does not exist"})
public final class GateCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Parameters(arity = "0..*", paramLabel = "ID", description = "Node ids (default: all).")
  List<String> nodeIds = List.of();

  @Option(names = "--pool", paramLabel = "NAME", description = "Only nodes of this pool.")
  String pool = "";

  @Option(names = "--json", description = "Print the GetGateResponse as JSON (proto3 JSON mapping).")
  boolean json;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return GateClient.run(spec, collector, null, c -> {
      GetGateResponse response = c.stub().getGate(GetGateRequest.newBuilder().addAllNodeIds(nodeIds).setPool(pool).build());
      if (json) {
        c.printJson(response);
      } else if (response.getStatusesCount() == 0) {
        c.out.println("no nodes" + (pool.isEmpty() ? "" : " in pool " + pool));
      } else {
        c.out.print(GateTable.render(response.getStatusesList(), Instant.now()));
      }
      return ExitCodes.OK;
    });
  }
}

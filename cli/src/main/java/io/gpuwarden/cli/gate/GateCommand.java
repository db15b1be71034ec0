package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.ClientCommand;
import io.gpuwarden.cli.CollectorSession;
import io.gpuwarden.cli.ExitCodeList;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GetGateRequest;
import io.gpuwarden.proto.v1.GetGateResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gpuwarden gate [ID...]}: where nodes are in the maintenance cycle and whether they are allocatable. */
@Command(name = "gate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Shows the gate status of nodes: state, allocatable, hold, since when, and why (lock, hold, pending checks).",
        "Times are ISO-8601 UTC (with the local time beside them at a terminal whose zone is not UTC)."})
public final class GateCommand extends ClientCommand {
  @Parameters(arity = "0..*", paramLabel = "ID", description = "Node ids (default: all).")
  List<String> nodeIds = List.of();

  @Option(names = "--pool", paramLabel = "NAME", description = "Only nodes of this pool.")
  String pool = "";

  @Option(names = "--json", description = "Print the GetGateResponse as JSON (proto3 JSON mapping).")
  boolean json;

  @Override
  protected String done() {
    return "listed";
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.NOT_FOUND, "a named node, or the --pool, does not exist");
  }

  @Override
  protected int run(CollectorSession session) throws IOException {
    GetGateResponse response = session.gate().getGate(GetGateRequest.newBuilder().addAllNodeIds(nodeIds).setPool(pool).build());
    if (json) {
      session.printJson(response);
    } else if (response.getStatusesCount() == 0) {
      session.out().println("no nodes" + (pool.isEmpty() ? "" : " in pool " + pool));
    } else {
      session.out().print(GateTable.render(response.getStatusesList(), Instant.now(), session.times()));
    }
    return ExitCodes.OK;
  }
}

package io.gpuwarden.cli;

import io.gpuwarden.proto.v1.ListNodesRequest;
import io.gpuwarden.proto.v1.ListNodesResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpuwarden nodes}: the fleet table. */
@Command(name = "nodes", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Lists the nodes the collector knows: pool, GPUs, last seen, hottest GPU, power, utilisation, verdict.")
public final class NodesCommand extends ClientCommand {
  @Option(names = "--pool", paramLabel = "NAME", description = "Only nodes of this pool.")
  String pool = "";

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Only nodes with this label; repeatable.")
  Map<String, String> labels = Map.of();

  @Option(names = "--json", description = "Print the ListNodesResponse as JSON (proto3 JSON mapping).")
  boolean json;

  @Override
  protected String done() {
    return "listed";
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.NOT_FOUND, "no such pool: no node has reported the --pool given");
  }

  @Override
  protected int run(CollectorSession session) throws IOException {
    ListNodesResponse response = session.fleet()
        .listNodes(ListNodesRequest.newBuilder().setPool(pool).putAllLabelSelector(labels).build());
    if (json) {
      session.printJson(response);
    } else if (response.getNodesCount() == 0) {
      session.out().println("no nodes" + (pool.isEmpty() ? "" : " in pool " + pool) + " (collector " + collector.target() + ")");
    } else {
      session.out().print(FleetTable.render(response.getNodesList(), Instant.now()));
    }
    return ExitCodes.OK;
  }
}

package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GetHistoryRequest;
import io.gpuwarden.proto.v1.GetHistoryResponse;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden history ID}: a node's transitions, verdicts and events, oldest first. */
@Command(name = "history", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Shows a node's gate transitions, verdict changes and events, oldest first.",
        "Times are UTC; transitions say who, why and which action."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:shown", "1:collector unreachable or the call failed", "2:invalid command line", "3:no such node"})
public final class HistoryCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Parameters(index = "0", paramLabel = "ID", description = "Node id.")
  String nodeId;

  @Option(names = "--since", paramLabel = "DURATION|TIMESTAMP", converter = TimeArgument.Since.class,
      description = "Only entries since then: a duration back from now (2h, 30m, 1d) or an ISO-8601 instant.")
  Instant since;

  @Option(names = "--limit", paramLabel = "N", description = "At most the N newest entries (default: the collector's).")
  int limit;

  @Option(names = "--json", description = "Print the GetHistoryResponse as JSON (proto3 JSON mapping).")
  boolean json;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    if (limit < 0) {
      spec.commandLine().getErr().println("gpuwarden history: --limit must be 0 or more, not " + limit);
      spec.commandLine().getErr().flush();
      return ExitCodes.USAGE;
    }
    return GateClient.run(spec, collector, null, c -> {
      GetHistoryRequest.Builder request = GetHistoryRequest.newBuilder().setNodeId(nodeId).setLimit(limit);
      if (since != null) {
        request.setSince(GateFormat.timestamp(since));
      }
      GetHistoryResponse response = c.stub().getHistory(request.build());
      if (json) {
        c.printJson(response);
      } else if (response.getEntriesCount() == 0) {
        c.out.println("no history for " + nodeId + (since == null ? "" : " since " + GateFormat.TIME.format(since) + " UTC"));
      } else {
        c.out.print(HistoryLines.render(response.getEntriesList()));
      }
      return ExitCodes.OK;
    });
  }
}

package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.ClientCommand;
import io.gpuwarden.cli.CollectorSession;
import io.gpuwarden.cli.ExitCodeList;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GetHistoryRequest;
import io.gpuwarden.proto.v1.GetHistoryResponse;
import java.io.IOException;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gpuwarden history ID}: a node's transitions, verdicts and events, oldest first. */
@Command(name = "history", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Shows a node's gate transitions, holds, verdict changes and events, oldest first.",
        "Times are ISO-8601 UTC (with the local time beside them at a terminal whose zone is not UTC); transitions "
            + "say who, why and which action."})
public final class HistoryCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "ID", description = "Node id.")
  String nodeId;

  @Option(names = "--since", paramLabel = "DURATION|TIMESTAMP", converter = TimeArgument.Since.class,
      description = "Only entries since then: a duration back from now (2h, 30m, 1d) or an ISO-8601 instant.")
  Instant since;

  @Option(names = "--limit", paramLabel = "N", description = "At most the N newest entries (default: the collector's).")
  int limit;

  @Option(names = "--json", description = "Print the GetHistoryResponse as JSON (proto3 JSON mapping).")
  boolean json;

  @Override
  protected String done() {
    return "shown";
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.NOT_FOUND, "no such node: the gate has never seen it");
  }

  @Override
  protected void checkCommandLine() {
    if (limit < 0) {
      throw usage("--limit must be 0 or more, not " + limit);
    }
  }

  @Override
  protected int run(CollectorSession session) throws IOException {
    GetHistoryRequest.Builder request = GetHistoryRequest.newBuilder().setNodeId(nodeId).setLimit(limit);
    if (since != null) {
      request.setSince(GateFormat.timestamp(since));
    }
    GetHistoryResponse response = session.gate().getHistory(request.build());
    if (json) {
      session.printJson(response);
    } else if (response.getEntriesCount() == 0) {
      session.out().println("no history for " + nodeId + (since == null ? "" : " since " + session.times().format(since)));
    } else {
      session.out().print(HistoryLines.render(response.getEntriesList(), session.times()));
    }
    return ExitCodes.OK;
  }
}

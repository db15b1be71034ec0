package io.gpuwarden.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.ListNodesRequest;
import io.gpuwarden.proto.v1.ListNodesResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code gpuwarden nodes}: the fleet table. */
@Command(name = "nodes", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Lists the nodes the collector knows: pool, GPUs, last seen, hottest GPU, power, utilisation, verdict.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:listed", "1:collector unreachable or the call failed", "2:invalid command line"})
public final class NodesCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Option(names = "--pool", paramLabel = "NAME", description = "Only nodes of this pool.")
  String pool = "";

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Only nodes with this label; repeatable.")
  Map<String, String> labels = Map.of();

  @Option(names = "--json", description = "Print the ListNodesResponse as JSON (proto3 JSON mapping).")
  boolean json;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws InvalidProtocolBufferException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ManagedChannel channel = collector.open();
    try {
      ListNodesResponse response = FleetServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(collector.timeout().toMillis(), TimeUnit.MILLISECONDS)
          .listNodes(ListNodesRequest.newBuilder().setPool(pool).putAllLabelSelector(labels).build());
      if (json) {
        out.println(JsonFormat.printer().print(response));
      } else if (response.getNodesCount() == 0) {
        out.println("no nodes" + (pool.isEmpty() ? "" : " in pool " + pool) + " (collector " + collector.target() + ")");
      } else {
        out.print(FleetTable.render(response.getNodesList(), Instant.now()));
      }
      out.flush();
      return ExitCodes.OK;
    } catch (StatusRuntimeException e) {
      err.println("gpuwarden nodes: collector " + collector.target() + ": " + e.getStatus().getCode() + ": "
          + e.getStatus().getDescription());
      err.flush();
      return ExitCodes.CALL_FAILED;
    } finally {
      channel.shutdownNow();
    }
  }
}

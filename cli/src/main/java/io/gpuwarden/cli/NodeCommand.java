package io.gpuwarden.cli;

import io.gpuwarden.proto.v1.GetNodeRequest;
import io.gpuwarden.proto.v1.GetNodeResponse;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Reason;
import java.io.IOException;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gpuwarden node ID}: one node in detail. */
@Command(name = "node", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Shows one node: identity, driver, verdict with reasons and actions, and every GPU's latest sample.")
public final class NodeCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "ID", description = "Node id.")
  String nodeId;

  @Option(names = "--json", description = "Print the node as JSON (proto3 JSON mapping).")
  boolean json;

  @Override
  protected String done() {
    return "shown";
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.NOT_FOUND, "no such node");
  }

  @Override
  protected int run(CollectorSession session) throws IOException {
    GetNodeResponse response = session.fleet().getNode(GetNodeRequest.newBuilder().setNodeId(nodeId).build());
    if (json) {
      session.printJson(response.getNode());
    } else {
      session.out().print(render(response.getNode(), Instant.now()));
    }
    return ExitCodes.OK;
  }

  /** Renders the node for people. */
  static String render(Node n, Instant now) {
    StringBuilder s = new StringBuilder();
    s.append("node      ").append(n.getNodeId()).append('\n');
    s.append("pool      ").append(n.getPool()).append(n.getCluster().isEmpty() ? "" : "  cluster " + n.getCluster()).append('\n');
    if (n.getLabelsCount() > 0) {
      s.append("labels    ").append(n.getLabelsMap().entrySet().stream()
          .map(e -> e.getKey() + "=" + e.getValue()).sorted().collect(Collectors.joining(", "))).append('\n');
    }
    s.append("boot id   ").append(n.getBootId()).append('\n');
    s.append("agent     ").append(n.getAgentVersion()).append(n.getConnected() ? "  connected" : "  disconnected")
        .append(", last seen ").append(FleetTable.lastSeen(n, now)).append('\n');
    var d = n.getInventory().getDriver();
    s.append("driver    ").append(d.getDriverVersion()).append("  NVML ").append(d.getNvmlVersion())
        .append("  CUDA ").append(d.getCudaDriverVersion()).append('\n');
    s.append("verdict   ").append(FleetTable.verdict(n)).append('\n');
    if (n.hasGate()) {
      s.append("gate      ").append(n.getGate().getState().name().replace("GATE_STATE_", ""))
          .append(n.getGate().getAllocatable() ? ", allocatable"
              : ", not allocatable: " + String.join("; ", n.getGate().getNotAllocatableReasonsList()))
          .append('\n');
    }
    for (Reason r : n.getVerdict().getReasonsList()) {
      s.append("  - ").append(r.getState().name().replace("HEALTH_STATE_", "")).append(" [").append(r.getCheck()).append("] ")
          .append(r.getMessage()).append(" -> ").append(FleetTable.actionName(r.getAction()))
          .append('\n');
    }
    s.append('\n');
    Map<String, GpuSample> samples = n.getGpuSamplesList().stream()
        .collect(Collectors.toMap(GpuSample::getGpuUuid, Function.identity(), (a, b) -> b));
    TextTable t = new TextTable("GPU", "UUID", "PCI BUS ID", "NAME", "TEMP °C", "POWER W", "UTIL %", "MEM USED GiB", "SM MHz")
        .rightAlign(0, 4, 5, 6, 7, 8);
    for (GpuInfo g : n.getInventory().getGpusList()) {
      GpuSample x = samples.get(g.getUuid());
      t.row(Integer.toString(g.getIndex()), g.getUuid(), g.getPciBusId(), g.getName(),
          x != null && x.hasTemperatureCelsius() ? Integer.toString(x.getTemperatureCelsius()) : "-",
          x != null && x.hasPowerMilliwatts() ? Long.toString(Math.round(x.getPowerMilliwatts() / 1000.0)) : "-",
          x != null && x.hasUtilizationGpuPercent() ? Integer.toString(x.getUtilizationGpuPercent()) : "-",
          x != null && x.hasMemoryUsedBytes()
              ? String.format(Locale.ROOT, "%.1f", x.getMemoryUsedBytes() / (1024.0 * 1024 * 1024)) : "-",
          x != null && x.hasSmClockMhz() ? Integer.toString(x.getSmClockMhz()) : "-");
    }
    s.append(t.render());
    if (n.getInfinibandSamplesCount() > 0) {
      s.append('\n');
      TextTable ib = new TextTable("HCA", "PORT", "STATE", "PHYS STATE", "RATE", "LINK DOWNED", "SYMBOL ERR", "SATURATED")
          .rightAlign(1, 5, 6);
      n.getInfinibandSamplesList().stream()
          .sorted(java.util.Comparator.comparing(InfinibandPortSample::getHca).thenComparingInt(InfinibandPortSample::getPort))
          .forEach(p -> ib.row(p.getHca(), Integer.toString(p.getPort()), p.getStateName(), p.getPhysStateName(), p.getRateText(),
              counter(p, "link_downed"), counter(p, "symbol_error"),
              p.getSaturatedCountersCount() == 0 ? "-" : String.join(",", p.getSaturatedCountersList())));
      s.append(ib.render());
    }
    s.append('\n').append("log lines ").append(n.getLogLinesReceived()).append(" received, ").append(n.getLogLinesDropped())
        .append(" dropped by the agent").append('\n');
    for (io.gpuwarden.proto.v1.LogLine l : n.getRecentLogLinesList().subList(Math.max(0, n.getRecentLogLinesCount() - 10),
        n.getRecentLogLinesCount())) {
      s.append("  <").append(l.getPriority()).append("> ").append(l.getText()).append('\n');
    }
    return s.toString();
  }

  private static String counter(InfinibandPortSample p, String name) {
    Long v = p.getCountersMap().get(name);
    return v == null ? "-" : Long.toString(v);
  }
}

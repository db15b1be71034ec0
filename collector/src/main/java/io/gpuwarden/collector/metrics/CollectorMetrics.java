package io.gpuwarden.collector.metrics;

import io.gpuwarden.collector.ingest.IngestJournal;

import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.gate.ReleaseGate;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.Node;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The collector's Prometheus metrics, read from the registry and the gate at scrape time (nothing
 * is counted twice, nothing can drift from what the API answers):
 *
 * <ul>
 *   <li>{@code gpuwarden_nodes{pool,verdict}}: nodes by collector verdict;
 *   <li>{@code gpuwarden_gate_nodes{pool,state}}: nodes by gate state, and
 *       {@code gpuwarden_gate_held_nodes{pool}}, {@code gpuwarden_gate_allocatable_nodes{pool}};
 *   <li>{@code gpuwarden_gate_budget_nodes_out{pool}}, {@code gpuwarden_gate_budget_limit_nodes{pool}},
 *       {@code gpuwarden_gate_queued_locks{pool}}, {@code gpuwarden_gate_refused_locks_total{pool}};
 *   <li>{@code gpuwarden_gate_circuit_breaker_open{pool}}: 1 while automatic quarantine is stopped
 *       (alert on it);
 *   <li>{@code gpuwarden_gate_store_write_failures_total} and
 *       {@code gpuwarden_gate_history_dropped_total}: durability problems (alert on any increase).
 * </ul>
 */
public final class CollectorMetrics {
  private CollectorMetrics() {}

  /** Registers every metric in {@code registry}. */
  public static void register(PrometheusRegistry registry, NodeRegistry nodes, ReleaseGate gate, IngestJournal journal) {
    GaugeWithCallback.builder().name("gpuwarden_nodes").help("Nodes by collector verdict.").labelNames("pool", "verdict")
        .callback(cb -> {
          Map<List<String>, Integer> counts = new HashMap<>();
          for (Node n : nodes.list(x -> true, false)) {
            counts.merge(List.of(n.getPool(), word(n.getVerdict().getState())), 1, Integer::sum);
          }
          counts.forEach((k, v) -> cb.call(v, k.get(0), k.get(1)));
        }).register(registry);
    GaugeWithCallback.builder().name("gpuwarden_gate_nodes").help("Nodes by release gate state.").labelNames("pool", "state")
        .callback(cb -> {
          Map<List<String>, Integer> counts = new HashMap<>();
          for (GateStatus s : gate.statuses(x -> true)) {
            for (GateState state : List.of(GateState.GATE_STATE_SERVING, GateState.GATE_STATE_LOCKED,
                GateState.GATE_STATE_VERIFYING, GateState.GATE_STATE_QUARANTINED)) {
              counts.merge(List.of(s.getPool(), word(state)), s.getState() == state ? 1 : 0, Integer::sum);
            }
          }
          counts.forEach((k, v) -> cb.call(v, k.get(0), k.get(1)));
        }).register(registry);
    GaugeWithCallback.builder().name("gpuwarden_gate_allocatable_nodes")
        .help("Nodes a scheduler may use: SERVING, not held, verdict acceptable, telemetry fresh.").labelNames("pool")
        .callback(cb -> perPool(gate, GateStatus::getAllocatable).forEach((p, v) -> cb.call(v, p))).register(registry);
    GaugeWithCallback.builder().name("gpuwarden_gate_held_nodes").help("Nodes held out of service by an operator.")
        .labelNames("pool").callback(cb -> perPool(gate, GateStatus::getHeld).forEach((p, v) -> cb.call(v, p))).register(registry);
    GaugeWithCallback.builder().name("gpuwarden_gate_budget_nodes_out").help("Nodes out of service (not SERVING, or held).")
        .labelNames("pool").callback(cb -> gate.budgets("").forEach(b -> cb.call(b.getNodesOut(), b.getPool())))
        .register(registry);
    GaugeWithCallback.builder().name("gpuwarden_gate_budget_limit_nodes").help("Nodes the pool's budget allows out at once.")
        .labelNames("pool").callback(cb -> gate.budgets("").forEach(b -> cb.call(b.getLimitNodes(), b.getPool())))
        .register(registry);
    GaugeWithCallback.builder().name("gpuwarden_gate_queued_locks").help("Lock requests waiting for budget or a no-fly window.")
        .labelNames("pool").callback(cb -> gate.budgets("").forEach(b -> cb.call(b.getQueuedLocks(), b.getPool())))
        .register(registry);
    CounterWithCallback.builder().name("gpuwarden_gate_refused_locks_total")
        .help("Locks refused (or queued) for budget or a no-fly window.").labelNames("pool")
        .callback(cb -> gate.budgets("").forEach(b -> cb.call(b.getRefusedLocks(), b.getPool()))).register(registry);
    GaugeWithCallback.builder().name("gpuwarden_gate_circuit_breaker_open")
        .help("1 while the pool's circuit breaker is open: automatic quarantine stopped until an admin resets it.")
        .labelNames("pool").callback(cb -> gate.budgets("").forEach(b -> cb.call(b.getCircuitBreakerOpen() ? 1 : 0, b.getPool())))
        .register(registry);
    CounterWithCallback.builder().name("gpuwarden_gate_store_write_failures_total")
        .help("Gate store writes that failed (nothing of them applied), by the gate's passes and commands and by the "
            + "ingest journal (batches and history, retried).")
        .callback(cb -> cb.call(gate.storeFailures() + journal.writeFailures())).register(registry);
    CounterWithCallback.builder().name("gpuwarden_gate_history_dropped_total")
        .help("History entries (verdict changes, events) dropped because the store could not keep up.")
        .callback(cb -> cb.call(journal.droppedHistory())).register(registry);
  }

  private static Map<String, Integer> perPool(ReleaseGate gate, java.util.function.Predicate<GateStatus> p) {
    Map<String, Integer> out = new HashMap<>();
    for (GateStatus s : gate.statuses(x -> true)) {
      out.merge(s.getPool(), p.test(s) ? 1 : 0, Integer::sum);
    }
    return out;
  }

  private static String word(Enum<?> e) {
    String n = e.name();
    return n.substring(n.indexOf("_STATE_") + 7).toLowerCase(Locale.ROOT);
  }
}

package io.gpuwarden.collector.gate;

import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.NoFlyWindow;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * The operators' changes to the {@link GatePolicy} — no-fly windows, budgets, breaker resets —
 * each written to the store before the policy holds it. Runs under the {@link ReleaseGate}'s lock.
 */
final class PolicyChanges {
  private static final Logger log = Logger.getLogger(PolicyChanges.class.getName());

  private final GateStore store;
  private final GatePolicy policy;

  PolicyChanges(GateStore store, GatePolicy policy) {
    this.store = store;
    this.policy = policy;
  }

  NoFlyWindow addWindow(String pool, Instant start, Instant end, String reason, String actor) {
    if (!end.isAfter(start)) {
      throw new IllegalArgumentException("no-fly window must end after it starts");
    }
    NoFlyWindow w = NoFlyWindow.newBuilder().setId("nfz-" + UUID.randomUUID().toString().substring(0, 8)).setPool(pool)
        .setStart(ProtoTime.of(start)).setEnd(ProtoTime.of(end)).setReason(reason).setActor(actor).build();
    store.write(new GateWrite().putWindow(w));
    policy.putWindow(w);
    log.info("gate: no-fly window " + w.getId() + " for pool " + (pool.isEmpty() ? "(all)" : pool) + " added by " + actor + ": "
        + reason);
    return w;
  }

  Optional<NoFlyWindow> removeWindow(String id, String reason, String actor) {
    Optional<NoFlyWindow> w = policy.window(id);
    if (w.isPresent()) {
      store.write(new GateWrite().removeWindow(id));
      policy.removeWindow(id);
      log.info("gate: no-fly window " + id + " removed by " + actor + (reason.isEmpty() ? "" : ": " + reason));
    }
    return w;
  }

  Budget setBudget(String pool, int maxNodes, double maxPercent, String reason, String actor, PoolCounts statuses) {
    if (maxNodes < 0 || maxPercent < 0 || maxPercent > 100) {
      throw new IllegalArgumentException("budget needs max nodes >= 0 and 0 <= max percent <= 100");
    }
    Budget b = policy.budget(pool).toBuilder().setMaxNodesOut(maxNodes).setMaxPercentOut(maxPercent).build();
    store.write(new GateWrite().putBudget(b));
    policy.putBudget(b);
    log.info("gate: budget of pool " + pool + " set to " + maxNodes + " nodes / " + maxPercent + "% by " + actor + ": " + reason);
    return policy.withCounts(pool, statuses);
  }

  Budget resetBreaker(String pool, String reason, String actor, PoolCounts statuses) {
    Budget b = policy.budget(pool).toBuilder().setCircuitBreakerOpen(false).build();
    store.write(new GateWrite().putBudget(b));
    policy.putBudget(b);
    policy.resetTurns(pool);
    log.info("gate: circuit breaker of pool " + pool + " reset by " + actor + ": " + reason);
    return policy.withCounts(pool, statuses);
  }
}

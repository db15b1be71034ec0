package io.gpuwarden.cli.demo;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.collector.gate.GateConfig;
import io.gpuwarden.collector.gate.ReleaseGate;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The demo's rolling maintenance: once the fleet is up, lock a quarter of the nodes (within the
 * pool's budget) for a "firmware update", reboot them one after another (new boot id), report each
 * one complete, and let the release gate verify them: the healthy ones return to SERVING after
 * their soak, the last one comes back with an injected fault and ends QUARANTINED.
 *
 * <p>Driven by time from the demo's loop: {@link #poll} does the next step when it is due and
 * returns at once; reboots run on {@code executor} so the tables keep printing meanwhile.
 *
 * <pre>{@code
 * RollingMaintenance m = new RollingMaintenance(gate, 8, hosts, executor, out, Clock.systemUTC());
 * while (running) { m.poll(); ... }
 * m.failure().ifPresent(err::println);
 * }</pre>
 */
final class RollingMaintenance {
  /** Actor of the demo's gate actions. */
  static final String ACTOR = "demo";
  static final String LOCK_REASON = "demo: rolling firmware update";
  static final String COMPLETE_REASON = "demo: firmware updated, node rebooted";
  /** Fewest nodes the scenario runs with: it needs at least one healthy node and the faulty one, within budget. */
  static final int MIN_NODES = 4;
  /** Soak and verification timeout of the demo's gate: short, so the scenario fits a demo. */
  static final Duration SOAK = Duration.ofSeconds(10);
  static final Duration VERIFY_TIMEOUT = Duration.ofSeconds(90);
  /** The scenario starts when every node is allocatable, or this long after the demo started if some still is not. */
  static final Duration START_AFTER_AT_MOST = Duration.ofSeconds(15);
  /** Time to see the LOCKED state before the first reboot, and between the starts of two reboots. */
  static final Duration FIRST_REBOOT_AFTER = Duration.ofSeconds(2);
  static final Duration REBOOT_SPACING = Duration.ofSeconds(3);
  /** What the scenario needs from the demo's start, measured on a 2-core machine with 8 nodes; said when --duration is too short. */
  static final String NEEDS = "about 45-60 s from the start (use --duration 75s or longer)";

  /** The simulated hosts, as the scenario acts on them. */
  interface Hosts {
    /**
     * Reboots {@code nodeId}: stops its agent, gives the node a new boot id, runs {@code whileDown},
     * starts the agent again. Blocks until the agent is started.
     *
     * @return the new boot id
     */
    String reboot(String nodeId, Runnable whileDown) throws IOException, InterruptedException;

    /** Injects a lasting fault that makes {@code nodeId} UNHEALTHY; returns what it is, for the output. */
    String injectFault(String nodeId);
  }

  /**
   * Which nodes to lock.
   *
   * @param lock the nodes to lock, in reboot order; the last one is the faulty one
   * @param overBudget a further node asked for in the same lock call, to show the budget refusing it; empty when none
   */
  record Plan(List<String> lock, Optional<String> overBudget) {
    Plan {
      lock = List.copyOf(lock);
      requireNonNull(overBudget, "overBudget");
    }

    String faulty() {
      return lock.get(lock.size() - 1);
    }
  }

  private enum Phase { SKIPPED, WAITING, REBOOTING, VERIFYING, DONE, FAILED }

  private final ReleaseGate gate;
  private final int fleetSize;
  private final Hosts hosts;
  private final ExecutorService executor;
  private final PrintWriter out;
  private final Clock clock;
  private final Instant startedAt;
  private Phase phase;
  private Plan plan;
  private int rebooted;
  private Instant nextRebootAt;
  private Future<?> reboot;
  private Instant finishedAt;
  private String failure = "";

  RollingMaintenance(ReleaseGate gate, int fleetSize, Hosts hosts, ExecutorService executor, PrintWriter out, Clock clock) {
    this.gate = requireNonNull(gate, "gate");
    this.fleetSize = fleetSize;
    this.hosts = requireNonNull(hosts, "hosts");
    this.executor = requireNonNull(executor, "executor");
    this.out = requireNonNull(out, "out");
    this.clock = requireNonNull(clock, "clock");
    this.startedAt = clock.instant();
    this.phase = nodesToLock(fleetSize) == 0 ? Phase.SKIPPED : Phase.WAITING;
  }

  /** Returns how many nodes a fleet of {@code fleetSize} locks: a quarter, at least 2; 0 below {@link #MIN_NODES}. */
  static int nodesToLock(int fleetSize) {
    return fleetSize < MIN_NODES ? 0 : Math.max(2, fleetSize / 4);
  }

  /**
   * Returns the demo's gate policy: soak 10 s, verification timeout 90 s, at most 25% of the pool
   * out of service; a fleet below 8 nodes gets a budget of 2 nodes instead, since 25% of it would
   * allow only one.
   */
  static GateConfig gatePolicy(int fleetSize) {
    GateConfig c = GateConfig.defaults().withVerification(SOAK, VERIFY_TIMEOUT);
    return fleetSize >= 8 ? c.withBudget(25, 0) : c.withBudget(0, 2);
  }

  /**
   * Chooses {@code count} nodes to lock from {@code statuses}: allocatable ones first, each group by
   * node id; the next one in that order, if any, is the over-budget example.
   */
  static Plan plan(List<GateStatus> statuses, int count) {
    List<String> order = statuses.stream()
        .sorted(Comparator.comparing((GateStatus s) -> !s.getAllocatable()).thenComparing(GateStatus::getNodeId))
        .map(GateStatus::getNodeId)
        .toList();
    if (order.size() < count) {
      throw new IllegalArgumentException("need " + count + " nodes, the gate knows " + order.size());
    }
    return new Plan(order.subList(0, count), order.size() > count ? Optional.of(order.get(count)) : Optional.empty());
  }

  /** Says whether the scenario runs at all, and what it will do; printed once at the start. */
  String intro() {
    if (phase == Phase.SKIPPED) {
      return "rolling maintenance: skipped (it needs --nodes " + MIN_NODES + " or more)";
    }
    return "rolling maintenance: once the fleet is HEALTHY, " + nodesToLock(fleetSize) + " of " + fleetSize
        + " nodes are locked, rebooted one by one and verified by the release gate (soak " + SOAK.toSeconds()
        + " s); the last one comes back with a fault. It needs " + NEEDS + ".";
  }

  /** Does the next step when it is due. Call it from the demo's loop; it does not block. */
  synchronized void poll() {
    Instant now = clock.instant();
    switch (phase) {
      case WAITING -> maybeLock(now);
      case REBOOTING -> maybeReboot(now);
      case VERIFYING -> maybeFinish(now);
      default -> { }
    }
  }

  private void maybeLock(Instant now) {
    List<GateStatus> statuses = gate.statuses(s -> true);
    boolean allKnown = statuses.size() >= fleetSize;
    boolean allReady = statuses.stream().allMatch(GateStatus::getAllocatable);
    if (!allKnown || (!allReady && now.isBefore(startedAt.plus(START_AFTER_AT_MOST)))) {
      return;
    }
    plan = plan(statuses, nodesToLock(fleetSize));
    List<String> ask = new ArrayList<>(plan.lock());
    plan.overBudget().ifPresent(ask::add);
    say("rolling maintenance: locking " + String.join(", ", plan.lock())
        + plan.overBudget().map(n -> " (and asking for " + n + " too, which the budget must refuse)").orElse("")
        + ": \"" + LOCK_REASON + "\", expecting a reboot");
    List<NodeActionResult> results = gate.lock(ask, LOCK_REASON, true, false, ACTOR);
    for (NodeActionResult r : results) {
      say(String.format("  %-14s %-8s %s", r.getNodeId(), r.getOutcome().name().replace("NODE_ACTION_OUTCOME_", ""),
          r.getMessage()));
    }
    List<String> refused = results.stream()
        .filter(r -> plan.lock().contains(r.getNodeId()) && r.getOutcome() != NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED)
        .map(NodeActionResult::getNodeId).toList();
    if (!refused.isEmpty()) {
      fail("the gate refused to lock " + refused);
      return;
    }
    phase = Phase.REBOOTING;
    nextRebootAt = now.plus(FIRST_REBOOT_AFTER);
  }

  private void maybeReboot(Instant now) {
    if (reboot != null) {
      if (!reboot.isDone()) {
        return;
      }
      reboot = null;
      if (phase != Phase.REBOOTING) {
        return; // the reboot failed
      }
      if (rebooted == plan.lock().size()) {
        phase = Phase.VERIFYING;
        return;
      }
    }
    if (now.isBefore(nextRebootAt)) {
      return;
    }
    String node = plan.lock().get(rebooted++);
    boolean faulty = node.equals(plan.faulty());
    nextRebootAt = now.plus(REBOOT_SPACING);
    reboot = executor.submit(() -> rebootAndComplete(node, faulty));
  }

  /** Runs on the executor: reboot, then report the maintenance complete. */
  private void rebootAndComplete(String node, boolean faulty) {
    String[] fault = {""};
    try {
      String boot = hosts.reboot(node, faulty ? () -> fault[0] = hosts.injectFault(node) : () -> { });
      say("rolling maintenance: rebooted " + node + " (new boot id " + boot + ")"
          + (faulty ? "; it came back with a fault: " + fault[0] : ""));
      NodeActionResult r = gate.complete(List.of(node), COMPLETE_REASON, ACTOR).get(0);
      if (r.getOutcome() != NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED) {
        fail("the gate refused to complete " + node + ": " + r.getMessage());
      }
    } catch (IOException | RuntimeException e) {
      fail("could not reboot " + node + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void maybeFinish(Instant now) {
    Map<String, GateState> states = states();
    if (states.values().stream().anyMatch(s -> s == GateState.GATE_STATE_LOCKED || s == GateState.GATE_STATE_VERIFYING)) {
      return;
    }
    phase = Phase.DONE;
    finishedAt = now;
    say("rolling maintenance: finished " + Duration.between(startedAt, now).toSeconds() + " s after the demo started: "
        + describe(states));
  }

  private Map<String, GateState> states() {
    Function<String, GateState> state = id -> gate.status(id).map(GateStatus::getState).orElse(GateState.GATE_STATE_UNSPECIFIED);
    return plan.lock().stream().collect(Collectors.toMap(id -> id, state, (a, b) -> a, java.util.LinkedHashMap::new));
  }

  private static String describe(Map<String, GateState> states) {
    return states.entrySet().stream().map(e -> e.getKey() + " " + DemoGateTable.state(e.getValue()))
        .collect(Collectors.joining(", "));
  }

  /**
   * Returns why the scenario did not end as it should: not finished before the demo ended, a lock or
   * reboot that failed, or a node in the wrong final state. Empty when it ended as it should or was skipped.
   */
  synchronized Optional<String> failure() {
    return switch (phase) {
      case SKIPPED -> Optional.empty();
      case FAILED -> Optional.of("rolling maintenance failed: " + failure);
      case WAITING -> Optional.of("the demo ended before the rolling maintenance started (it waits until the gate knows all "
          + fleetSize + " nodes); it needs " + NEEDS);
      case REBOOTING, VERIFYING -> Optional.of("the demo ended before the rolling maintenance finished (" + describe(states())
          + "); the duration was too short: it needs " + NEEDS);
      case DONE -> judge(states(), plan.faulty());
    };
  }

  /** Returns what is wrong with the final states: every node SERVING but {@code faulty}, which must be QUARANTINED. */
  static Optional<String> judge(Map<String, GateState> states, String faulty) {
    List<String> wrong = new ArrayList<>();
    states.forEach((id, s) -> {
      GateState expected = id.equals(faulty) ? GateState.GATE_STATE_QUARANTINED : GateState.GATE_STATE_SERVING;
      if (s != expected) {
        wrong.add(id + " is " + DemoGateTable.state(s) + ", expected " + DemoGateTable.state(expected));
      }
    });
    return wrong.isEmpty() ? Optional.empty() : Optional.of("rolling maintenance ended wrong: " + String.join("; ", wrong));
  }

  /** Returns whether the scenario finished (or was skipped). */
  synchronized boolean finished() {
    return phase == Phase.DONE || phase == Phase.SKIPPED;
  }

  /** Stops a reboot in flight (the demo is stopping). */
  void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized void fail(String why) {
    if (phase != Phase.FAILED) {
      phase = Phase.FAILED;
      failure = why;
      say("rolling maintenance: " + why);
    }
  }

  private void say(String line) {
    out.println(LocalTime.now(clock).truncatedTo(ChronoUnit.SECONDS) + " " + line);
    out.flush();
  }
}

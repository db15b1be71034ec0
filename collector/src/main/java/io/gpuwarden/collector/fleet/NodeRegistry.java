package io.gpuwarden.collector.fleet;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.collector.feed.ChangeFeed;
import io.gpuwarden.collector.schedule.Deadlines;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.gpuwarden.proto.v1.Verdict;
import com.google.protobuf.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Every node the collector knows: inventory from the agent's hello, the latest sample of each GPU
 * and port, the latest result of each check, and the node's verdict ({@link NodeRecord} each).
 *
 * <p>Batches are applied at most once per (node, stream id, sequence): a replayed batch is
 * acknowledged again but not applied twice. Each applied batch and each verdict change is
 * published on the {@link ChangeFeed} after the node's lock is released.
 *
 * <p>Thread-safe; each node is guarded by its own lock, so agents never contend with each other.
 */
public final class NodeRegistry {
  private final Clock clock;
  private final StalenessVerdict verdicts;
  private final ChangeFeed feed;
  private final ConcurrentHashMap<String, NodeRecord> nodes = new ConcurrentHashMap<>();
  /** When each node with fresh telemetry should be looked at again: it goes stale then, unless a batch came. */
  private final Deadlines<String> staleness = new Deadlines<>();
  private final Map<String, Long> restoredApplied = new ConcurrentHashMap<>();

  /** A connected agent stream, returned by {@link #hello}. */
  public record Session(String nodeId, String streamId, long token, long acknowledgedSequence) {}

  /**
   * Ingest counters of one node, for tests and metrics.
   *
   * @param batches batches applied
   * @param duplicateBatches replayed batches recognised and not applied again
   * @param sequenceGaps sequence numbers skipped (batches the agent dropped, or applied by an
   *     earlier collector that did not keep them)
   * @param droppedSamplesReported samples the agent reported dropping
   */
  public record IngestStats(long batches, long duplicateBatches, long sequenceGaps, long droppedSamplesReported) {}

  /** Creates an empty registry publishing on a feed of its own ({@link #feed()}). */
  public NodeRegistry(Clock clock, StalenessVerdict verdicts) {
    this(clock, verdicts, new ChangeFeed());
  }

  /** Creates an empty registry publishing on {@code feed}. */
  public NodeRegistry(Clock clock, StalenessVerdict verdicts, ChangeFeed feed) {
    this.clock = requireNonNull(clock, "clock");
    this.verdicts = requireNonNull(verdicts, "verdicts");
    this.feed = requireNonNull(feed, "feed");
  }

  /** Returns the feed this registry publishes its changes on. */
  public ChangeFeed feed() {
    return feed;
  }

  /**
   * Tells the registry that batches up to {@code sequence} of {@code streamId} were applied by an
   * earlier run (restored from the durable store): a reconnecting agent resumes after it and
   * replays of those batches are not applied again.
   */
  public void restoreApplied(String nodeId, String streamId, long sequence) {
    restoredApplied.merge(nodeId + "\n" + streamId, sequence, Math::max);
  }

  /**
   * Records an agent's hello: (re)places the node's identity and inventory and marks it connected.
   * A newer stream of the same node supersedes an older one.
   *
   * @return the session, with the highest sequence already applied for the hello's stream id
   */
  public Session hello(AgentHello hello) {
    NodeRecord state = nodes.computeIfAbsent(hello.getNodeId(), NodeRecord::new);
    Change change;
    Session session;
    synchronized (state) {
      state.hello = hello;
      state.connectedToken = ++state.tokens;
      long applied = state.appliedByStream.getOrDefault(hello.getStreamId(),
          restoredApplied.getOrDefault(hello.getNodeId() + "\n" + hello.getStreamId(), 0L));
      state.appliedByStream.put(hello.getStreamId(), applied);
      state.currentStream = hello.getStreamId();
      if (state.preview != null && !state.preview.streamId().equals(hello.getStreamId())) {
        state.preview = null; // a new sequence space: the previewed batch will never come on it
      }
      if (!state.bootId.equals(hello.getBootId())) {
        // A new boot: samples of the previous boot no longer describe the host.
        state.bootId = hello.getBootId();
        verdicts.forget(state.nodeId);
        state.forgetSamples();
      }
      session = new Session(hello.getNodeId(), hello.getStreamId(), state.connectedToken, applied);
      change = reevaluate(state);
    }
    publish(change);
    return session;
  }

  /**
   * Applies a batch unless its sequence was already applied on the session's stream.
   *
   * @return the highest contiguous sequence applied on the stream, to acknowledge
   */
  public long apply(Session session, TelemetryBatch batch) {
    NodeRecord state = nodes.get(session.nodeId());
    if (state == null) {
      throw new IllegalStateException("batch for unknown node " + session.nodeId());
    }
    Change change;
    long applied;
    String pool;
    synchronized (state) {
      applied = state.appliedByStream.getOrDefault(session.streamId(), 0L);
      if (batch.getSequence() <= applied) {
        state.duplicateBatches++;
        return applied;
      }
      if (batch.getSequence() > applied + 1) {
        // The agent dropped batches it could not keep (it counts them too); accept and move on.
        state.sequenceGaps += batch.getSequence() - applied - 1;
      }
      applied = batch.getSequence();
      state.appliedByStream.put(session.streamId(), applied);
      state.lastSeen = clock.instant();
      if (!state.staleCheckPending) {
        state.staleCheckPending = true;
        staleness.atOrBefore(state.nodeId, staleAt(state.lastSeen));
      }
      state.lastSequence = applied;
      state.batches++;
      state.droppedSamplesReported += batch.getDroppedSamples();
      pool = state.pool();
      for (GpuSample s : batch.getGpuSamplesList()) {
        state.gpuSamples.put(s.getGpuUuid(), s);
        verdicts.observe(pool, state.nodeId, s, state.lastSeen);
      }
      state.logLinesReceived += batch.getLogLinesCount();
      state.logLinesDropped += batch.getDroppedLogLines();
      batch.getLogLinesList().forEach(state::keepLogLine);
      if (batch.getGpuSamplesCount() > 0 || batch.getInfinibandSamplesCount() > 0) {
        state.keepPortSamples(batch.getInfinibandSamplesList());
      }
      for (CheckResult c : batch.getCheckResultsList()) {
        state.checks.put(c.getCheck(), c);
      }
      if (state.preview != null && state.preview.streamId().equals(session.streamId())
          && applied >= state.preview.sequence()) {
        state.preview = null; // the batch itself (or a later one) now speaks for the node
      }
      change = reevaluate(state);
    }
    publish(change);
    List<Event> notable = new ArrayList<>();
    for (Event e : batch.getEventsList()) {
      if (e.getSeverity().getNumber() >= EventSeverity.EVENT_SEVERITY_WARNING_VALUE) {
        notable.add(e);
      }
    }
    feed.publish(new Change.BatchApplied(session.nodeId(), session.streamId(), applied, pool, batch, notable));
    return applied;
  }

  /**
   * Holds what a batch not yet applied says ({@code IngestService.Preview}): until the batch at
   * {@code sequence} of {@code streamId}, or a later one, is applied, {@code checks} stand in for the
   * older batches' check results in the node's verdict, so a fault that waits behind an agent's
   * backlog is judged now. Stores nothing durable and changes no sample; the batch still comes.
   *
   * @return true when held; false when the node is unknown, {@code streamId} is not its current
   *     stream, or that batch was applied already
   */
  public boolean preview(String nodeId, String streamId, long sequence, List<CheckResult> checks) {
    NodeRecord state = nodes.get(nodeId);
    if (state == null) {
      return false;
    }
    Change change;
    synchronized (state) {
      if (!streamId.equals(state.currentStream)
          || sequence <= state.appliedByStream.getOrDefault(streamId, 0L)) {
        return false;
      }
      NodeRecord.HeldPreview previous =
          state.preview != null && state.preview.streamId().equals(streamId) ? state.preview : null;
      boolean later = previous == null || sequence >= previous.sequence();
      // Previews may arrive out of order: the later batch's result of a check wins, put last.
      Map<String, CheckResult> held = new java.util.TreeMap<>();
      if (previous != null && later) {
        held.putAll(previous.checks());
      }
      checks.forEach(c -> held.put(c.getCheck(), c));
      if (previous != null && !later) {
        held.putAll(previous.checks());
      }
      state.preview = new NodeRecord.HeldPreview(streamId, later ? sequence : previous.sequence(),
          java.util.Collections.unmodifiableMap(held));
      change = reevaluate(state);
    }
    publish(change);
    return true;
  }

  /** Marks the session's stream closed, unless a newer stream of the node replaced it. */
  public void disconnected(Session session) {
    NodeRecord state = nodes.get(session.nodeId());
    if (state == null) {
      return;
    }
    synchronized (state) {
      if (state.connectedToken == session.token()) {
        state.connectedToken = 0;
      }
    }
  }

  /**
   * Re-judges the nodes whose telemetry may have gone stale by {@code now} (one deadline per node
   * with fresh telemetry, not a pass over every node); publishes changes. A node that sent a batch
   * since its deadline was set gets its next one.
   */
  public void sweepDue(Instant now) {
    for (String id : staleness.due(now)) {
      NodeRecord state = nodes.get(id);
      if (state == null) {
        continue;
      }
      Change change = null;
      synchronized (state) {
        state.staleCheckPending = false;
        if (state.lastSeen != null && staleAt(state.lastSeen).isAfter(now)) {
          state.staleCheckPending = true;
          staleness.atOrBefore(id, staleAt(state.lastSeen));
        } else {
          change = reevaluate(state);
        }
      }
      publish(change);
    }
  }

  /** Remakes the peer comparison's per-pool indexes as of {@code now}, so that no batch pays for it. */
  public void refreshPeers(Instant now) {
    verdicts.refreshPeers(now);
  }

  /** When telemetry last seen at {@code lastSeen} is stale (the verdict says so after, not at, staleAfter). */
  private Instant staleAt(Instant lastSeen) {
    return lastSeen.plus(verdicts.staleAfter()).plusMillis(1);
  }

  /** Re-judges every node (tests; the collector uses {@link #sweepDue}); publishes changes. */
  public void reevaluateAll() {
    for (NodeRecord state : nodes.values()) {
      Change change;
      synchronized (state) {
        change = reevaluate(state);
      }
      publish(change);
    }
  }

  /** Returns a snapshot of one node. */
  public Optional<Node> get(String nodeId, boolean withSamples) {
    NodeRecord state = nodes.get(nodeId);
    if (state == null) {
      return Optional.empty();
    }
    synchronized (state) {
      return Optional.of(state.snapshot(withSamples));
    }
  }

  /** Returns snapshots of the nodes matching {@code filter}, ordered by node id. */
  public List<Node> list(Predicate<Node> filter, boolean withSamples) {
    List<Node> out = new ArrayList<>();
    for (NodeRecord state : nodes.values()) {
      Node node;
      synchronized (state) {
        node = state.snapshot(withSamples);
      }
      if (filter.test(node)) {
        out.add(node);
      }
    }
    out.sort(Comparator.comparing(Node::getNodeId));
    return out;
  }

  /** Returns the summary of every node, any order. */
  public List<NodeSummary> summaries() {
    List<NodeSummary> out = new ArrayList<>(nodes.size());
    for (NodeRecord state : nodes.values()) {
      synchronized (state) {
        out.add(state.summary());
      }
    }
    return out;
  }

  /** Returns the summary of one node. */
  public Optional<NodeSummary> summary(String nodeId) {
    NodeRecord state = nodes.get(nodeId);
    if (state == null) {
      return Optional.empty();
    }
    synchronized (state) {
      return Optional.of(state.summary());
    }
  }

  /** Returns how many nodes are known. */
  public int size() {
    return nodes.size();
  }

  /** Returns the ingest counters of {@code nodeId}. */
  public Optional<IngestStats> stats(String nodeId) {
    NodeRecord s = nodes.get(nodeId);
    if (s == null) {
      return Optional.empty();
    }
    synchronized (s) {
      return Optional.of(new IngestStats(s.batches, s.duplicateBatches, s.sequenceGaps, s.droppedSamplesReported));
    }
  }

  private Change reevaluate(NodeRecord state) {
    Instant now = clock.instant();
    // What the collector-side rules need; inventory and ports only where the pool has expectations (every batch comes here).
    Node.Builder view = Node.newBuilder().setNodeId(state.nodeId);
    if (state.hello != null) {
      view.setPool(state.hello.getPool());
      if (verdicts.expects(state.hello.getPool())) {
        view.setInventory(state.hello.getInventory()).addAllInfinibandSamples(state.portSamples);
      }
    }
    StalenessVerdict.Judgement j = verdicts.judge(state.lastSeen, state.effectiveChecks(), now, view.build());
    Verdict previous = state.verdict;
    if (previous != null && previous.getState() == j.state() && sameReasons(previous.getReasonsList(), j.reasons())) {
      return null;
    }
    Timestamp at = ProtoTime.of(now);
    state.verdict = Verdict.newBuilder()
        .setState(j.state())
        .addAllReasons(j.reasons())
        .setSince(previous != null && previous.getState() == j.state() ? previous.getSince() : at)
        .setEvaluatedAt(at)
        .build();
    return new Change.VerdictChanged(state.snapshot(false),
        previous == null ? HealthState.HEALTH_STATE_UNSPECIFIED : previous.getState());
  }

  private static boolean sameReasons(List<Reason> a, List<Reason> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      Reason x = a.get(i);
      Reason y = b.get(i);
      // The staleness message carries the age, which changes every evaluation; compare what matters.
      if (!x.getCheck().equals(y.getCheck()) || x.getState() != y.getState() || !x.getComponent().equals(y.getComponent())
          || x.getAction() != y.getAction()
          || (!x.getCheck().equals(StalenessVerdict.STALENESS_CHECK) && !x.getMessage().equals(y.getMessage()))) {
        return false;
      }
    }
    return true;
  }

  private void publish(Change change) {
    if (change != null) {
      feed.publish(change);
    }
  }
}

package io.gpuwarden.collector.fleet;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.LogLine;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.gpuwarden.proto.v1.Verdict;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Every node the collector knows: inventory from the agent's hello, the latest sample of each GPU
 * and port, the latest result of each check, and the node's verdict.
 *
 * <p>Batches are applied at most once per (node, stream id, sequence): a replayed batch is
 * acknowledged again but not applied twice. Verdict changes are pushed to listeners after the
 * node's lock is released.
 *
 * <p>Thread-safe; each node is guarded by its own lock, so agents never contend with each other.
 */
public final class NodeRegistry {
  /** Raw log lines kept per node for {@code node} queries. */
  static final int RECENT_LOG_LINES = 100;
  /** How many recent stream ids per node keep their applied sequence (restarted agents). */
  private static final int STREAMS_REMEMBERED = 8;

  private final Clock clock;
  private final StalenessVerdict verdicts;
  private final ConcurrentHashMap<String, NodeState> nodes = new ConcurrentHashMap<>();
  private final List<VerdictListener> listeners = new CopyOnWriteArrayList<>();

  /** Receives verdict changes. Called without any registry lock held; must not block for long. */
  @FunctionalInterface
  public interface VerdictListener {
    /** The verdict of {@code node} changed from {@code previous}. */
    void verdictChanged(Node node, HealthState previous);
  }

  /** Hears of every batch applied (once each; replays of applied batches are not applied again). */
  @FunctionalInterface
  public interface BatchListener {
    /**
     * The batch {@code sequence} of {@code streamId} from {@code nodeId} was applied; {@code notable}
     * are its events of severity WARNING or above. Called without any registry lock held, in
     * sequence order per stream; must not block.
     */
    void batchApplied(String nodeId, String streamId, long sequence, List<Event> notable);
  }

  private final List<BatchListener> batchListeners = new CopyOnWriteArrayList<>();
  private final Map<String, Long> restoredApplied = new ConcurrentHashMap<>();

  /** Adds a batch listener. */
  public void addBatchListener(BatchListener listener) {
    batchListeners.add(listener);
  }

  /**
   * Tells the registry that batches up to {@code sequence} of {@code streamId} were applied by an
   * earlier run (restored from the durable store): a reconnecting agent resumes after it and
   * replays of those batches are not applied again.
   */
  public void restoreApplied(String nodeId, String streamId, long sequence) {
    restoredApplied.merge(nodeId + "\n" + streamId, sequence, Math::max);
  }

  /** A connected agent stream, returned by {@link #hello}. */
  public record Session(String nodeId, String streamId, long token, long acknowledgedSequence) {}

  /** Creates an empty registry. */
  public NodeRegistry(Clock clock, StalenessVerdict verdicts) {
    this.clock = clock;
    this.verdicts = verdicts;
  }

  /** Adds a verdict listener. */
  public void addListener(VerdictListener listener) {
    listeners.add(listener);
  }

  /** Removes a verdict listener. */
  public void removeListener(VerdictListener listener) {
    listeners.remove(listener);
  }

  /**
   * Records an agent's hello: (re)places the node's identity and inventory and marks it connected.
   * A newer stream of the same node supersedes an older one.
   *
   * @return the session, with the highest sequence already applied for the hello's stream id
   */
  public Session hello(AgentHello hello) {
    NodeState state = nodes.computeIfAbsent(hello.getNodeId(), NodeState::new);
    Change change;
    Session session;
    synchronized (state) {
      state.hello = hello;
      state.connectedToken = ++state.tokens;
      long applied = state.appliedByStream.getOrDefault(hello.getStreamId(),
          restoredApplied.getOrDefault(hello.getNodeId() + "\n" + hello.getStreamId(), 0L));
      state.appliedByStream.put(hello.getStreamId(), applied);
      state.currentStream = hello.getStreamId();
      if (!state.bootId.equals(hello.getBootId())) {
        // A new boot: samples of the previous boot no longer describe the host.
        state.bootId = hello.getBootId();
        verdicts.forget(state.nodeId);
        state.gpuSamples.clear();
        state.portSamples.clear();
        state.checks.clear();
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
    NodeState state = nodes.get(session.nodeId());
    if (state == null) {
      throw new IllegalStateException("batch for unknown node " + session.nodeId());
    }
    Change change;
    long applied;
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
      state.lastSequence = applied;
      state.batches++;
      state.droppedSamplesReported += batch.getDroppedSamples();
      String pool = state.hello == null ? "" : state.hello.getPool();
      for (GpuSample s : batch.getGpuSamplesList()) {
        state.gpuSamples.put(s.getGpuUuid(), s);
        verdicts.observe(pool, state.nodeId, s, state.lastSeen);
      }
      state.logLinesReceived += batch.getLogLinesCount();
      state.logLinesDropped += batch.getDroppedLogLines();
      for (LogLine line : batch.getLogLinesList()) {
        if (state.recentLogLines.size() == RECENT_LOG_LINES) {
          state.recentLogLines.pollFirst();
        }
        state.recentLogLines.addLast(line);
      }
      Map<String, InfinibandPortSample> previousPorts = Map.of();
      if (batch.getGpuSamplesCount() > 0 || batch.getInfinibandSamplesCount() > 0) {
        previousPorts = new HashMap<>(state.portSamples);
        state.portSamples.clear(); // a sampling batch carries every port: one that is missing has vanished
      }
      for (InfinibandPortSample s : batch.getInfinibandSamplesList()) {
        String key = s.getHca() + "/" + s.getPort();
        state.portSamples.put(key, withCarriedCounters(s, previousPorts.get(key)));
      }
      for (CheckResult c : batch.getCheckResultsList()) {
        state.checks.put(c.getCheck(), c);
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
    for (BatchListener l : batchListeners) {
      l.batchApplied(session.nodeId(), session.streamId(), applied, notable);
    }
    return applied;
  }

  /** Marks the session's stream closed, unless a newer stream of the node replaced it. */
  public void disconnected(Session session) {
    NodeState state = nodes.get(session.nodeId());
    if (state == null) {
      return;
    }
    synchronized (state) {
      if (state.connectedToken == session.token()) {
        state.connectedToken = 0;
      }
    }
  }

  /** Re-judges every node (staleness depends on time alone); publishes changes. */
  public void reevaluateAll() {
    for (NodeState state : nodes.values()) {
      Change change;
      synchronized (state) {
        change = reevaluate(state);
      }
      publish(change);
    }
  }

  /** Returns a snapshot of one node. */
  public Optional<Node> get(String nodeId, boolean withSamples) {
    NodeState state = nodes.get(nodeId);
    if (state == null) {
      return Optional.empty();
    }
    synchronized (state) {
      return Optional.of(snapshot(state, withSamples));
    }
  }

  /** Returns snapshots of the nodes matching {@code filter}, ordered by node id. */
  public List<Node> list(Predicate<Node> filter, boolean withSamples) {
    List<Node> out = new ArrayList<>();
    for (NodeState state : nodes.values()) {
      Node node;
      synchronized (state) {
        node = snapshot(state, withSamples);
      }
      if (filter.test(node)) {
        out.add(node);
      }
    }
    out.sort(Comparator.comparing(Node::getNodeId));
    return out;
  }

  /**
   * What the release gate needs of a node, without building a {@link Node} message: identity, boot,
   * freshness and verdict. Accessors are named like the message's.
   *
   * @param lastSeenAt when the last batch was applied; null when none was
   * @param verdictOrNull the current verdict; null before the first evaluation
   */
  public record Summary(String nodeId, String pool, String bootId, Instant lastSeenAt, Verdict verdictOrNull) {
    /** Returns the node id. */
    public String getNodeId() {
      return nodeId;
    }

    /** Returns the pool. */
    public String getPool() {
      return pool;
    }

    /** Returns the boot id. */
    public String getBootId() {
      return bootId;
    }

    /** Returns true when a batch was ever applied. */
    public boolean hasLastSeen() {
      return lastSeenAt != null;
    }

    /** Returns when the last batch was applied. */
    public Timestamp getLastSeen() {
      return ts(lastSeenAt);
    }

    /** Returns true when the node has a verdict. */
    public boolean hasVerdict() {
      return verdictOrNull != null;
    }

    /** Returns the verdict (the default instance when none). */
    public Verdict getVerdict() {
      return verdictOrNull != null ? verdictOrNull : Verdict.getDefaultInstance();
    }
  }

  /** Returns the summary of every node, any order. */
  public List<Summary> summaries() {
    List<Summary> out = new ArrayList<>(nodes.size());
    for (NodeState state : nodes.values()) {
      synchronized (state) {
        out.add(summary(state));
      }
    }
    return out;
  }

  /** Returns the summary of one node. */
  public Optional<Summary> summary(String nodeId) {
    NodeState state = nodes.get(nodeId);
    if (state == null) {
      return Optional.empty();
    }
    synchronized (state) {
      return Optional.of(summary(state));
    }
  }

  private static Summary summary(NodeState state) {
    AgentHello h = state.hello;
    return new Summary(state.nodeId, h == null ? "" : h.getPool(), h == null ? "" : h.getBootId(), state.lastSeen, state.verdict);
  }

  /** Returns how many nodes are known. */
  public int size() {
    return nodes.size();
  }

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

  /** Returns the ingest counters of {@code nodeId}. */
  public Optional<IngestStats> stats(String nodeId) {
    NodeState s = nodes.get(nodeId);
    if (s == null) {
      return Optional.empty();
    }
    synchronized (s) {
      return Optional.of(new IngestStats(s.batches, s.duplicateBatches, s.sequenceGaps, s.droppedSamplesReported));
    }
  }

  /**
   * A port sample whose counters the agent did not read this time ({@code counters_carried}) comes
   * without them; it keeps those of the port's previous sample, as the agent does. Without a
   * previous sample (a collector that just started) it stays without counters until the next read.
   */
  static InfinibandPortSample withCarriedCounters(InfinibandPortSample sample, InfinibandPortSample previous) {
    if (!sample.getCountersCarried() || previous == null) {
      return sample;
    }
    return sample.toBuilder().putAllCounters(previous.getCountersMap())
        .addAllSaturatedCounters(previous.getSaturatedCountersList())
        .addAllReadErrors(previous.getReadErrorsList()).build();
  }

  private Change reevaluate(NodeState state) {
    Instant now = clock.instant();
    // What the collector-side rules need; inventory and ports only where the pool has expectations (every batch comes here).
    Node.Builder view = Node.newBuilder().setNodeId(state.nodeId);
    if (state.hello != null) {
      view.setPool(state.hello.getPool());
      if (verdicts.expects(state.hello.getPool())) {
        view.setInventory(state.hello.getInventory()).addAllInfinibandSamples(state.portSamples.values());
      }
    }
    StalenessVerdict.Judgement j = verdicts.judge(state.lastSeen, state.checks.values(), now, view.build());
    Verdict previous = state.verdict;
    if (previous != null && previous.getState() == j.state() && sameReasons(previous.getReasonsList(), j.reasons())) {
      return null;
    }
    Timestamp at = ts(now);
    state.verdict = Verdict.newBuilder()
        .setState(j.state())
        .addAllReasons(j.reasons())
        .setSince(previous != null && previous.getState() == j.state() ? previous.getSince() : at)
        .setEvaluatedAt(at)
        .build();
    return new Change(snapshot(state, false), previous == null ? HealthState.HEALTH_STATE_UNSPECIFIED : previous.getState());
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
    if (change == null) {
      return;
    }
    for (VerdictListener l : listeners) {
      l.verdictChanged(change.node(), change.previous());
    }
  }

  private Node snapshot(NodeState state, boolean withSamples) {
    Node.Builder b = Node.newBuilder().setNodeId(state.nodeId);
    AgentHello h = state.hello;
    if (h != null) {
      b.setPool(h.getPool())
          .setCluster(h.getCluster())
          .putAllLabels(h.getLabels())
          .setBootId(h.getBootId())
          .setAgentVersion(h.getAgentVersion())
          .setInventory(h.getInventory());
    }
    b.setConnected(state.connectedToken != 0).setLastSequence(state.lastSequence)
        .setLogLinesReceived(state.logLinesReceived).setLogLinesDropped(state.logLinesDropped);
    if (state.lastSeen != null) {
      b.setLastSeen(ts(state.lastSeen));
    }
    if (state.verdict != null) {
      b.setVerdict(state.verdict);
    }
    if (withSamples) {
      state.gpuSamples.values().stream().sorted(Comparator.comparingInt(GpuSample::getIndex)).forEach(b::addGpuSamples);
      b.addAllInfinibandSamples(state.portSamples.values());
      b.addAllCheckResults(state.checks.values());
      b.addAllRecentLogLines(state.recentLogLines);
    }
    return b.build();
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private record Change(Node node, HealthState previous) {}

  /** Mutable state of one node, guarded by itself. */
  private static final class NodeState {
    final String nodeId;
    AgentHello hello;
    long logLinesReceived;
    long logLinesDropped;
    final java.util.ArrayDeque<LogLine> recentLogLines = new java.util.ArrayDeque<>();
    String bootId = "";
    long tokens;
    long connectedToken;
    String currentStream = "";
    final Map<String, Long> appliedByStream = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > STREAMS_REMEMBERED;
      }
    };
    Instant lastSeen;
    long lastSequence;
    long batches;
    long duplicateBatches;
    long sequenceGaps;
    long droppedSamplesReported;
    final Map<String, GpuSample> gpuSamples = new TreeMap<>();
    final Map<String, InfinibandPortSample> portSamples = new TreeMap<>();
    final Map<String, CheckResult> checks = new TreeMap<>();
    Verdict verdict;

    NodeState(String nodeId) {
      this.nodeId = nodeId;
    }
  }
}

package io.gpuwarden.collector.fleet;

import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.LogLine;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Verdict;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The mutable record of one node in the {@link NodeRegistry}: its hello, stream bookkeeping, latest
 * samples and checks, ingest counters and verdict, and the views made of them ({@link Node},
 * {@link NodeSummary}). Guarded by itself: the registry holds its monitor while it reads or writes.
 */
final class NodeRecord {
  /** Raw log lines kept per node for {@code node} queries. */
  static final int RECENT_LOG_LINES = 100;
  /** How many recent stream ids per node keep their applied sequence (restarted agents). */
  private static final int STREAMS_REMEMBERED = 8;

  final String nodeId;
  AgentHello hello;
  long logLinesReceived;
  long logLinesDropped;
  final ArrayDeque<LogLine> recentLogLines = new ArrayDeque<>();
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
  /** The latest sample of each GPU by UUID (hashed: every batch puts eight; shown in index order). */
  final Map<String, GpuSample> gpuSamples = new HashMap<>();
  /**
   * The ports of the latest sampling batch as it listed them (it lists every port), without counters
   * where they were carried; shown sorted by "hca/port".
   */
  List<InfinibandPortSample> portSamples = List.of();
  /**
   * The latest sample of each port whose counters were read, serialized: what a carried sample's
   * counters are. Kept as bytes because they are read only when the node is shown, and a parsed
   * counter map (about 25 entries of a String, a boxed Long and a map entry per port) costs six times
   * the memory, for every node of the fleet.
   */
  final Map<String, byte[]> portCounters = new HashMap<>();
  final Map<String, CheckResult> checks = new TreeMap<>();
  /**
   * A batch the agent previewed ({@code IngestService.Preview}) and that is not applied yet: its
   * check results stand in for the older batches' until it is. Null almost always.
   */
  HeldPreview preview;
  Verdict verdict;
  /** A staleness deadline of this node is pending in the registry's schedule. */
  boolean staleCheckPending;

  NodeRecord(String nodeId) {
    this.nodeId = nodeId;
  }

  /** Returns the node's pool ("" before its hello). */
  String pool() {
    return hello == null ? "" : hello.getPool();
  }

  /** Keeps {@code line} among the recent log lines, dropping the oldest past {@link #RECENT_LOG_LINES}. */
  void keepLogLine(LogLine line) {
    if (recentLogLines.size() == RECENT_LOG_LINES) {
      recentLogLines.pollFirst();
    }
    recentLogLines.addLast(line);
  }

  /**
   * Keeps the ports of a sampling batch, which carries every port (one that is missing has
   * vanished). A carried sample is kept as it came, and its counters are those of the port's last
   * read, merged only when the node is shown ({@link #snapshot}): not rebuilt on every batch.
   */
  void keepPortSamples(List<InfinibandPortSample> samples) {
    portSamples = samples; // the batch's own immutable list: nothing copied on the batches that carry counters
    boolean counted = false;
    for (InfinibandPortSample s : samples) {
      if (!s.getCountersCarried()) {
        portCounters.put(key(s), s.toByteArray()); // one batch in ten: the agent reads counters every 10th cycle
        counted = true;
      }
    }
    if (counted || portCounters.size() > samples.size()) {
      // A port that vanished takes its counters with it.
      java.util.Set<String> present = new java.util.HashSet<>();
      samples.forEach(s -> present.add(key(s)));
      portCounters.keySet().retainAll(present);
    }
  }

  /** Clears the latest samples and checks (a new boot). */
  void forgetSamples() {
    gpuSamples.clear();
    portSamples = List.of();
    portCounters.clear();
    checks.clear();
    preview = null;
  }

  /**
   * The check results the verdict is judged on: the latest batch's, with those of a held preview in
   * their place (the preview describes a later batch).
   */
  java.util.Collection<CheckResult> effectiveChecks() {
    if (preview == null) {
      return checks.values();
    }
    Map<String, CheckResult> merged = new TreeMap<>(checks);
    merged.putAll(preview.checks());
    return merged.values();
  }

  /**
   * The check results of a previewed batch, held until the batch at {@code sequence} of
   * {@code streamId} (or a later one) is applied.
   */
  record HeldPreview(String streamId, long sequence, Map<String, CheckResult> checks) {}

  private static InfinibandPortSample counters(byte[] serialized) {
    if (serialized == null) {
      return null;
    }
    try {
      return InfinibandPortSample.parseFrom(serialized);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("port counters this collector serialized do not parse", e);
    }
  }

  private static String key(InfinibandPortSample s) {
    return s.getHca() + "/" + s.getPort();
  }

  /** Returns the gate's view of the node. */
  NodeSummary summary() {
    return new NodeSummary(nodeId, pool(), hello == null ? "" : hello.getBootId(), lastSeen, verdict);
  }

  /** Returns the node as a message; with its samples, checks and recent log lines when {@code withSamples}. */
  Node snapshot(boolean withSamples) {
    Node.Builder b = Node.newBuilder().setNodeId(nodeId);
    AgentHello h = hello;
    if (h != null) {
      b.setPool(h.getPool())
          .setCluster(h.getCluster())
          .putAllLabels(h.getLabels())
          .setBootId(h.getBootId())
          .setAgentVersion(h.getAgentVersion())
          .setInventory(h.getInventory());
    }
    b.setConnected(connectedToken != 0).setLastSequence(lastSequence)
        .setLogLinesReceived(logLinesReceived).setLogLinesDropped(logLinesDropped);
    if (lastSeen != null) {
      b.setLastSeen(ProtoTime.of(lastSeen));
    }
    if (verdict != null) {
      b.setVerdict(verdict);
    }
    if (withSamples) {
      gpuSamples.values().stream().sorted(Comparator.comparingInt(GpuSample::getIndex)).forEach(b::addGpuSamples);
      portSamples.stream().sorted(Comparator.comparing(NodeRecord::key))
          .forEach(s -> b.addInfinibandSamples(withCarriedCounters(s, counters(portCounters.get(key(s))))));
      b.addAllCheckResults(effectiveChecks());
      b.addAllRecentLogLines(recentLogLines);
    }
    return b.build();
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
}

package io.gpuwarden.collector.ingest;

import io.gpuwarden.collector.gate.GateStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * Acknowledges agents' batches only once they are durable: stored with their events in the gate
 * store by the {@link IngestJournal}. An agent keeps every batch until it is
 * acknowledged, and a restarted collector tells it to resume after the last durable one, so a batch
 * is applied exactly once even when the collector is killed between applying it and storing it.
 *
 * <p>Thread-safe.
 */
public final class DurableAcks implements IngestJournal.DurableListener {
  private final Map<String, Long> durable = new ConcurrentHashMap<>();
  private final Map<String, LongConsumer> live = new ConcurrentHashMap<>();

  /** Starts from what the store says is durable. */
  public DurableAcks(List<GateStore.AppliedSequence> restored) {
    restored.forEach(a -> durable.merge(key(a.nodeId(), a.streamId()), a.sequence(), Math::max));
  }

  private static String key(String node, String stream) {
    return node + "\n" + stream;
  }

  /** Returns the highest durable sequence of a stream (0: none). */
  public long durable(String nodeId, String streamId) {
    return durable.getOrDefault(key(nodeId, streamId), 0L);
  }

  /** Sends acknowledgements of {@code streamId} to {@code acker} from now on (replacing an older stream's). */
  public void attach(String nodeId, String streamId, LongConsumer acker) {
    live.put(key(nodeId, streamId), acker);
  }

  /** Stops sending to {@code acker}. */
  public void detach(String nodeId, String streamId, LongConsumer acker) {
    live.remove(key(nodeId, streamId), acker);
  }

  @Override
  public void durable(String nodeId, String streamId, long sequence) {
    String k = key(nodeId, streamId);
    long now = durable.merge(k, sequence, Math::max);
    LongConsumer acker = live.get(k);
    if (acker != null) {
      acker.accept(now);
    }
  }
}

package io.gpuwarden.collector;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BinaryOperator;

/**
 * A server stream of per-key updates that never queues more than one message per key: while the
 * client is not ready (gRPC flow control), a newer update of a key replaces the waiting one, merged
 * with it by {@code merge} (e.g. to keep the older "previous state"). A slow watcher thus costs at
 * most one message per node, never an unbounded queue, and a fast one gets every update.
 *
 * <pre>{@code
 * CoalescingStream<String, WatchGateResponse> s = new CoalescingStream<>(call, (older, newer) -> newer);
 * call.setOnReadyHandler(s::drain);
 * s.offer(nodeId, message);   // from any thread
 * }</pre>
 *
 * @param <K> the key, e.g. a node id
 * @param <M> the message type
 */
public final class CoalescingStream<K, M> {
  private final ServerCallStreamObserver<M> call;
  private final BinaryOperator<M> merge;
  private final Map<K, M> pending = new LinkedHashMap<>();

  /**
   * Creates the stream over {@code call}.
   *
   * @param merge combines a waiting (older) message with a newer one of the same key
   */
  public CoalescingStream(ServerCallStreamObserver<M> call, BinaryOperator<M> merge) {
    this.call = call;
    this.merge = merge;
  }

  /** Queues {@code message} for {@code key} (replacing, merged, one still waiting) and sends what the client can take. */
  public void offer(K key, M message) {
    synchronized (this) {
      M older = pending.remove(key);
      pending.put(key, older == null ? message : merge.apply(older, message));
    }
    drain();
  }

  /** Sends waiting messages while the client is ready; drops them when the call was cancelled. */
  public synchronized void drain() {
    if (call.isCancelled()) {
      pending.clear();
      return;
    }
    var it = pending.values().iterator();
    while (it.hasNext() && call.isReady()) {
      call.onNext(it.next());
      it.remove();
    }
  }
}

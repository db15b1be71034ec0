package io.gpuwarden.cli.loadgen;

import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.WatchGateRequest;
import io.gpuwarden.proto.v1.WatchGateResponse;
import io.gpuwarden.proto.v1.WatchVerdictsRequest;
import io.gpuwarden.proto.v1.WatchVerdictsResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Times fault to verdict under load: one node after another reports Xid 79 (its agent makes the
 * {@linkplain BatchTemplates#fault() fault batch}), and two watchers time how long from the moment
 * the agent made that batch until a {@code FleetService.WatchVerdicts} subscriber sees the node
 * UNHEALTHY, and until a {@code GateService.WatchGate} subscriber sees it turn not allocatable. A
 * node that was not allocatable before its fault has no gate figure (counted apart).
 */
final class FaultProbe {
  private final List<SimulatedAgent> candidates;
  private final Map<String, Long> faultedAt = new ConcurrentHashMap<>();
  private final Map<String, Boolean> verdictSeen = new ConcurrentHashMap<>();
  private final Map<String, Boolean> gateSeen = new ConcurrentHashMap<>();
  private final LatencyHistogram toVerdict = new LatencyHistogram();
  private final LatencyHistogram toGate = new LatencyHistogram();
  private final AtomicReference<String> watchError = new AtomicReference<>();
  private int next;

  /** Probes {@code candidates} in order, at most one fault each. */
  FaultProbe(List<SimulatedAgent> candidates) {
    this.candidates = candidates;
  }

  /** Subscribes to both watches on {@code channel}, for the candidate nodes only. */
  void watch(ManagedChannel channel) {
    List<String> ids = candidates.stream().map(SimulatedAgent::nodeId).toList();
    FleetServiceGrpc.newStub(channel).watchVerdicts(WatchVerdictsRequest.newBuilder().addAllNodeIds(ids).build(),
        new Watcher<WatchVerdictsResponse>(r -> {
          if (r.getVerdict().getState() == HealthState.HEALTH_STATE_UNHEALTHY) {
            seen(r.getNodeId(), verdictSeen, toVerdict);
          }
        }));
    GateServiceGrpc.newStub(channel).watchGate(WatchGateRequest.newBuilder().addAllNodeIds(ids).build(),
        new Watcher<WatchGateResponse>(r -> {
          if (!r.getStatus().getAllocatable() && r.getPreviouslyAllocatable()) {
            seen(r.getStatus().getNodeId(), gateSeen, toGate);
          }
        }));
  }

  private void seen(String node, Map<String, Boolean> seen, LatencyHistogram into) {
    long now = System.nanoTime();
    Long at = faultedAt.get(node);
    if (at != null && seen.putIfAbsent(node, Boolean.TRUE) == null) {
      into.record((now - at) / 1000);
    }
  }

  /** Makes the next connected candidate report its fault; returns false when none is left. */
  synchronized boolean faultNext() {
    while (next < candidates.size()) {
      SimulatedAgent a = candidates.get(next++);
      if (!a.connected()) {
        continue;
      }
      // Known before the batch (or its preview) goes: the verdict can come back within a millisecond.
      long at = System.nanoTime();
      faultedAt.put(a.nodeId(), at);
      if (a.makeFault(at)) {
        return true;
      }
      faultedAt.remove(a.nodeId());
    }
    return false;
  }

  /** Returns the number of nodes faulted so far. */
  int faulted() {
    return faultedAt.size();
  }

  LatencyHistogram toVerdict() {
    return toVerdict;
  }

  LatencyHistogram toGate() {
    return toGate;
  }

  /** Returns the error that ended a watch, or null. */
  String watchError() {
    return watchError.get();
  }

  private final class Watcher<T> implements StreamObserver<T> {
    private final java.util.function.Consumer<T> onChange;

    Watcher(java.util.function.Consumer<T> onChange) {
      this.onChange = onChange;
    }

    @Override
    public void onNext(T value) {
      onChange.accept(value);
    }

    @Override
    public void onError(Throwable t) {
      watchError.compareAndSet(null, io.grpc.Status.fromThrowable(t).toString());
    }

    @Override
    public void onCompleted() {}
  }
}

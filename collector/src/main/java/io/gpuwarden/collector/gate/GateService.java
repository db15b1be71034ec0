package io.gpuwarden.collector.gate;

import io.gpuwarden.collector.feed.ChangeFeed;
import io.gpuwarden.collector.ingest.IngestJournal;
import io.gpuwarden.common.ProtoTime;

import io.gpuwarden.collector.CoalescingStream;
import io.gpuwarden.proto.v1.AddNoFlyWindowRequest;
import io.gpuwarden.proto.v1.AddNoFlyWindowResponse;
import io.gpuwarden.proto.v1.CompleteRequest;
import io.gpuwarden.proto.v1.CompleteResponse;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.GetBudgetsRequest;
import io.gpuwarden.proto.v1.GetBudgetsResponse;
import io.gpuwarden.proto.v1.GetGateRequest;
import io.gpuwarden.proto.v1.GetGateResponse;
import io.gpuwarden.proto.v1.GetHistoryRequest;
import io.gpuwarden.proto.v1.GetHistoryResponse;
import io.gpuwarden.proto.v1.HoldRequest;
import io.gpuwarden.proto.v1.HoldResponse;
import io.gpuwarden.proto.v1.ListNoFlyWindowsRequest;
import io.gpuwarden.proto.v1.ListNoFlyWindowsResponse;
import io.gpuwarden.proto.v1.LockRequest;
import io.gpuwarden.proto.v1.LockResponse;
import io.gpuwarden.proto.v1.QuarantineRequest;
import io.gpuwarden.proto.v1.QuarantineResponse;
import io.gpuwarden.proto.v1.ReleaseRequest;
import io.gpuwarden.proto.v1.ReleaseResponse;
import io.gpuwarden.proto.v1.RemoveNoFlyWindowRequest;
import io.gpuwarden.proto.v1.RemoveNoFlyWindowResponse;
import io.gpuwarden.proto.v1.RepairDoneRequest;
import io.gpuwarden.proto.v1.RepairDoneResponse;
import io.gpuwarden.proto.v1.ResetCircuitBreakerRequest;
import io.gpuwarden.proto.v1.ResetCircuitBreakerResponse;
import io.gpuwarden.proto.v1.SetBudgetRequest;
import io.gpuwarden.proto.v1.SetBudgetResponse;
import io.gpuwarden.proto.v1.UnholdRequest;
import io.gpuwarden.proto.v1.UnholdResponse;
import io.gpuwarden.proto.v1.WatchGateRequest;
import io.gpuwarden.proto.v1.WatchGateResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The gRPC face of the {@link ReleaseGate}. Mutations need an admin identity (see
 * {@link AdminAuthInterceptor}) and a reason, and answer only after the change is committed to the
 * store; a refused action is an answer ({@code REFUSED} with why), not an error. A store failure is
 * {@code UNAVAILABLE}: nothing changed.
 */
public final class GateService extends GateServiceGrpc.GateServiceImplBase {
  private final ReleaseGate gate;
  private final IngestJournal journal;

  /** Serves {@code gate}, and the nodes' history from {@code journal}. */
  public GateService(ReleaseGate gate, IngestJournal journal) {
    this.gate = gate;
    this.journal = journal;
  }

  private static String actor() {
    String a = AdminAuthInterceptor.ACTOR.get();
    if (a == null) {
      throw Status.UNAUTHENTICATED.withDescription("gate changes need an admin token").asRuntimeException();
    }
    return a;
  }

  private static String reason(String r, String what) {
    if (r.isBlank()) {
      throw Status.INVALID_ARGUMENT.withDescription(what + " needs a reason: every gate transition is audited").asRuntimeException();
    }
    return r.strip();
  }

  private static List<String> ids(List<String> ids) {
    if (ids.isEmpty() || ids.stream().anyMatch(String::isBlank)) {
      throw Status.INVALID_ARGUMENT.withDescription("name at least one node, and no empty node id").asRuntimeException();
    }
    return ids;
  }

  private static String id(String id) {
    if (id.isBlank()) {
      throw Status.INVALID_ARGUMENT.withDescription("node id is required").asRuntimeException();
    }
    return id;
  }

  private static <T> void answer(StreamObserver<T> out, Supplier<T> body) {
    T response;
    try {
      response = body.get();
    } catch (StatusRuntimeException e) {
      out.onError(e);
      return;
    } catch (GateStoreException e) {
      out.onError(Status.UNAVAILABLE.withDescription("gate store write failed, nothing changed: " + e.getMessage())
          .asRuntimeException());
      return;
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }

  @Override
  public void lock(LockRequest r, StreamObserver<LockResponse> out) {
    answer(out, () -> LockResponse.newBuilder()
        .addAllResults(gate.lock(ids(r.getNodeIdsList()), reason(r.getReason(), "lock"), r.getExpectReboot(), r.getWait(), actor()))
        .build());
  }

  @Override
  public void complete(CompleteRequest r, StreamObserver<CompleteResponse> out) {
    answer(out, () -> CompleteResponse.newBuilder()
        .addAllResults(gate.complete(ids(r.getNodeIdsList()), r.getReason().strip(), actor())).build());
  }

  @Override
  public void release(ReleaseRequest r, StreamObserver<ReleaseResponse> out) {
    answer(out, () -> ReleaseResponse.newBuilder()
        .setResult(gate.release(id(r.getNodeId()), r.getForce(), reason(r.getReason(), "a forced release"), actor())).build());
  }

  @Override
  public void hold(HoldRequest r, StreamObserver<HoldResponse> out) {
    answer(out, () -> HoldResponse.newBuilder().setResult(gate.hold(id(r.getNodeId()), reason(r.getReason(), "hold"), actor()))
        .build());
  }

  @Override
  public void unhold(UnholdRequest r, StreamObserver<UnholdResponse> out) {
    answer(out, () -> UnholdResponse.newBuilder().setResult(gate.unhold(id(r.getNodeId()), r.getReason().strip(), actor())).build());
  }

  @Override
  public void quarantine(QuarantineRequest r, StreamObserver<QuarantineResponse> out) {
    answer(out, () -> QuarantineResponse.newBuilder()
        .setResult(gate.quarantine(id(r.getNodeId()), reason(r.getReason(), "quarantine"), actor())).build());
  }

  @Override
  public void repairDone(RepairDoneRequest r, StreamObserver<RepairDoneResponse> out) {
    answer(out, () -> RepairDoneResponse.newBuilder()
        .setResult(gate.repairDone(id(r.getNodeId()), r.getReason().strip(), r.getExpectReboot(), actor())).build());
  }

  @Override
  public void getGate(GetGateRequest r, StreamObserver<GetGateResponse> out) {
    answer(out, () -> {
      List<String> unknown = r.getNodeIdsList().stream().filter(id -> gate.status(id).isEmpty()).distinct().toList();
      if (!unknown.isEmpty()) {
        throw Status.NOT_FOUND.withDescription("no such node" + (unknown.size() > 1 ? "s: " : ": ") + String.join(", ", unknown)
            + " (the gate has never seen " + (unknown.size() > 1 ? "them" : "it") + ")").asRuntimeException();
      }
      knownPool(r.getPool(), false);
      return GetGateResponse.newBuilder().addAllStatuses(gate.statuses(filter(r.getNodeIdsList(), r.getPool()))).build();
    });
  }

  /**
   * Refuses, with NOT_FOUND, a pool no node has reported unless {@code isNew}: a typo in a pool
   * name would otherwise create a no-fly window or budget that protects nothing.
   */
  private void knownPool(String pool, boolean isNew) {
    if (pool.isEmpty() || isNew) {
      return;
    }
    Set<String> pools = gate.pools();
    if (!pools.contains(pool)) {
      throw Status.NOT_FOUND.withDescription("no node has reported pool '" + pool + "'"
          + (pools.isEmpty() ? "; the gate knows no pool yet" : "; known pools: " + String.join(", ", new java.util.TreeSet<>(pools)))
          + "; say it is new (new_pool) to set it up before its nodes report").asRuntimeException();
    }
  }

  private static Predicate<GateStatus> filter(List<String> ids, String pool) {
    Set<String> wanted = Set.copyOf(ids);
    return s -> (wanted.isEmpty() || wanted.contains(s.getNodeId())) && (pool.isEmpty() || pool.equals(s.getPool()));
  }

  @Override
  public void getHistory(GetHistoryRequest r, StreamObserver<GetHistoryResponse> out) {
    answer(out, () -> {
      String id = id(r.getNodeId());
      if (gate.status(id).isEmpty()) {
        throw Status.NOT_FOUND.withDescription("node '" + id + "' is not known to the gate").asRuntimeException();
      }
      Instant since = r.hasSince() ? ProtoTime.instant(r.getSince()) : Instant.EPOCH;
      return GetHistoryResponse.newBuilder().addAllEntries(journal.history(id, since, r.getLimit() == 0 ? 1000 : r.getLimit())).build();
    });
  }

  @Override
  public void addNoFlyWindow(AddNoFlyWindowRequest r, StreamObserver<AddNoFlyWindowResponse> out) {
    answer(out, () -> {
      if (!r.hasStart() || !r.hasEnd()) {
        throw Status.INVALID_ARGUMENT.withDescription("a no-fly window needs a start and an end").asRuntimeException();
      }
      knownPool(r.getPool(), r.getNewPool());
      return AddNoFlyWindowResponse.newBuilder().setWindow(gate.addWindow(r.getPool(), ProtoTime.instant(r.getStart()),
          ProtoTime.instant(r.getEnd()), reason(r.getReason(), "a no-fly window"), actor())).build();
    });
  }

  @Override
  public void listNoFlyWindows(ListNoFlyWindowsRequest r, StreamObserver<ListNoFlyWindowsResponse> out) {
    answer(out, () -> {
      if (!r.getPool().isEmpty() && gate.windows("", true).stream().noneMatch(w -> w.getPool().equals(r.getPool()))) {
        knownPool(r.getPool(), false); // a pool with windows of its own is known even before its nodes report
      }
      return ListNoFlyWindowsResponse.newBuilder().addAllWindows(gate.windows(r.getPool(), r.getIncludePast())).build();
    });
  }

  @Override
  public void removeNoFlyWindow(RemoveNoFlyWindowRequest r, StreamObserver<RemoveNoFlyWindowResponse> out) {
    answer(out, () -> RemoveNoFlyWindowResponse.newBuilder().setWindow(gate.removeWindow(id(r.getId()), r.getReason(), actor())
        .orElseThrow(() -> Status.NOT_FOUND.withDescription("no no-fly window '" + r.getId() + "'").asRuntimeException()))
        .build());
  }

  @Override
  public void getBudgets(GetBudgetsRequest r, StreamObserver<GetBudgetsResponse> out) {
    answer(out, () -> {
      if (!r.getPool().isEmpty() && gate.budgets(r.getPool()).isEmpty()) {
        knownPool(r.getPool(), false);
      }
      return GetBudgetsResponse.newBuilder().addAllBudgets(gate.budgets(r.getPool())).build();
    });
  }

  @Override
  public void setBudget(SetBudgetRequest r, StreamObserver<SetBudgetResponse> out) {
    answer(out, () -> {
      if (r.getPool().isBlank()) {
        throw Status.INVALID_ARGUMENT.withDescription("pool is required").asRuntimeException();
      }
      knownPool(r.getPool(), r.getNewPool());
      return SetBudgetResponse.newBuilder().setBudget(gate.setBudget(r.getPool(), (int) r.getMaxNodesOut(), r.getMaxPercentOut(),
          reason(r.getReason(), "a budget change"), actor())).build();
    });
  }

  @Override
  public void resetCircuitBreaker(ResetCircuitBreakerRequest r, StreamObserver<ResetCircuitBreakerResponse> out) {
    answer(out, () -> {
      if (r.getPool().isBlank()) {
        throw Status.INVALID_ARGUMENT.withDescription("pool is required").asRuntimeException();
      }
      knownPool(r.getPool(), false);
      return ResetCircuitBreakerResponse.newBuilder()
          .setBudget(gate.resetBreaker(r.getPool(), reason(r.getReason(), "a circuit breaker reset"), actor())).build();
    });
  }

  @Override
  public void watchGate(WatchGateRequest r, StreamObserver<WatchGateResponse> responses) {
    ServerCallStreamObserver<WatchGateResponse> call = (ServerCallStreamObserver<WatchGateResponse>) responses;
    Predicate<GateStatus> filter = filter(r.getNodeIdsList(), r.getPool());
    Watcher watcher = new Watcher(call, filter);
    ChangeFeed.Subscription subscription = gate.addListener(watcher);
    call.setOnCancelHandler(subscription::close);
    call.setOnReadyHandler(watcher::drain);
    if (r.getSendInitial()) {
      for (GateStatus s : gate.statuses(filter)) {
        watcher.changed(s, s.getAllocatable());
      }
    }
  }

  /** One watcher: gate status changes matching its filter, coalesced per node. */
  private static final class Watcher implements ReleaseGate.GateListener {
    private final CoalescingStream<String, WatchGateResponse> stream;
    private final Predicate<GateStatus> filter;

    Watcher(ServerCallStreamObserver<WatchGateResponse> call, Predicate<GateStatus> filter) {
      this.stream = new CoalescingStream<>(call,
          (older, newer) -> newer.toBuilder().setPreviouslyAllocatable(older.getPreviouslyAllocatable()).build());
      this.filter = filter;
    }

    @Override
    public void changed(GateStatus status, boolean previouslyAllocatable) {
      if (filter.test(status)) {
        stream.offer(status.getNodeId(),
            WatchGateResponse.newBuilder().setStatus(status).setPreviouslyAllocatable(previouslyAllocatable).build());
      }
    }

    void drain() {
      stream.drain();
    }
  }
}

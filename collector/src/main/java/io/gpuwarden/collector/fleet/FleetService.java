package io.gpuwarden.collector.fleet;

import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.collector.feed.ChangeFeed;

import io.gpuwarden.collector.CoalescingStream;
import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.GetNodeRequest;
import io.gpuwarden.proto.v1.GetNodeResponse;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.ListNodesRequest;
import io.gpuwarden.proto.v1.ListNodesResponse;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.WatchVerdictsRequest;
import io.gpuwarden.proto.v1.WatchVerdictsResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/** Serves the Fleet API from the {@link NodeRegistry}. */
public final class FleetService extends FleetServiceGrpc.FleetServiceImplBase {
  private final NodeRegistry registry;
  private final java.util.function.Function<String, java.util.Optional<io.gpuwarden.proto.v1.GateStatus>> gate;

  /** Creates the service over {@code registry}, without gate statuses. */
  public FleetService(NodeRegistry registry) {
    this(registry, id -> java.util.Optional.empty());
  }

  /** Creates the service over {@code registry}; each node carries its gate status from {@code gate}. */
  public FleetService(NodeRegistry registry,
      java.util.function.Function<String, java.util.Optional<io.gpuwarden.proto.v1.GateStatus>> gate) {
    this.registry = registry;
    this.gate = gate;
  }

  private Node withGate(Node n) {
    return gate.apply(n.getNodeId()).map(g -> n.toBuilder().setGate(g).build()).orElse(n);
  }

  @Override
  public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> responses) {
    if (!request.getPool().isEmpty()
        && registry.list(n -> n.getPool().equals(request.getPool()), false).isEmpty()) {
      // A typo'd pool must not look like an empty one.
      responses.onError(Status.NOT_FOUND.withDescription("no node has reported pool '" + request.getPool() + "'")
          .asRuntimeException());
      return;
    }
    Predicate<Node> filter = matches(request.getPool(), request.getLabelSelectorMap(), Set.copyOf(request.getNodeIdsList()));
    responses.onNext(ListNodesResponse.newBuilder()
        .addAllNodes(registry.list(filter, !request.getSummaryOnly()).stream().map(this::withGate).toList())
        .build());
    responses.onCompleted();
  }

  @Override
  public void getNode(GetNodeRequest request, StreamObserver<GetNodeResponse> responses) {
    if (request.getNodeId().isEmpty()) {
      responses.onError(Status.INVALID_ARGUMENT.withDescription("node_id is required").asRuntimeException());
      return;
    }
    registry.get(request.getNodeId(), true).ifPresentOrElse(
        node -> {
          responses.onNext(GetNodeResponse.newBuilder().setNode(withGate(node)).build());
          responses.onCompleted();
        },
        () -> responses.onError(Status.NOT_FOUND
            .withDescription("node '" + request.getNodeId() + "' is not known to this collector")
            .asRuntimeException()));
  }

  @Override
  public void watchVerdicts(WatchVerdictsRequest request, StreamObserver<WatchVerdictsResponse> responses) {
    ServerCallStreamObserver<WatchVerdictsResponse> call = (ServerCallStreamObserver<WatchVerdictsResponse>) responses;
    Predicate<Node> filter = matches(request.getPool(), Map.of(), Set.copyOf(request.getNodeIdsList()));
    VerdictWatcher watcher = new VerdictWatcher(call, filter);
    ChangeFeed.Subscription subscription = registry.feed().subscribe(change -> {
      if (change instanceof Change.VerdictChanged v) {
        watcher.verdictChanged(v.node(), v.previous());
      }
    });
    call.setOnCancelHandler(subscription::close);
    call.setOnReadyHandler(watcher::drain);
    if (request.getSendInitial()) {
      for (Node node : registry.list(filter, false)) {
        watcher.verdictChanged(node, HealthState.HEALTH_STATE_UNSPECIFIED);
      }
    }
  }

  static Predicate<Node> matches(String pool, Map<String, String> labels, Set<String> ids) {
    return node -> (pool.isEmpty() || pool.equals(node.getPool()))
        && (ids.isEmpty() || ids.contains(node.getNodeId()))
        && labels.entrySet().stream().allMatch(e -> e.getValue().equals(node.getLabelsMap().get(e.getKey())));
  }

  /** One watcher: verdict changes matching its filter, coalesced per node. */
  private static final class VerdictWatcher {
    private final CoalescingStream<String, WatchVerdictsResponse> stream;
    private final Predicate<Node> filter;

    VerdictWatcher(ServerCallStreamObserver<WatchVerdictsResponse> call, Predicate<Node> filter) {
      this.stream = new CoalescingStream<>(call,
          (older, newer) -> newer.toBuilder().setPreviousState(older.getPreviousState()).build());
      this.filter = filter;
    }

    void verdictChanged(Node node, HealthState previous) {
      if (filter.test(node)) {
        stream.offer(node.getNodeId(), WatchVerdictsResponse.newBuilder().setNodeId(node.getNodeId()).setPool(node.getPool())
            .setVerdict(node.getVerdict()).setPreviousState(previous).build());
      }
    }

    void drain() {
      stream.drain();
    }
  }
}

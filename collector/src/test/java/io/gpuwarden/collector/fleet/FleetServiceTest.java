package io.gpuwarden.collector.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.MutableClock;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.GetNodeRequest;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.ListNodesRequest;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.gpuwarden.proto.v1.WatchVerdictsRequest;
import io.gpuwarden.proto.v1.WatchVerdictsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FleetServiceTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
  private CollectorServer server;
  private ManagedChannel channel;
  private FleetServiceGrpc.FleetServiceBlockingStub fleet;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = CollectorServer.create(InProcessServerBuilder.forName(name), CollectorConfig.defaults(), clock).start();
    channel = InProcessChannelBuilder.forName(name).build();
    fleet = FleetServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  private NodeRegistry.Session connect(String node, String pool, String tenant) {
    return server.registry().hello(AgentHello.newBuilder().setNodeId(node).setPool(pool).setStreamId("s-" + node)
        .setBootId("b").putLabels("tenant", tenant).build());
  }

  @Test
  void listFiltersByPoolAndLabelsAndOrdersById() {
    server.registry().apply(connect("n2", "a", "t1"), TelemetryBatch.newBuilder().setSequence(1).build());
    connect("n1", "a", "t2");
    connect("n3", "b", "t1");

    assertThat(fleet.listNodes(ListNodesRequest.getDefaultInstance()).getNodesList())
        .extracting(n -> n.getNodeId()).containsExactly("n1", "n2", "n3");
    assertThat(fleet.listNodes(ListNodesRequest.newBuilder().setPool("a").build()).getNodesList())
        .extracting(n -> n.getNodeId()).containsExactly("n1", "n2");
    assertThat(fleet.listNodes(ListNodesRequest.newBuilder().putLabelSelector("tenant", "t1").build()).getNodesList())
        .extracting(n -> n.getNodeId()).containsExactly("n2", "n3");
  }

  @Test
  void getUnknownNodeIsNotFoundNamingTheNode() {
    assertThatThrownBy(() -> fleet.getNode(GetNodeRequest.newBuilder().setNodeId("ghost").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("'ghost'");
        });
  }

  @Test
  void watchStreamsTheInitialVerdictThenTheChangeToUnknownWhenTelemetryStops() throws Exception {
    NodeRegistry.Session s = connect("n1", "a", "t1");
    server.registry().apply(s, TelemetryBatch.newBuilder().setSequence(1).build());
    BlockingQueue<WatchVerdictsResponse> seen = new LinkedBlockingQueue<>();
    FleetServiceGrpc.newStub(channel).watchVerdicts(WatchVerdictsRequest.newBuilder().setSendInitial(true).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(WatchVerdictsResponse value) {
            seen.add(value);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    WatchVerdictsResponse initial = seen.poll(5, TimeUnit.SECONDS);
    assertThat(initial).isNotNull();
    assertThat(initial.getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);

    clock.advance(Duration.ofSeconds(11));
    server.registry().reevaluateAll();

    WatchVerdictsResponse change = seen.poll(5, TimeUnit.SECONDS);
    assertThat(change).isNotNull();
    assertThat(change.getNodeId()).isEqualTo("n1");
    assertThat(change.getPreviousState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(change.getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_UNKNOWN);

    // The stale verdict's age grows every evaluation; that alone is not a change.
    clock.advance(Duration.ofSeconds(5));
    server.registry().reevaluateAll();
    assertThat(seen.poll(300, TimeUnit.MILLISECONDS)).isNull();
  }
}

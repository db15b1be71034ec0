package io.gpuwarden.collector.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GetHistoryRequest;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HoldRequest;
import io.gpuwarden.proto.v1.LockRequest;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.gpuwarden.proto.v1.WatchGateRequest;
import io.gpuwarden.proto.v1.WatchGateResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gate over gRPC: admin identity, audited actor, refusals, errors and the allocatable stream. */
class GateServiceTest {
  @TempDir
  Path dir;

  private CollectorServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    Files.writeString(dir.resolve("tokens"), "# admins\nalice 0123456789abcdef0123\nbob   fedcba9876543210fedc\n");
    server = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0).withDataDir(dir.resolve("data"))
        .withAdminTokens(dir.resolve("tokens")), Clock.systemUTC()).start();
    channel = NettyChannelBuilder.forTarget("127.0.0.1:" + server.port()).usePlaintext().build();
    for (int i = 1; i <= 3; i++) {
      String id = "g-" + i;
      var session = server.registry().hello(AgentHello.newBuilder().setNodeId(id).setPool("g").setBootId("b").setStreamId(id).build());
      server.registry().apply(session, TelemetryBatch.newBuilder().setSequence(1)
          .addCheckResults(CheckResult.newBuilder().setCheck("c").setState(HealthState.HEALTH_STATE_HEALTHY)).build());
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> server.gate().statuses(s -> true).size() == 3);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  private GateServiceGrpc.GateServiceBlockingStub stub(String token) {
    GateServiceGrpc.GateServiceBlockingStub s = GateServiceGrpc.newBlockingStub(channel);
    if (token != null) {
      Metadata m = new Metadata();
      m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
      s = s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
    }
    return s;
  }

  @Test
  void unknownNodesAndPoolsAreNotFoundNamingThem() {
    String admin = "0123456789abcdef0123";
    assertThat(stub(admin).lock(LockRequest.newBuilder().addNodeIds("g-1x").setReason("x").build()).getResults(0))
        .satisfies(r -> {
          assertThat(r.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_NOT_FOUND);
          assertThat(r.getMessage()).contains("no such node");
        });
    assertThat(stub(admin).hold(HoldRequest.newBuilder().setNodeId("nope").setReason("x").build()).getResult().getOutcome())
        .isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_NOT_FOUND);
    assertThatThrownBy(() -> stub(null).getGate(io.gpuwarden.proto.v1.GetGateRequest.newBuilder().addNodeIds("g-1")
        .addNodeIds("g-9").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("no such node: g-9");
        });
    assertThatThrownBy(() -> stub(null).getGate(io.gpuwarden.proto.v1.GetGateRequest.newBuilder().setPool("gg").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

    // A window or budget for a pool no node reported is a typo unless the operator says the pool is new.
    var start = com.google.protobuf.Timestamp.newBuilder().setSeconds(java.time.Instant.now().getEpochSecond() + 60);
    var end = com.google.protobuf.Timestamp.newBuilder().setSeconds(java.time.Instant.now().getEpochSecond() + 3600);
    var window = io.gpuwarden.proto.v1.AddNoFlyWindowRequest.newBuilder().setPool("gg").setStart(start).setEnd(end)
        .setReason("freeze");
    assertThatThrownBy(() -> stub(admin).addNoFlyWindow(window.build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("no node has reported pool 'gg'").contains("known pools: g");
        });
    assertThat(server.gate().windows("", true)).isEmpty();
    assertThat(stub(admin).addNoFlyWindow(window.setNewPool(true).build()).getWindow().getPool()).isEqualTo("gg");
    var budget = io.gpuwarden.proto.v1.SetBudgetRequest.newBuilder().setPool("gx").setMaxNodesOut(1).setReason("r");
    assertThatThrownBy(() -> stub(admin).setBudget(budget.build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThat(stub(admin).setBudget(budget.setNewPool(true).build()).getBudget().getPool()).isEqualTo("gx");
    assertThat(stub(admin).setBudget(budget.setPool("g").setNewPool(false).build()).getBudget().getMaxNodesOut()).isEqualTo(1);
  }

  @Test
  void aNoFlyRefusalGivesTheWindowsEndAsIso8601() {
    String admin = "0123456789abcdef0123";
    var now = java.time.Instant.now();
    java.time.Instant endAt = now.plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    stub(admin).addNoFlyWindow(io.gpuwarden.proto.v1.AddNoFlyWindowRequest.newBuilder().setPool("g")
        .setStart(com.google.protobuf.Timestamp.newBuilder().setSeconds(now.getEpochSecond() - 1))
        .setEnd(com.google.protobuf.Timestamp.newBuilder().setSeconds(endAt.getEpochSecond())).setReason("launch").build());
    assertThat(stub(admin).lock(LockRequest.newBuilder().addNodeIds("g-2").setReason("x").build()).getResults(0).getMessage())
        .contains("until " + endAt);
  }

  @Test
  void mutationsNeedAKnownAdminTokenAndReadsDoNot() {
    LockRequest lock = LockRequest.newBuilder().addNodeIds("g-1").setReason("x").build();
    assertThatThrownBy(() -> stub(null).lock(lock)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(e.getStatus().getDescription()).contains("admin token");
    });
    assertThatThrownBy(() -> stub("not-a-token-at-all").lock(lock)).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getDescription()).isEqualTo("unknown admin token"));
    assertThat(server.gate().status("g-1").orElseThrow().getState()).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(stub(null).getGate(io.gpuwarden.proto.v1.GetGateRequest.getDefaultInstance()).getStatusesCount()).isEqualTo(3);
  }

  @Test
  void theAuditRecordsWhoDidItAndAReasonIsRequired() {
    assertThatThrownBy(() -> stub("0123456789abcdef0123").hold(HoldRequest.newBuilder().setNodeId("g-2").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("needs a reason");
        });
    var result = stub("0123456789abcdef0123").lock(LockRequest.newBuilder().addNodeIds("g-1").setReason("swap NIC").build());
    assertThat(result.getResults(0).getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    var history = stub(null).getHistory(GetHistoryRequest.newBuilder().setNodeId("g-1").build());
    assertThat(history.getEntriesList()).filteredOn(e -> e.hasTransition()).singleElement().satisfies(e -> {
      assertThat(e.getTransition().getActor()).isEqualTo("alice");
      assertThat(e.getTransition().getReason()).isEqualTo("swap NIC");
    });
    assertThatThrownBy(() -> stub(null).getHistory(GetHistoryRequest.newBuilder().setNodeId("nope").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void watchGateStreamsAllocatableChanges() {
    List<WatchGateResponse> seen = new CopyOnWriteArrayList<>();
    GateServiceGrpc.newStub(channel).watchGate(WatchGateRequest.newBuilder().setPool("g").setSendInitial(true).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(WatchGateResponse r) {
            seen.add(r);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    await().atMost(Duration.ofSeconds(5)).until(() -> seen.stream().filter(r -> r.getStatus().getNodeId().equals("g-3"))
        .anyMatch(r -> r.getStatus().getAllocatable()));
    stub("fedcba9876543210fedc").lock(LockRequest.newBuilder().addNodeIds("g-3").setReason("x").build());
    await().atMost(Duration.ofSeconds(1)).until(() -> seen.stream().anyMatch(r -> r.getStatus().getNodeId().equals("g-3")
        && r.getStatus().getState() == GateState.GATE_STATE_LOCKED && !r.getStatus().getAllocatable() && r.getPreviouslyAllocatable()));
  }
}

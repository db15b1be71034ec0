package io.gpuwarden.collector.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.MutableClock;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.PreviewRequest;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestServiceTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
  private CollectorServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = CollectorServer.create(InProcessServerBuilder.forName(name), CollectorConfig.defaults(), clock).start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  /** A raw ingest stream that records what the collector answers. */
  private final class Stream implements StreamObserver<IngestResponse> {
    final BlockingQueue<IngestResponse> responses = new LinkedBlockingQueue<>();
    final BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
    final StreamObserver<IngestRequest> requests = IngestServiceGrpc.newStub(channel).ingest(this);

    @Override
    public void onNext(IngestResponse value) {
      responses.add(value);
    }

    @Override
    public void onError(Throwable t) {
      errors.add(t);
    }

    @Override
    public void onCompleted() {}

    IngestResponse next() throws InterruptedException {
      IngestResponse r = responses.poll(5, TimeUnit.SECONDS);
      assertThat(r).as("a response within 5 s (errors: %s)", errors).isNotNull();
      return r;
    }

    /** Reads answers until an ack of {@code sequence} or more: acks are cumulative and sent once batches are durable. */
    long ackAtLeast(long sequence) throws InterruptedException {
      while (true) {
        IngestResponse r = next();
        if (r.hasAck() && r.getAck().getAcknowledgedSequence() >= sequence) {
          return r.getAck().getAcknowledgedSequence();
        }
      }
    }

    Status error() throws InterruptedException {
      Throwable t = errors.poll(5, TimeUnit.SECONDS);
      assertThat(t).as("an error within 5 s").isNotNull();
      return Status.fromThrowable(t);
    }

    void send(IngestRequest r) {
      requests.onNext(r);
    }
  }

  private static IngestRequest hello(String node, String stream) {
    return IngestRequest.newBuilder().setHello(AgentHello.newBuilder()
        .setNodeId(node).setPool("p1").setBootId("boot-1").setStreamId(stream)).build();
  }

  private static IngestRequest batch(long seq, int temperature) {
    return IngestRequest.newBuilder().setBatch(TelemetryBatch.newBuilder()
        .setSequence(seq)
        .addGpuSamples(GpuSample.newBuilder().setGpuUuid("GPU-a").setIndex(0).setTemperatureCelsius(temperature))).build();
  }

  private static CheckResult xid(HealthState state) {
    CheckResult.Builder c = CheckResult.newBuilder().setCheck("xid").setState(state);
    if (state != HealthState.HEALTH_STATE_HEALTHY) {
      c.addReasons(Reason.newBuilder().setCheck("xid").setState(state).setMessage("Xid 79 on GPU 3: fallen off the bus"));
    }
    return c.build();
  }

  private static IngestRequest batch(long seq, HealthState xidState) {
    return IngestRequest.newBuilder().setBatch(batch(seq, 40).getBatch().toBuilder().addCheckResults(xid(xidState))).build();
  }

  private static PreviewRequest preview(String node, String stream, long seq, HealthState xidState) {
    return PreviewRequest.newBuilder().setNodeId(node).setStreamId(stream).setSequence(seq)
        .addCheckResults(xid(xidState)).build();
  }

  private HealthState verdict(String node) {
    return server.registry().get(node, false).orElseThrow().getVerdict().getState();
  }

  @Test
  void aPreviewJudgesTheNodeAtOnceAndOlderBatchesDoNotUndoIt() throws Exception {
    Stream s = new Stream();
    s.send(hello("n1", "stream-1"));
    s.next();
    s.send(batch(1, HealthState.HEALTH_STATE_HEALTHY));
    s.ackAtLeast(1);
    assertThat(verdict("n1")).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);

    // Batch 4 is a fault still behind batches 2 and 3 on the agent's stream.
    var stub = IngestServiceGrpc.newBlockingStub(channel);
    assertThat(stub.preview(preview("n1", "stream-1", 4, HealthState.HEALTH_STATE_UNHEALTHY)).getHeld()).isTrue();
    assertThat(verdict("n1")).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(server.registry().get("n1", true).orElseThrow().getCheckResultsList())
        .anySatisfy(c -> assertThat(c.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY));
    assertThat(server.registry().get("n1", false).orElseThrow().getLastSequence()).as("a preview applies no batch").isEqualTo(1);

    s.send(batch(2, HealthState.HEALTH_STATE_HEALTHY));
    s.send(batch(3, HealthState.HEALTH_STATE_HEALTHY));
    s.ackAtLeast(3);
    assertThat(verdict("n1")).as("the older batches' healthy xid check does not stand for the previewed one")
        .isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);

    s.send(batch(4, HealthState.HEALTH_STATE_UNHEALTHY));
    s.send(batch(5, HealthState.HEALTH_STATE_HEALTHY));
    s.ackAtLeast(5);
    assertThat(verdict("n1")).as("once the previewed batch is applied, later batches speak for the node")
        .isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(server.ingest().previewsHeld()).isEqualTo(1);
  }

  @Test
  void aPreviewOfAnEarlierBatchArrivingLateDoesNotUndoALaterOne() throws Exception {
    Stream s = new Stream();
    s.send(hello("n1", "stream-1"));
    s.next();
    s.send(batch(1, HealthState.HEALTH_STATE_HEALTHY));
    s.ackAtLeast(1);
    var stub = IngestServiceGrpc.newBlockingStub(channel);
    stub.preview(preview("n1", "stream-1", 5, HealthState.HEALTH_STATE_UNHEALTHY));
    assertThat(stub.preview(preview("n1", "stream-1", 4, HealthState.HEALTH_STATE_HEALTHY)).getHeld()).isTrue();
    assertThat(verdict("n1")).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    for (long seq = 2; seq <= 4; seq++) {
      s.send(batch(seq, HealthState.HEALTH_STATE_HEALTHY));
    }
    s.ackAtLeast(4);
    assertThat(verdict("n1")).as("batch 5's preview still stands after batch 4").isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
  }

  @Test
  void aPreviewOfAnAppliedBatchOrAnotherStreamIsNotHeld() throws Exception {
    Stream s = new Stream();
    s.send(hello("n1", "stream-1"));
    s.next();
    s.send(batch(1, HealthState.HEALTH_STATE_HEALTHY));
    s.send(batch(2, HealthState.HEALTH_STATE_HEALTHY));
    s.ackAtLeast(2);
    var stub = IngestServiceGrpc.newBlockingStub(channel);
    assertThat(stub.preview(preview("n1", "stream-1", 2, HealthState.HEALTH_STATE_UNHEALTHY)).getHeld()).isFalse();
    assertThat(stub.preview(preview("n1", "old-stream", 9, HealthState.HEALTH_STATE_UNHEALTHY)).getHeld()).isFalse();
    assertThat(stub.preview(preview("unknown-node", "stream-1", 9, HealthState.HEALTH_STATE_UNHEALTHY)).getHeld()).isFalse();
    assertThat(verdict("n1")).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(server.ingest().previewsNotHeld()).isEqualTo(3);
  }

  @Test
  void aHeldPreviewIsDroppedWhenTheAgentStartsANewStream() throws Exception {
    Stream s = new Stream();
    s.send(hello("n1", "stream-1"));
    s.next();
    s.send(batch(1, HealthState.HEALTH_STATE_HEALTHY));
    s.ackAtLeast(1);
    IngestServiceGrpc.newBlockingStub(channel).preview(preview("n1", "stream-1", 7, HealthState.HEALTH_STATE_UNHEALTHY));
    assertThat(verdict("n1")).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    s.requests.onCompleted();

    // Restarted without its spool: batch 7 of stream-1 will never come, the new stream's batches speak.
    Stream restarted = new Stream();
    restarted.send(hello("n1", "stream-2"));
    restarted.next();
    restarted.send(batch(1, HealthState.HEALTH_STATE_HEALTHY));
    restarted.ackAtLeast(1);
    assertThat(verdict("n1")).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void aMalformedPreviewIsInvalidArgument() {
    var stub = IngestServiceGrpc.newBlockingStub(channel);
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> stub.preview(PreviewRequest.newBuilder().setNodeId("n1").setStreamId("s").build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription()).contains("preview.sequence is 0");
    e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> stub.preview(PreviewRequest.newBuilder().setSequence(3).build()));
    assertThat(e.getStatus().getDescription()).contains("preview.node_id and preview.stream_id");
  }

  @Test
  void aPreviewForAnotherNodeThanTheTokensIsPermissionDenied(@TempDir Path tmp) throws Exception {
    Path tokens = Files.writeString(tmp.resolve("agent.tokens"), "gpu-001 0123456789abcdef0001\n");
    String name = InProcessServerBuilder.generateName();
    try (CollectorServer secured = CollectorServer.create(InProcessServerBuilder.forName(name),
        CollectorConfig.defaults().withAgentTokens(tokens), clock).start()) {
      ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
      try {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer 0123456789abcdef0001");
        var stub = IngestServiceGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
            () -> stub.preview(preview("gpu-002", "s", 3, HealthState.HEALTH_STATE_UNHEALTHY)));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(e.getStatus().getDescription()).isEqualTo("node id 'gpu-002' does not match token identity 'gpu-001'");
        assertThat(stub.preview(preview("gpu-001", "s", 3, HealthState.HEALTH_STATE_UNHEALTHY)).getHeld())
            .as("its own node: allowed (not held: no such stream)").isFalse();
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void replayedBatchIsAcknowledgedAgainButAppliedOnce() throws Exception {
    Stream s = new Stream();
    s.send(hello("n1", "stream-1"));
    assertThat(s.next().getHelloAccepted().getAcknowledgedSequence()).isZero();
    s.send(batch(1, 40));
    assertThat(s.next().getAck().getAcknowledgedSequence()).isEqualTo(1);
    s.send(batch(2, 41));
    assertThat(s.next().getAck().getAcknowledgedSequence()).isEqualTo(2);
    s.send(batch(2, 99)); // a replay of 2 with other content must not be applied
    assertThat(s.next().getAck().getAcknowledgedSequence()).isEqualTo(2);

    Node node = server.registry().get("n1", true).orElseThrow();
    assertThat(node.getGpuSamples(0).getTemperatureCelsius()).isEqualTo(41);
    assertThat(node.getLastSequence()).isEqualTo(2);
    assertThat(server.registry().stats("n1").orElseThrow().duplicateBatches()).isEqualTo(1);
  }

  @Test
  void reconnectingStreamLearnsWhereToResume() throws Exception {
    Stream first = new Stream();
    first.send(hello("n1", "stream-1"));
    first.next();
    first.send(batch(1, 40));
    first.send(batch(2, 40));
    first.send(batch(3, 40));
    assertThat(first.ackAtLeast(3)).isEqualTo(3);
    first.requests.onCompleted();

    Stream second = new Stream();
    second.send(hello("n1", "stream-1"));
    assertThat(second.next().getHelloAccepted().getAcknowledgedSequence()).isEqualTo(3);

    Stream restartedAgent = new Stream();
    restartedAgent.send(hello("n1", "stream-2"));
    assertThat(restartedAgent.next().getHelloAccepted().getAcknowledgedSequence()).isZero();
  }

  @Test
  void batchBeforeHelloIsRefusedWithFailedPrecondition() throws Exception {
    Stream s = new Stream();
    s.send(batch(1, 40));
    Status status = s.error();
    assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(status.getDescription()).contains("before the hello");
  }

  @Test
  void helloWithoutNodeIdIsRefusedWithASpecificMessage() throws Exception {
    Stream s = new Stream();
    s.send(hello("", "stream-1"));
    Status status = s.error();
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("node_id is empty");
  }

  @Test
  void helloWithInvalidNodeIdIsRefused() throws Exception {
    Stream s = new Stream();
    s.send(hello("bad node/id", "stream-1"));
    Status status = s.error();
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("'bad node/id' is invalid");
    assertThat(server.registry().size()).isZero();
  }

  @Test
  void closedStreamMarksNodeDisconnectedButKeepsItsData() throws Exception {
    Stream s = new Stream();
    s.send(hello("n1", "stream-1"));
    s.next();
    s.send(batch(1, 40));
    s.next();
    assertThat(server.registry().get("n1", false).orElseThrow().getConnected()).isTrue();
    s.requests.onCompleted();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
        .until(() -> !server.registry().get("n1", false).orElseThrow().getConnected());
    assertThat(server.registry().get("n1", true).orElseThrow().getGpuSamplesCount()).isEqualTo(1);
  }
}

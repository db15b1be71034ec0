package io.gpuwarden.collector.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.IngestLimits;
import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.gpuwarden.proto.v1.LogLine;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector pushes back instead of buffering: while it cannot apply a stream's batch it reads
 * nothing more of that stream, so the agent's sends stop at its HTTP/2 window (the batches stay with
 * the agent); and streams beyond the maximum are refused with RESOURCE_EXHAUSTED. Real gRPC over
 * loopback; no timing asserted.
 */
class IngestBackpressureTest {
  @TempDir
  Path dir;

  private CollectorServer server;
  private ManagedChannel channel;

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  private void start(IngestLimits limits) throws Exception {
    server = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0).withDataDir(dir.resolve("data"))
        .withIngest(limits), Clock.systemUTC()).start();
    channel = NettyChannelBuilder.forTarget("127.0.0.1:" + server.port()).usePlaintext().build();
  }

  /** An agent stream that sends batches only while gRPC says the collector is ready for them. */
  private final class Agent implements ClientResponseObserver<IngestRequest, IngestResponse> {
    final String node;
    volatile ClientCallStreamObserver<IngestRequest> requests;
    final BlockingQueue<IngestResponse> responses = new LinkedBlockingQueue<>();
    final BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
    final AtomicLong acked = new AtomicLong();
    long sent;

    Agent(String node) {
      this.node = node;
      IngestServiceGrpc.newStub(channel).ingest(this);
      requests.onNext(IngestRequest.newBuilder().setHello(AgentHello.newBuilder().setNodeId(node).setPool("p").setBootId("b")
          .setStreamId("s-" + node)).build());
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<IngestRequest> stream) {
      this.requests = stream;
    }

    @Override
    public void onNext(IngestResponse r) {
      responses.add(r);
      if (r.hasAck()) {
        acked.accumulateAndGet(r.getAck().getAcknowledgedSequence(), Math::max);
      }
    }

    @Override
    public void onError(Throwable t) {
      errors.add(t);
    }

    @Override
    public void onCompleted() {}

    /** Sends batches of about 10 KB while the stream is ready, up to {@code max}; returns how many it sent. */
    long sendWhileReady(int max) {
      while (sent < max && requests.isReady()) {
        TelemetryBatch.Builder b = TelemetryBatch.newBuilder().setSequence(++sent);
        for (int i = 0; i < 40; i++) {
          b.addLogLines(LogLine.newBuilder().setText("x".repeat(240)));
        }
        requests.onNext(IngestRequest.newBuilder().setBatch(b).build());
      }
      return sent;
    }
  }

  @Test
  void aCollectorThatCannotApplyStopsReadingAndTheAgentStopsSending() throws Exception {
    start(IngestLimits.defaults());
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong applied = new AtomicLong();
    server.feed().subscribe(c -> {
      if (c instanceof Change.BatchApplied b && b.nodeId().equals("slow")) {
        applied.incrementAndGet();
        try {
          release.await(); // the collector cannot keep up: this batch takes as long as the test wants
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    Agent agent = new Agent("slow");
    assertThat(agent.responses.poll(5, TimeUnit.SECONDS)).as("hello accepted").isNotNull();
    // The agent offers far more than the collector takes: sending stops once the window is full.
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      agent.sendWhileReady(10_000);
      return !agent.requests.isReady();
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> applied.get() == 1);
    // However long the agent keeps trying, nothing more goes out: the collector reads no more of it.
    for (int i = 0; i < 20; i++) {
      agent.sendWhileReady(10_000);
      Thread.sleep(25);
    }
    assertThat(agent.sent).as("sent before the collector stopped reading (window %d bytes)", IngestLimits.DEFAULT_WINDOW_BYTES)
        .isLessThan(64);
    assertThat(applied.get()).as("one batch in the collector at a time").isEqualTo(1);

    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      agent.sendWhileReady(200);
      return agent.acked.get() == 200;
    });
    assertThat(applied.get()).isEqualTo(200);
  }

  @Test
  void oneStreamStuckApplyingABatchDoesNotHoldBackTheOthersAcknowledgements() throws Exception {
    start(IngestLimits.defaults().withWorkers(2));
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong stuck = new AtomicLong();
    server.feed().subscribe(c -> {
      // After the journal heard it: the batch becomes durable while its stream is still applying it.
      if (c instanceof Change.BatchApplied b && b.nodeId().equals("stuck") && stuck.incrementAndGet() == 1) {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    try {
      Agent slow = new Agent("stuck");
      assertThat(slow.responses.poll(5, TimeUnit.SECONDS)).as("hello accepted").isNotNull();
      slow.sendWhileReady(1);
      await().atMost(Duration.ofSeconds(10)).until(() -> stuck.get() == 1);
      Agent other = new Agent("other");
      assertThat(other.responses.poll(5, TimeUnit.SECONDS)).as("hello accepted").isNotNull();
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        other.sendWhileReady(3);
        return other.acked.get() == 3;
      });
    } finally {
      release.countDown();
    }
  }

  @Test
  void aPreviewIsJudgedWhileEveryWorkerIsBusyWithBatches() throws Exception {
    start(IngestLimits.defaults().withWorkers(2));
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong busy = new AtomicLong();
    server.feed().subscribe(c -> {
      if (c instanceof Change.BatchApplied b && b.nodeId().startsWith("busy-")) {
        busy.incrementAndGet();
        try {
          release.await(); // each worker applying one of these is stuck until the test says
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    try {
      Agent faulty = new Agent("faulty");
      assertThat(faulty.responses.poll(5, TimeUnit.SECONDS)).as("hello accepted").isNotNull();
      faulty.sendWhileReady(1);
      await().atMost(Duration.ofSeconds(10)).until(() -> faulty.acked.get() == 1);
      // Both workers stuck applying batches: the collector's queue of work does not move.
      Agent busy1 = new Agent("busy-1");
      Agent busy2 = new Agent("busy-2");
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        busy1.sendWhileReady(2);
        busy2.sendWhileReady(2);
        return busy.get() == 2;
      });
      io.gpuwarden.proto.v1.PreviewResponse answer = IngestServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .preview(io.gpuwarden.proto.v1.PreviewRequest.newBuilder().setNodeId("faulty").setStreamId("s-faulty").setSequence(2)
              .addCheckResults(io.gpuwarden.proto.v1.CheckResult.newBuilder().setCheck("xid")
                  .setState(io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_UNHEALTHY)).build());
      assertThat(answer.getHeld()).isTrue();
      assertThat(server.registry().get("faulty", false).orElseThrow().getVerdict().getState())
          .isEqualTo(io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_UNHEALTHY);
    } finally {
      release.countDown();
    }
  }

  @Test
  void streamsBeyondTheMaximumAreRefusedWithRetryLater() throws Exception {
    start(IngestLimits.defaults().withMaxAgents(2));
    Agent a = new Agent("a");
    Agent b = new Agent("b");
    assertThat(a.responses.poll(5, TimeUnit.SECONDS)).isNotNull();
    assertThat(b.responses.poll(5, TimeUnit.SECONDS)).isNotNull();
    Agent c = new Agent("c");
    Throwable refused = c.errors.poll(5, TimeUnit.SECONDS);
    assertThat(Status.fromThrowable(refused).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(Status.fromThrowable(refused).getDescription()).contains("at most 2 agent streams").contains("retry later");
    assertThat(server.ingest().refusedStreams()).isEqualTo(1);

    a.requests.onCompleted();
    await().atMost(Duration.ofSeconds(5)).until(() -> server.ingest().openStreams() == 1);
    Agent d = new Agent("d");
    IngestResponse accepted = d.responses.poll(5, TimeUnit.SECONDS);
    assertThat(accepted).as("a slot freed: the next agent is served").isNotNull();
    assertThat(accepted.hasHelloAccepted()).isTrue();
  }
}

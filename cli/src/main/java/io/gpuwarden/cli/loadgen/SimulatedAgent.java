package io.gpuwarden.cli.loadgen;

import io.gpuwarden.agent.uplink.IngestUplink;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.gpuwarden.proto.v1.PreviewResponse;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One simulated agent: its own connection and ingest stream to the collector, a hello with its
 * node's inventory, then batches numbered from 1, as the real agent's uplink sends them.
 *
 * <p>Like the agent it keeps every batch until the collector acknowledges it: what it made waits in
 * a backlog of at most {@code backlog} batches and is written only while the stream is ready (gRPC
 * flow control), so a collector that stops reading slows this agent down; a full backlog makes it
 * skip making batches (counted as held back: the agents were slowed, nothing is lost). A stream the
 * collector refuses (RESOURCE_EXHAUSTED) or that breaks is opened again after an exponential backoff
 * with jitter, and sending resumes after the sequence the collector's hello names. A batch is
 * acknowledged with every batch up to the acknowledged sequence; its latency is counted from when it
 * was made. The fault batch is made even when the backlog is full (one place is kept for it, as a
 * real agent spools it on disk), and when batches before it are still unacknowledged it is also
 * previewed ({@code IngestService.Preview}, on a connection apart from the stream's), as the
 * agent's uplink does. Thread-safe: made on the pacer's thread, answered on the transport's.
 */
final class SimulatedAgent {
  private static final byte NORMAL = 0;
  private static final byte APP_XID = 1;
  private static final byte FAULT = 2;
  private static final long FIRST_BACKOFF_MILLIS = 100;

  private final int ordinal;
  private final String nodeId;
  private final LoadSettings settings;
  private final BatchTemplates templates;
  private final ManagedChannel channel;
  private final ManagedChannel previewChannel;
  private final ScheduledExecutorService retries;
  private final LoadStats stats;
  private final byte[] hello;
  private final String streamId;
  private final long[] madeAt;
  private final byte[] kinds;
  private long nextSequence = 1;
  private long sentUpTo;
  private long acknowledged;
  private long faultSequence;
  private Attempt attempt;
  private boolean connected;
  private boolean closed;
  private long backoffMillis = FIRST_BACKOFF_MILLIS;

  SimulatedAgent(int ordinal, LoadSettings settings, BatchTemplates templates, ManagedChannel channel,
      ManagedChannel previewChannel, ScheduledExecutorService retries, LoadStats stats) {
    this.previewChannel = previewChannel;
    this.ordinal = ordinal;
    this.nodeId = settings.nodeId(ordinal);
    this.settings = settings;
    this.templates = templates;
    this.channel = channel;
    this.retries = retries;
    this.stats = stats;
    this.madeAt = new long[settings.backlog() + 1]; // one more for the fault batch
    this.kinds = new byte[settings.backlog() + 1];
    this.streamId = java.util.UUID.randomUUID().toString();
    this.hello = IngestRequest.newBuilder().setHello(AgentHello.newBuilder()
        .setNodeId(nodeId)
        .setPool(settings.pool())
        .setBootId(templates.bootId())
        .setAgentVersion("loadgen")
        .setInventory(templates.inventoryOf(ordinal))
        .setStreamId(streamId)
        .setAgentStartedAt(ProtoTime.of(Instant.now()))
        .setSampleInterval(ProtoTime.of(Duration.ofSeconds(1))))
        .build().toByteArray();
  }

  String nodeId() {
    return nodeId;
  }

  /** Opens the stream (again); a no-op once closed. */
  synchronized void connect() {
    if (closed) {
      return;
    }
    Attempt a = new Attempt();
    attempt = a;
    connected = false;
    ClientCalls.asyncBidiStreamingCall(channel.newCall(RawIngestMethod.INGEST, CallOptions.DEFAULT), a);
    a.stream.onNext(hello);
  }

  /** Makes {@code count} batches at {@code nanos} (System.nanoTime) and sends what the stream takes. */
  synchronized void make(int count, long nanos) {
    for (int i = 0; i < count; i++) {
      byte kind = settings.xidEvery() > 0 && Math.floorMod(nextSequence * 7919 + ordinal, settings.xidEvery()) == 0
          ? APP_XID : NORMAL;
      add(kind, nanos);
    }
    pump();
  }

  /**
   * Makes the batch in which GPU 3 reports Xid 79 (once per agent: it stays UNHEALTHY after), and
   * previews it when batches before it wait; returns true, or false when it faulted already (or,
   * rarely, the fault's place in the backlog is taken).
   */
  synchronized boolean makeFault(long nanos) {
    if (faultSequence != 0 || !add(FAULT, nanos)) {
      return false;
    }
    faultSequence = nextSequence - 1;
    pump();
    if (connected && acknowledged < faultSequence - 1) {
      preview(faultSequence);
    }
    return true;
  }

  /** Sends the preview of batch {@code sequence}: its check results and its events of WARNING or worse. */
  private void preview(long sequence) {
    TelemetryBatch batch;
    try {
      batch = IngestRequest.parseFrom(template(sequence).request(ordinal, System.currentTimeMillis() / 1000, sequence))
          .getBatch();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("a batch this load generator made does not parse", e);
    }
    stats.previews.increment();
    long sent = System.nanoTime();
    IngestServiceGrpc.newStub(previewChannel)
        .withDeadlineAfter(IngestUplink.PREVIEW_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).preview(
        IngestUplink.previewOf(nodeId, streamId, sequence, batch),
        new io.grpc.stub.StreamObserver<PreviewResponse>() {
          @Override
          public void onNext(PreviewResponse value) {
            stats.previewAnswered.record((System.nanoTime() - sent) / 1000);
          }

          @Override
          public void onError(Throwable t) {
            stats.previewsFailed.increment();
          }

          @Override
          public void onCompleted() {}
        });
  }

  private boolean add(byte kind, long nanos) {
    if (nextSequence - 1 - acknowledged >= (kind == FAULT ? madeAt.length : madeAt.length - 1)) {
      stats.heldBack.increment();
      return false;
    }
    int slot = slot(nextSequence);
    madeAt[slot] = nanos;
    kinds[slot] = kind;
    nextSequence++;
    stats.generated.increment();
    return true;
  }

  /** Writes batches while the stream is ready for them. */
  private void pump() {
    if (!connected || closed) {
      return;
    }
    ClientCallStreamObserver<byte[]> stream = attempt.stream;
    long seconds = System.currentTimeMillis() / 1000;
    while (sentUpTo < nextSequence - 1 && stream.isReady()) {
      long sequence = ++sentUpTo;
      stream.onNext(template(sequence).request(ordinal, seconds, sequence));
      stats.sent.increment();
    }
  }

  private PatchableBatch template(long sequence) {
    byte kind = kinds[slot(sequence)];
    if (kind == FAULT) {
      return templates.fault();
    }
    if (faultSequence != 0 && sequence > faultSequence) {
      return pick(templates.faulted(), sequence);
    }
    if (kind == APP_XID) {
      return templates.appXid();
    }
    return switch (settings.shape()) {
      case SMALL -> pick(templates.small(), sequence);
      case LARGE -> pick(templates.large(), sequence);
      case MIXED -> sequence % 10 == 1 ? pick(templates.large(), sequence) : pick(templates.small(), sequence);
    };
  }

  private static PatchableBatch pick(java.util.List<PatchableBatch> list, long sequence) {
    return list.get((int) (sequence % list.size()));
  }

  private int slot(long sequence) {
    return (int) (sequence % madeAt.length);
  }

  private synchronized void accepted(Attempt a, long resume) {
    if (a != attempt || closed) {
      return;
    }
    acknowledge(resume);
    if (sentUpTo > acknowledged) {
      stats.resent.add(sentUpTo - acknowledged);
    }
    sentUpTo = acknowledged;
    connected = true;
    backoffMillis = FIRST_BACKOFF_MILLIS;
    pump();
  }

  private synchronized void acked(Attempt a, long sequence) {
    if (a != attempt) {
      return;
    }
    acknowledge(sequence);
    pump();
  }

  private void acknowledge(long upTo) {
    long now = System.nanoTime();
    long last = Math.min(upTo, nextSequence - 1);
    for (long s = acknowledged + 1; s <= last; s++) {
      stats.acknowledged((now - madeAt[slot(s)]) / 1000);
    }
    acknowledged = Math.max(acknowledged, last);
  }

  private synchronized void ended(Attempt a, Status status) {
    if (a != attempt || closed) {
      return;
    }
    connected = false;
    if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
      stats.refused.increment();
    } else {
      stats.broken.increment();
    }
    long delay = ThreadLocalRandom.current().nextLong(backoffMillis / 2, backoffMillis + 1);
    backoffMillis = Math.min(backoffMillis * 2, settings.maxBackoff().toMillis());
    try {
      retries.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  /** Returns the number of batches made and not yet acknowledged. */
  synchronized long unacknowledged() {
    return nextSequence - 1 - acknowledged;
  }

  /** Returns true while the collector has accepted this agent's current stream. */
  synchronized boolean connected() {
    return connected;
  }

  /** Ends the stream (half-close: the collector completes it) and stops reconnecting. */
  synchronized void close() {
    closed = true;
    connected = false;
    if (attempt != null) {
      try {
        attempt.stream.onCompleted();
      } catch (RuntimeException e) {
        // already ended
      }
    }
  }

  /** One stream of this agent: its callbacks count only while it is the current one. */
  private final class Attempt implements ClientResponseObserver<byte[], IngestResponse> {
    private ClientCallStreamObserver<byte[]> stream;

    @Override
    public void beforeStart(ClientCallStreamObserver<byte[]> requestStream) {
      this.stream = requestStream;
      requestStream.setOnReadyHandler(() -> {
        synchronized (SimulatedAgent.this) {
          if (attempt == this) {
            pump();
          }
        }
      });
    }

    @Override
    public void onNext(IngestResponse r) {
      switch (r.getMessageCase()) {
        case HELLO_ACCEPTED -> accepted(this, r.getHelloAccepted().getAcknowledgedSequence());
        case ACK -> acked(this, r.getAck().getAcknowledgedSequence());
        default -> { } // pushback and config: the load generator keeps its own pace
      }
    }

    @Override
    public void onError(Throwable t) {
      ended(this, Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      ended(this, Status.UNAVAILABLE.withDescription("the collector completed the stream"));
    }
  }
}

package io.gpuwarden.agent.uplink;

import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.gpuwarden.proto.v1.PreviewRequest;
import io.gpuwarden.proto.v1.PreviewResponse;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The agent's end of the ingest stream.
 *
 * <p>Batches get consecutive sequence numbers and stay in a bounded {@link Spool} (memory, then
 * disk) until the collector acknowledges them; after a reconnect, or a restart of the agent on the
 * same spool, the collector's {@code HelloAccepted} says where to resume and everything after it
 * is sent again (the collector applies each sequence once). Sending respects gRPC flow control:
 * nothing is written while the transport is not ready, so a slow collector fills the spool instead
 * of the heap. What the spool has to drop is counted and reported in the batches themselves.
 * A batch may also wait in the spool to be sent with later ones ({@link #submit(TelemetryBatch,
 * boolean)}; see {@link SendSchedule}).
 *
 * <p>A batch that matters at once (its checks changed, or it carries an event) but waits behind
 * earlier unacknowledged ones, because the collector is behind, is also {@linkplain
 * #submit(TelemetryBatch, boolean, boolean) previewed}: its check results and notable events go
 * ahead in a separate {@code Preview} call on a connection of its own, which does not wait in the
 * stream's flow-control window, so the collector judges the node now; the batch follows in order as
 * always.
 *
 * <p>Thread-safe: all state is guarded by {@code this}.
 */
public final class IngestUplink implements AutoCloseable {
  private static final Logger log = Logger.getLogger(IngestUplink.class.getName());
  /** How long a preview may take; past it the batch itself will tell the collector anyway. */
  public static final Duration PREVIEW_DEADLINE = Duration.ofSeconds(10);

  private final IngestServiceGrpc.IngestServiceStub stub;
  private final IngestServiceGrpc.IngestServiceStub previewStub;
  private AgentHello hello;
  private final ScheduledExecutorService scheduler;
  private final Backoff backoff;
  private final Spool spool;

  private long acknowledged;
  private Duration collectorStaleAfter;
  private long lastSent;
  private long reconnects;
  private ClientCallStreamObserver<IngestRequest> call;
  private boolean accepted;
  private boolean closed;
  private String lastError = "";
  private long failuresSinceConnected;
  private long lastWarningNanos;
  private String lastWarnedError = "";
  private long previewsSent;
  private long previewsFailed;

  /**
   * Creates an uplink; call {@link #start()} to connect.
   *
   * @param channel channel to the collector
   * @param hello the hello sent first on every stream
   * @param scheduler runs reconnect timers
   * @param backoff reconnect backoff
   * @param spool keeps the unacknowledged batches and numbers them; the hello's stream id must be
   *     {@link Spool#streamId()}. Closed with the uplink.
   */
  public IngestUplink(Channel channel, AgentHello hello, ScheduledExecutorService scheduler, Backoff backoff, Spool spool) {
    this(channel, channel, hello, scheduler, backoff, spool);
  }

  /**
   * Creates an uplink that sends its previews on {@code previewChannel}: best a connection of its
   * own, since a collector that is behind leaves the stream's bytes unread and with them the
   * connection's flow-control window, which a preview on the same connection waits for.
   */
  public IngestUplink(Channel channel, Channel previewChannel, AgentHello hello, ScheduledExecutorService scheduler,
      Backoff backoff, Spool spool) {
    this.stub = IngestServiceGrpc.newStub(channel);
    this.previewStub = IngestServiceGrpc.newStub(previewChannel);
    this.hello = hello;
    this.scheduler = scheduler;
    this.backoff = backoff;
    this.spool = spool;
  }

  /** Opens the stream. */
  public synchronized void start() {
    connect();
  }

  /**
   * Queues a batch for delivery, giving it the next sequence number.
   *
   * @param batch the batch without sequence (any sequence set is replaced)
   * @return the sequence number given
   */
  public synchronized long submit(TelemetryBatch batch) {
    return submit(batch, true);
  }

  /**
   * Queues a batch for delivery, giving it the next sequence number, and sends it with every batch
   * still waiting when {@code sendNow}; otherwise it waits for a later send.
   *
   * @param batch the batch without sequence (any sequence set is replaced)
   * @return the sequence number given
   */
  public synchronized long submit(TelemetryBatch batch, boolean sendNow) {
    return submit(batch, sendNow, false);
  }

  /**
   * Queues a batch as {@link #submit(TelemetryBatch, boolean)} does and, when {@code preview} and
   * batches before it are still unacknowledged on a connected stream, sends the collector a preview
   * of it (its check results and its events of WARNING or worse) in a separate call, so that its
   * verdict does not wait for the backlog. A preview that fails is only counted: the batch follows.
   *
   * @return the sequence number given
   */
  public synchronized long submit(TelemetryBatch batch, boolean sendNow, boolean preview) {
    if (closed) {
      throw new IllegalStateException("uplink is closed");
    }
    long sequence = spool.append(batch);
    if (sendNow) {
      drain();
    }
    if (preview && accepted && call != null && spool.size() > 1) {
      sendPreview(batch, sequence);
    }
    return sequence;
  }

  /**
   * Returns the preview of batch {@code sequence} of {@code streamId}: its check results and its
   * events of WARNING or worse (the load generator makes its previews with it too).
   */
  public static PreviewRequest previewOf(String nodeId, String streamId, long sequence, TelemetryBatch batch) {
    PreviewRequest.Builder p = PreviewRequest.newBuilder().setNodeId(nodeId).setStreamId(streamId)
        .setSequence(sequence).addAllCheckResults(batch.getCheckResultsList());
    for (Event e : batch.getEventsList()) {
      if (e.getSeverity().getNumber() >= EventSeverity.EVENT_SEVERITY_WARNING_VALUE) {
        p.addEvents(e);
      }
    }
    return p.build();
  }

  private void sendPreview(TelemetryBatch batch, long sequence) {
    previewsSent++;
    previewStub.withDeadlineAfter(PREVIEW_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).preview(
        previewOf(hello.getNodeId(), hello.getStreamId(), sequence, batch),
        new io.grpc.stub.StreamObserver<PreviewResponse>() {
          @Override
          public void onNext(PreviewResponse value) {}

          @Override
          public void onError(Throwable t) {
            synchronized (IngestUplink.this) {
              previewsFailed++;
            }
            log.fine("preview of batch " + sequence + " failed (the batch follows on the stream): " + Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {}
        });
  }

  /** Returns how many batch previews were sent. */
  public synchronized long previewsSent() {
    return previewsSent;
  }

  /** Returns how many batch previews failed (the collector did not answer in time, or predates previews). */
  public synchronized long previewsFailed() {
    return previewsFailed;
  }

  /**
   * Returns how old a node's last batch may get before the collector of the current stream judges
   * it stale, when that collector said.
   */
  public synchronized Optional<Duration> collectorStaleAfter() {
    return Optional.ofNullable(collectorStaleAfter);
  }

  /**
   * Replaces the hello (the inventory changed, e.g. NVML became usable) and re-opens the stream so
   * the collector learns it; sequences continue on the same stream id.
   */
  public synchronized void updateHello(AgentHello newHello) {
    this.hello = newHello;
    if (call != null && !closed) {
      ClientCallStreamObserver<IngestRequest> old = call;
      call = null;
      accepted = false;
      old.onCompleted();
      connect();
    }
  }

  /** Returns the highest sequence the collector acknowledged. */
  public synchronized long acknowledgedSequence() {
    return acknowledged;
  }

  /** Returns the highest sequence given so far. */
  public synchronized long lastSequence() {
    return spool.lastSequence();
  }

  /** Returns the number of batches not yet acknowledged. */
  public synchronized int unackedCount() {
    return spool.size();
  }

  /** Returns how many whole batches the spool dropped to stay within its bounds. */
  public synchronized long droppedBatches() {
    return spool.stats().droppedBatches();
  }

  /** Returns the spool, for status and tests. */
  public Spool spool() {
    return spool;
  }

  /** Returns true while a stream is open and the collector accepted the hello. */
  public synchronized boolean connected() {
    return call != null && accepted;
  }

  /** Returns how many times the stream was re-opened after failing. */
  public synchronized long reconnects() {
    return reconnects;
  }

  /** Returns the last stream error, or an empty string. */
  public synchronized String lastError() {
    return lastError;
  }

  /**
   * Sends every waiting batch, then waits up to {@code timeout} for every queued batch to be acknowledged.
   *
   * @return true when nothing is left unacknowledged
   */
  public boolean flush(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      drain();
      while (spool.size() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }

  /**
   * Closes the stream (half-close, so the collector sees a clean end), then closes the spool, which
   * writes what is still unacknowledged to disk for the next start. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (call != null) {
      call.onCompleted();
      call = null;
    }
    spool.close();
    notifyAll();
  }

  private void connect() {
    if (closed) {
      return;
    }
    accepted = false;
    call = null;
    // beforeStart() sets `call`; the hello must be sent after the call has started.
    stub.ingest(new ResponseObserver()).onNext(IngestRequest.newBuilder().setHello(hello).build());
  }

  private void drain() {
    if (call == null || !accepted) {
      return;
    }
    while (call.isReady()) {
      Optional<TelemetryBatch> b = spool.next(lastSent);
      if (b.isEmpty()) {
        return;
      }
      call.onNext(IngestRequest.newBuilder().setBatch(b.get()).build());
      lastSent = b.get().getSequence();
    }
  }

  private void acknowledge(long sequence) {
    if (sequence > acknowledged) {
      acknowledged = sequence;
    }
    if (!closed) {
      spool.acknowledge(acknowledged);
    }
    notifyAll();
  }

  private void streamEnded(ResponseObserver observer, Throwable error) {
    if (observer.call != call) {
      return; // a callback of a stream that was already replaced or closed
    }
    call = null;
    accepted = false;
    if (closed) {
      return;
    }
    Status status = error == null ? Status.UNAVAILABLE.withDescription("collector closed the stream") : Status.fromThrowable(error);
    lastError = describe(status);
    Duration wait = backoff.next();
    failuresSinceConnected++;
    // Warn once per distinct error and then once a minute, not on every retry of an outage.
    long now = System.nanoTime();
    if (!lastError.equals(lastWarnedError) || now - lastWarningNanos > TimeUnit.MINUTES.toNanos(1)) {
      lastWarningNanos = now;
      lastWarnedError = lastError;
      boolean refused = status.getCode() == Status.Code.UNAUTHENTICATED || status.getCode() == Status.Code.PERMISSION_DENIED;
      log.warning((refused ? "collector refused this agent (" : "ingest stream to collector ended (") + lastError + "); "
          + failuresSinceConnected + " failed attempt(s) so far, retrying with backoff, next in " + wait.toMillis() + "ms; "
          + spool.size() + " batches unacknowledged");
    }
    scheduler.schedule(this::reconnect, wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Returns {@code CODE: description}, with the cause when gRPC's description alone does not say
   * what happened (a failed TLS handshake is only "ssl exception" without it).
   */
  static String describe(Status status) {
    // gRPC appends the Netty pipeline to some descriptions on further lines; the first line is the message.
    String description = String.valueOf(status.getDescription()).lines().findFirst().orElse("");
    StringBuilder s = new StringBuilder(status.getCode().name()).append(": ").append(description);
    for (Throwable c = status.getCause(); c != null; c = c.getCause()) {
      if (c.getMessage() != null && !description.contains(c.getMessage())) {
        s.append(" (").append(c.getClass().getSimpleName()).append(": ").append(c.getMessage()).append(')');
        break;
      }
    }
    return s.toString();
  }

  private synchronized void reconnect() {
    if (!closed && call == null) {
      reconnects++;
      connect();
    }
  }

  private final class ResponseObserver implements ClientResponseObserver<IngestRequest, IngestResponse> {
    private ClientCallStreamObserver<IngestRequest> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<IngestRequest> requestStream) {
      this.call = requestStream;
      synchronized (IngestUplink.this) {
        IngestUplink.this.call = requestStream;
      }
      requestStream.setOnReadyHandler(() -> {
        synchronized (IngestUplink.this) {
          if (IngestUplink.this.call == requestStream) {
            drain();
          }
        }
      });
    }

    @Override
    public void onNext(IngestResponse response) {
      synchronized (IngestUplink.this) {
        if (IngestUplink.this.call != call) {
          return;
        }
        switch (response.getMessageCase()) {
          case HELLO_ACCEPTED -> {
            accepted = true;
            backoff.reset();
            failuresSinceConnected = 0;
            lastError = "";
            lastWarnedError = "";
            acknowledge(response.getHelloAccepted().getAcknowledgedSequence());
            collectorStaleAfter = response.getHelloAccepted().hasStaleAfter()
                ? ProtoTime.duration(response.getHelloAccepted().getStaleAfter())
                : null;
            // Resend everything the collector has not applied.
            lastSent = acknowledged;
            log.info("connected to collector " + response.getHelloAccepted().getCollectorId()
                + "; resuming after sequence " + acknowledged + " with " + spool.size() + " batches spooled");
            drain();
          }
          case ACK -> acknowledge(response.getAck().getAcknowledgedSequence());
          case PUSHBACK -> log.info("collector asked to slow down: " + response.getPushback().getReason());
          case CONFIG -> log.info("collector sent configuration (not applied by this agent version): " + response.getConfig());
          default -> log.warning("unknown message from collector: " + response.getMessageCase());
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      synchronized (IngestUplink.this) {
        streamEnded(this, t);
      }
    }

    @Override
    public void onCompleted() {
      synchronized (IngestUplink.this) {
        streamEnded(this, null);
      }
    }
  }
}

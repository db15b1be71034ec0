package io.gpuwarden.collector.ingest;

import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.security.AgentAuthInterceptor;
import io.gpuwarden.collector.security.AgentIdentity;
import io.gpuwarden.proto.v1.Ack;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.PreviewRequest;
import io.gpuwarden.proto.v1.HelloAccepted;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.gpuwarden.proto.v1.PreviewResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Receives agents' ingest streams: a hello, then batches. A batch is acknowledged once it is
 * durable (stored with its events, {@link DurableAcks}), not when it is applied; a reconnecting
 * agent resumes after the last durable batch, and replays of batches already applied are not
 * applied again.
 *
 * <p>Flow control is explicit: each stream asks for its next message only once it has applied the
 * last one, on the server's fixed pool of worker threads, so at most one decoded batch per stream
 * waits, and what an agent sends past that waits in its HTTP/2 window (see {@link
 * io.gpuwarden.collector.IngestLimits}) and then in its spool: a collector that applies slowly slows
 * its agents down instead of buffering their batches. Streams beyond the configured maximum are
 * refused with RESOURCE_EXHAUSTED; the agent retries with backoff.
 *
 * <p>A {@linkplain #preview preview} of a batch that waits behind the agent's backlog is judged at
 * once ({@link NodeRegistry#preview}); it needs no room, since nothing of it is stored.
 *
 * <p>When {@link AgentAuthInterceptor} authenticated the agent, every hello and preview must name the
 * node the agent proved to be; one for another node is PERMISSION_DENIED and registers nothing.
 */
public final class IngestService extends IngestServiceGrpc.IngestServiceImplBase {
  private static final Logger log = Logger.getLogger(IngestService.class.getName());

  private final NodeRegistry registry;
  private final String collectorId;
  private final DurableAcks acks;
  private final com.google.protobuf.Duration staleAfter;
  private final int maxStreams;
  private final Room room;

  /** Where a stream waits before it asks for its next batch: runs {@code resume} now or once there is room. */
  @FunctionalInterface
  public interface Room {
    /** Runs {@code resume} now, or later from another thread. */
    void whenRoom(Runnable resume);
  }
  private final java.util.concurrent.atomic.AtomicInteger streams = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong refusedStreams = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong failedAcks = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong previewsHeld = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong previewsNotHeld = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Creates the service over {@code registry}, acknowledging batches as {@code acks} says they are
   * durable, and telling each agent {@code staleAfter} (it sends at least every half of it).
   */
  public IngestService(NodeRegistry registry, String collectorId, DurableAcks acks, java.time.Duration staleAfter) {
    this(registry, collectorId, acks, staleAfter, Integer.MAX_VALUE);
  }

  /** Creates the service serving at most {@code maxStreams} agent streams at once, never pausing. */
  public IngestService(NodeRegistry registry, String collectorId, DurableAcks acks, java.time.Duration staleAfter,
      int maxStreams) {
    this(registry, collectorId, acks, staleAfter, maxStreams, Runnable::run);
  }

  /**
   * Creates the service serving at most {@code maxStreams} agent streams at once; a stream asks for
   * its next batch through {@code room} (the journal's backpressure, {@link IngestJournal#whenRoom}).
   */
  public IngestService(NodeRegistry registry, String collectorId, DurableAcks acks, java.time.Duration staleAfter,
      int maxStreams, Room room) {
    this.room = room;
    this.maxStreams = maxStreams;
    this.registry = registry;
    this.collectorId = collectorId;
    this.acks = acks;
    this.staleAfter = io.gpuwarden.common.ProtoTime.of(staleAfter);
  }

  @Override
  public StreamObserver<IngestRequest> ingest(StreamObserver<IngestResponse> responses) {
    ServerCallStreamObserver<IngestResponse> call = (ServerCallStreamObserver<IngestResponse>) responses;
    if (streams.incrementAndGet() > maxStreams) {
      streams.decrementAndGet();
      if (refusedStreams.incrementAndGet() % 1000 == 1) {
        log.warning("refusing agent streams: this collector serves at most " + maxStreams + " (" + refusedStreams.get()
            + " refused so far); agents retry later");
      }
      call.onError(Status.RESOURCE_EXHAUSTED.withDescription("this collector serves at most " + maxStreams
          + " agent streams and is full; retry later (with backoff), or connect to another collector").asRuntimeException());
      return new NoopObserver();
    }
    call.disableAutoRequest();
    // Read here, in the call's context: the interceptor put the authenticated agent there.
    AgentStream stream = new AgentStream(call, Optional.ofNullable(AgentAuthInterceptor.IDENTITY.get()));
    call.request(1);
    return stream;
  }

  @Override
  public void preview(PreviewRequest preview, StreamObserver<PreviewResponse> response) {
    String problem = validate(preview);
    if (problem == null) {
      problem = checkIdentity(preview.getNodeId(), Optional.ofNullable(AgentAuthInterceptor.IDENTITY.get()));
      if (problem != null) {
        log.warning("refusing a batch preview: " + problem);
        response.onError(Status.PERMISSION_DENIED.withDescription(problem).asRuntimeException());
        return;
      }
    } else {
      response.onError(Status.INVALID_ARGUMENT.withDescription(problem).asRuntimeException());
      return;
    }
    boolean held = registry.preview(preview.getNodeId(), preview.getStreamId(), preview.getSequence(),
        preview.getCheckResultsList());
    (held ? previewsHeld : previewsNotHeld).incrementAndGet();
    response.onNext(PreviewResponse.newBuilder().setHeld(held).build());
    response.onCompleted();
  }

  /** Returns how many batch previews were held (and judged) so far. */
  public long previewsHeld() {
    return previewsHeld.get();
  }

  /** Returns how many batch previews came too late (the batch applied) or for a stream not current. */
  public long previewsNotHeld() {
    return previewsNotHeld.get();
  }

  /** Returns how many agent streams are open now. */
  public int openStreams() {
    return streams.get();
  }

  /** Returns how many agent streams were refused because the collector was full. */
  public long refusedStreams() {
    return refusedStreams.get();
  }

  /** Returns how many acknowledgements could not be sent (the stream had ended meanwhile). */
  public long failedAcks() {
    return failedAcks.get();
  }

  /** What a refused stream's messages go to. */
  private static final class NoopObserver implements StreamObserver<IngestRequest> {
    @Override
    public void onNext(IngestRequest value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** Validates a hello; returns the problem, or null when it is fine. */
  static String validate(AgentHello hello) {
    if (hello.getNodeId().isBlank()) {
      return "hello.node_id is empty: every agent needs a node id";
    }
    if (hello.getNodeId().length() > 253 || !hello.getNodeId().matches("[A-Za-z0-9._:-]+")) {
      return "hello.node_id '" + hello.getNodeId() + "' is invalid: use at most 253 of [A-Za-z0-9._:-]";
    }
    if (hello.getStreamId().isBlank()) {
      return "hello.stream_id is empty: the agent must name its sequence space";
    }
    return null;
  }

  /** Validates a preview; returns the problem, or null when it is fine. */
  static String validate(PreviewRequest preview) {
    if (preview.getNodeId().isBlank() || preview.getStreamId().isBlank()) {
      return "preview.node_id and preview.stream_id must name the node and its stream, as the hello did";
    }
    if (preview.getSequence() == 0) {
      return "preview.sequence is 0: name the previewed batch's sequence (1 or more)";
    }
    return null;
  }

  /** Returns why {@code identity} may not send {@code hello}, or null when it may (or nobody was authenticated). */
  static String checkIdentity(AgentHello hello, Optional<AgentIdentity> identity) {
    return checkIdentity(hello.getNodeId(), identity);
  }

  /** Returns why {@code identity} may not speak for {@code nodeId}, or null when it may (or nobody was authenticated). */
  static String checkIdentity(String nodeId, Optional<AgentIdentity> identity) {
    if (identity.isPresent() && !identity.get().nodeId().equals(nodeId)) {
      return "node id '" + nodeId + "' does not match " + identity.get().source() + " identity '"
          + identity.get().nodeId() + "'";
    }
    return null;
  }

  private final class AgentStream implements StreamObserver<IngestRequest> {
    private final ServerCallStreamObserver<IngestResponse> responses;
    private final Optional<AgentIdentity> identity;
    private NodeRegistry.Session session;
    /**
     * Guards what goes out on {@code responses}, which is not thread-safe: the stream's own worker
     * (hello, replays) and the journal's thread (acknowledgements) both send. Not the stream's
     * monitor, which is held while a batch is applied: the journal acknowledges the other streams
     * meanwhile instead of waiting for this one.
     */
    private final Object sendLock = new Object();
    private volatile boolean done;
    /** The hello was answered: acknowledgements may follow. Written under {@code sendLock}. */
    private volatile boolean helloSent;
    /** Guarded by {@code sendLock}. */
    private long lastAck;
    /** The highest sequence this stream sent; only its own worker reads and writes it. */
    private long highestReceived;
    private final java.util.function.LongConsumer acker = this::ack;

    AgentStream(ServerCallStreamObserver<IngestResponse> responses, Optional<AgentIdentity> identity) {
      this.responses = responses;
      this.identity = identity;
    }

    @Override
    public synchronized void onNext(IngestRequest request) {
      if (done) {
        return;
      }
      handle(request);
      if (!done) {
        // Only now, and only when the journal has room: one batch of this stream at a time in the collector.
        room.whenRoom(this::next);
      }
    }

    private void handle(IngestRequest request) {
      switch (request.getMessageCase()) {
        case HELLO -> onHello(request.getHello());
        case BATCH -> {
          if (session == null) {
            fail(Status.FAILED_PRECONDITION.withDescription("a batch arrived before the hello; send AgentHello first"));
            return;
          }
          long sequence = request.getBatch().getSequence();
          boolean again = sequence <= highestReceived; // this stream sent it before
          highestReceived = Math.max(highestReceived, sequence);
          registry.apply(session, request.getBatch());
          long durable = acks.durable(session.nodeId(), session.streamId());
          synchronized (sendLock) {
            // A replay of a batch already stored: nothing will make it durable again; say so again. A
            // new batch the journal made durable this quickly is acknowledged once, by whichever is first.
            if (sequence <= durable && (again || durable > lastAck)) {
              send(durable);
            }
          }
        }
        default -> fail(Status.INVALID_ARGUMENT.withDescription("empty ingest message: set hello or batch"));
      }
    }

    private void onHello(AgentHello hello) {
      if (session != null) {
        fail(Status.FAILED_PRECONDITION.withDescription("a second hello on one stream; open a new stream instead"));
        return;
      }
      String problem = validate(hello);
      if (problem != null) {
        fail(Status.INVALID_ARGUMENT.withDescription(problem));
        return;
      }
      String denied = checkIdentity(hello, identity);
      if (denied != null) {
        fail(Status.PERMISSION_DENIED.withDescription(denied));
        return;
      }
      session = registry.hello(hello);
      acks.attach(session.nodeId(), session.streamId(), acker);
      long resume = Math.min(session.acknowledgedSequence(), acks.durable(session.nodeId(), session.streamId()));
      log.info("agent connected: node=" + hello.getNodeId() + " pool=" + hello.getPool() + " gpus="
          + hello.getInventory().getGpusCount() + " version=" + hello.getAgentVersion() + " resume after " + resume);
      synchronized (sendLock) {
        lastAck = resume;
        responses.onNext(IngestResponse.newBuilder()
            .setHelloAccepted(HelloAccepted.newBuilder()
                .setAcknowledgedSequence(resume)
                .setCollectorId(collectorId)
                .setStaleAfter(staleAfter))
            .build());
        helloSent = true;
      }
    }

    /** Asks for the stream's next message (from the journal's thread when it waited for room). */
    private synchronized void next() {
      if (!done) {
        try {
          responses.request(1);
        } catch (RuntimeException e) {
          closed(); // the stream ended meanwhile
        }
      }
    }

    /**
     * Acknowledges everything up to {@code sequence} (called by {@link DurableAcks}, any thread),
     * without waiting for a batch of this stream being applied. A stream that ended meanwhile
     * (cancelled by the agent, broken) is not an error of the caller's: it is counted, and gRPC
     * tells the stream ({@link #onError}), which cleans up.
     */
    void ack(long sequence) {
      synchronized (sendLock) {
        if (done || !helloSent || sequence <= lastAck) {
          return;
        }
        try {
          send(sequence);
        } catch (RuntimeException e) {
          failedAcks.incrementAndGet();
        }
      }
    }

    private void send(long sequence) {
      synchronized (sendLock) {
        lastAck = Math.max(lastAck, sequence);
        responses.onNext(IngestResponse.newBuilder().setAck(Ack.newBuilder().setAcknowledgedSequence(sequence)).build());
      }
    }

    private void closed() {
      if (done) {
        return;
      }
      streams.decrementAndGet();
      done = true;
      if (session != null) {
        acks.detach(session.nodeId(), session.streamId(), acker);
        registry.disconnected(session);
      }
    }

    private void fail(Status status) {
      closed();
      log.warning("refusing ingest stream" + (session != null ? " of node " + session.nodeId() : "") + ": " + status.getDescription());
      synchronized (sendLock) {
        responses.onError(status.asRuntimeException());
      }
    }

    @Override
    public synchronized void onError(Throwable t) {
      closed();
      if (session != null) {
        log.info("agent stream of node " + session.nodeId() + " broke: " + Status.fromThrowable(t));
      }
    }

    @Override
    public synchronized void onCompleted() {
      if (done) {
        return;
      }
      closed();
      if (session != null) {
        log.info("agent of node " + session.nodeId() + " closed its stream");
      }
      synchronized (sendLock) {
        responses.onCompleted();
      }
    }
  }
}

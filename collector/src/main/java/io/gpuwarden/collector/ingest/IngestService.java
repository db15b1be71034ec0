package io.gpuwarden.collector.ingest;

import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.proto.v1.Ack;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.HelloAccepted;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.logging.Logger;

/**
 * Receives agents' ingest streams: a hello, then batches, each acknowledged with the highest
 * contiguous sequence applied.
 *
 * <p>Inbound flow control is gRPC's automatic one: the next message is requested only after
 * {@code onNext} returned, so a collector that applies slowly slows its agents down instead of
 * buffering their batches.
 */
public final class IngestService extends IngestServiceGrpc.IngestServiceImplBase {
  private static final Logger log = Logger.getLogger(IngestService.class.getName());

  private final NodeRegistry registry;
  private final String collectorId;

  /** Creates the service over {@code registry}. */
  public IngestService(NodeRegistry registry, String collectorId) {
    this.registry = registry;
    this.collectorId = collectorId;
  }

  @Override
  public StreamObserver<IngestRequest> ingest(StreamObserver<IngestResponse> responses) {
    return new AgentStream((ServerCallStreamObserver<IngestResponse>) responses);
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

  private final class AgentStream implements StreamObserver<IngestRequest> {
    private final ServerCallStreamObserver<IngestResponse> responses;
    private NodeRegistry.Session session;
    private boolean done;

    AgentStream(ServerCallStreamObserver<IngestResponse> responses) {
      this.responses = responses;
    }

    @Override
    public synchronized void onNext(IngestRequest request) {
      if (done) {
        return;
      }
      switch (request.getMessageCase()) {
        case HELLO -> onHello(request.getHello());
        case BATCH -> {
          if (session == null) {
            fail(Status.FAILED_PRECONDITION.withDescription("a batch arrived before the hello; send AgentHello first"));
            return;
          }
          long acked = registry.apply(session, request.getBatch());
          responses.onNext(IngestResponse.newBuilder().setAck(Ack.newBuilder().setAcknowledgedSequence(acked)).build());
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
      session = registry.hello(hello);
      log.info("agent connected: node=" + hello.getNodeId() + " pool=" + hello.getPool() + " gpus="
          + hello.getInventory().getGpusCount() + " version=" + hello.getAgentVersion() + " resume after "
          + session.acknowledgedSequence());
      responses.onNext(IngestResponse.newBuilder()
          .setHelloAccepted(HelloAccepted.newBuilder()
              .setAcknowledgedSequence(session.acknowledgedSequence())
              .setCollectorId(collectorId))
          .build());
    }

    private void fail(Status status) {
      done = true;
      if (session != null) {
        registry.disconnected(session);
      }
      log.warning("refusing ingest stream" + (session != null ? " of node " + session.nodeId() : "") + ": " + status.getDescription());
      responses.onError(status.asRuntimeException());
    }

    @Override
    public synchronized void onError(Throwable t) {
      done = true;
      if (session != null) {
        registry.disconnected(session);
        log.info("agent stream of node " + session.nodeId() + " broke: " + Status.fromThrowable(t));
      }
    }

    @Override
    public synchronized void onCompleted() {
      if (done) {
        return;
      }
      done = true;
      if (session != null) {
        registry.disconnected(session);
        log.info("agent of node " + session.nodeId() + " closed its stream");
      }
      responses.onCompleted();
    }
  }
}

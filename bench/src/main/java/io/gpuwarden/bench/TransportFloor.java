package io.gpuwarden.bench;

import io.gpuwarden.collector.IngestLimits;
import io.gpuwarden.common.RawBytesMarshaller;
import io.gpuwarden.proto.v1.Ack;
import io.gpuwarden.proto.v1.HelloAccepted;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The ingest transport alone, for measuring what gRPC and Netty cost per batch on this machine: an
 * {@code IngestService/Ingest} server with the collector's transport settings (its window, read
 * buffers and a fixed pool of workers, one message per stream at a time) that answers the hello and
 * acknowledges each batch as it arrives, without storing or applying anything; with {@code --parse}
 * it also decodes each request into an {@code IngestRequest}, as the collector does. Run it instead
 * of the collector under {@code gpuwarden loadgen}:
 *
 * <pre>{@code
 * taskset -c 0 java -cp bench/target/benchmarks.jar io.gpuwarden.bench.TransportFloor 17800 [--parse]
 * }</pre>
 */
public final class TransportFloor {
  private TransportFloor() {}

  /** Serves until killed. Arguments: the port, then optionally {@code --parse}. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    boolean parse = args.length > 1 && args[1].equals("--parse");
    MethodDescriptor<byte[], IngestResponse> method = IngestServiceGrpc.getIngestMethod().toBuilder(RawBytesMarshaller.INSTANCE,
        ProtoUtils.marshaller(IngestResponse.getDefaultInstance())).build();
    ServerServiceDefinition service = ServerServiceDefinition.builder(IngestServiceGrpc.SERVICE_NAME)
        .addMethod(method, ServerCalls.asyncBidiStreamingCall(responses -> new Stream(
            (ServerCallStreamObserver<IngestResponse>) responses, parse)))
        .build();
    ExecutorService workers = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()));
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .flowControlWindow(IngestLimits.DEFAULT_WINDOW_BYTES)
        .withChildOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(512, 2048, 16 * 1024))
        .maxInboundMessageSize(16 * 1024 * 1024)
        .executor(workers)
        .addService(service)
        .build().start();
    System.out.println("transport floor on 127.0.0.1:" + port + (parse ? ", decoding each request" : ", not decoding"));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      workers.shutdownNow();
    }));
    server.awaitTermination(365, TimeUnit.DAYS);
  }

  /** One stream: the hello is answered, then every message is acknowledged by its count. */
  private static final class Stream implements StreamObserver<byte[]> {
    private final ServerCallStreamObserver<IngestResponse> responses;
    private final boolean parse;
    private long received;

    Stream(ServerCallStreamObserver<IngestResponse> responses, boolean parse) {
      this.responses = responses;
      this.parse = parse;
      responses.disableAutoRequest();
      responses.request(1);
    }

    @Override
    public synchronized void onNext(byte[] request) {
      if (parse) {
        try {
          IngestRequest.parseFrom(request);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      if (received++ == 0) {
        responses.onNext(IngestResponse.newBuilder().setHelloAccepted(HelloAccepted.newBuilder().setCollectorId("floor")).build());
      } else {
        responses.onNext(IngestResponse.newBuilder().setAck(Ack.newBuilder().setAcknowledgedSequence(received - 1)).build());
      }
      responses.request(1);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public synchronized void onCompleted() {
      responses.onCompleted();
    }
  }
}

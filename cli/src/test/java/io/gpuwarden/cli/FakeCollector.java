package io.gpuwarden.cli;

import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/**
 * A server on a free loopback port that answers every gate and fleet call with one status, for the failures a real
 * collector gives only in trouble (its store failing) or not at all.
 */
public final class FakeCollector implements AutoCloseable {
  private final Server server;

  private FakeCollector(Server server) {
    this.server = server;
  }

  /** Starts a server answering every call with {@code status}. */
  public static FakeCollector answering(Status status) {
    ServerInterceptor refuse = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {};
      }
    };
    try {
      return new FakeCollector(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(ServerInterceptors.intercept(new GateServiceGrpc.GateServiceImplBase() {}, refuse))
          .addService(ServerInterceptors.intercept(new FleetServiceGrpc.FleetServiceImplBase() {}, refuse))
          .build().start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns {@code 127.0.0.1:PORT}. */
  public String address() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}

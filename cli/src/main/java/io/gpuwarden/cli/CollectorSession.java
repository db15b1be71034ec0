package io.gpuwarden.cli;

import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.FleetServiceGrpc.FleetServiceBlockingStub;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One client command's connection to the collector, as {@link ClientCommand#run} gets it: stubs that carry the
 * {@code --timeout} deadline and, for the mutating commands, the admin token; where to print; how to print times.
 */
public final class CollectorSession {
  private final Channel channel;
  private final Duration timeout;
  private final String name;
  private final PrintWriter out;
  private final PrintWriter err;
  private final Times times;

  CollectorSession(Channel channel, Optional<ClientInterceptor> auth, Duration timeout, String name, PrintWriter out,
      PrintWriter err, Times times) {
    this.channel = auth.map(i -> ClientInterceptors.intercept(channel, i)).orElse(channel);
    this.timeout = timeout;
    this.name = name;
    this.out = out;
    this.err = err;
    this.times = times;
  }

  /** Returns a gate stub whose calls carry the {@code --timeout} deadline (and the admin token, when there is one). */
  public GateServiceBlockingStub gate() {
    return gate(timeout);
  }

  /** Returns a gate stub whose calls carry {@code deadline} (and the admin token, when there is one). */
  public GateServiceBlockingStub gate(Duration deadline) {
    return GateServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Returns a fleet stub whose calls carry the {@code --timeout} deadline. */
  public FleetServiceBlockingStub fleet() {
    return FleetServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Returns standard output. */
  public PrintWriter out() {
    return out;
  }

  /** Returns how to print times. */
  public Times times() {
    return times;
  }

  /** Prints {@code message} as JSON (proto3 JSON mapping). */
  public void printJson(MessageOrBuilder message) throws IOException {
    out.println(JsonFormat.printer().print(message));
  }

  /** Prints {@code gpuwarden <command>: message} to standard error. */
  public void error(String message) {
    err.println(name + ": " + message);
  }
}

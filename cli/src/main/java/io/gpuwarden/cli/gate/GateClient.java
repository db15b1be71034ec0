package io.gpuwarden.cli.gate;

import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Model.CommandSpec;

/**
 * One gate command's session with the collector: stubs carrying the deadline and the admin token, and the one place
 * that turns gRPC failures into {@code gpuwarden <cmd>: <CODE>: <description>} and an exit code.
 *
 * <pre>{@code
 * return GateClient.run(spec, collector, adminToken, c -> c.report(c.stub().lock(request).getResultsList()));
 * }</pre>
 */
final class GateClient {
  /** What a command does once connected; returns its exit code. */
  @FunctionalInterface
  interface Body {
    int run(GateClient client) throws IOException;
  }

  private final ManagedChannel channel;
  private final CollectorAddress collector;
  private final Optional<ClientInterceptor> auth;
  private final String name;
  final PrintWriter out;
  final PrintWriter err;

  private GateClient(ManagedChannel channel, CollectorAddress collector, Optional<ClientInterceptor> auth, String name,
      PrintWriter out, PrintWriter err) {
    this.channel = channel;
    this.collector = collector;
    this.auth = auth;
    this.name = name;
    this.out = out;
    this.err = err;
  }

  /**
   * Connects, runs {@code body}, and maps failures to exit codes: an unusable admin token is a usage error, NOT_FOUND
   * is {@link ExitCodes#NOT_FOUND}, any other gRPC error {@link ExitCodes#CALL_FAILED}.
   *
   * @param adminToken the command's token mixin, or {@code null} for read-only commands
   */
  static int run(CommandSpec spec, CollectorAddress collector, AdminToken adminToken, Body body) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String name = spec.qualifiedName();
    Optional<ClientInterceptor> auth;
    try {
      auth = adminToken == null ? Optional.empty() : adminToken.interceptor();
    } catch (AdminToken.Unreadable e) {
      err.println(name + ": " + e.getMessage());
      err.flush();
      return ExitCodes.USAGE;
    }
    ManagedChannel channel = collector.open();
    try {
      return body.run(new GateClient(channel, collector, auth, name, out, err));
    } catch (StatusRuntimeException e) {
      boolean tokenMissing = adminToken != null && auth.isEmpty();
      err.println(name + ": " + describe(e.getStatus(), collector.target(), tokenMissing));
      return e.getStatus().getCode() == Status.Code.NOT_FOUND ? ExitCodes.NOT_FOUND : ExitCodes.CALL_FAILED;
    } catch (IOException e) {
      err.println(name + ": " + e.getMessage());
      return ExitCodes.CALL_FAILED;
    } finally {
      out.flush();
      err.flush();
      channel.shutdownNow();
    }
  }

  /**
   * Returns {@code CODE: description}, naming the collector when it could not be reached and saying how to give a
   * token when the call was refused for want of one.
   */
  static String describe(Status status, String target, boolean tokenMissing) {
    StringBuilder s = new StringBuilder(status.getCode().name());
    if (status.getDescription() != null && !status.getDescription().isEmpty()) {
      s.append(": ").append(status.getDescription());
    }
    if (status.getCode() == Status.Code.UNAVAILABLE || status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      s.append(" (collector ").append(target).append(')');
    }
    if (status.getCode() == Status.Code.UNAUTHENTICATED && tokenMissing) {
      s.append(" (no admin token: use --admin-token-file FILE, or set $").append(AdminToken.ENV_TOKEN)
          .append(" or $").append(AdminToken.ENV_TOKEN_FILE).append(')');
    }
    return s.toString();
  }

  /** Returns a stub whose calls carry the admin token (when there is one) and the {@code --timeout} deadline. */
  GateServiceBlockingStub stub() {
    return stub(collector.timeout());
  }

  /** Returns a stub whose calls carry the admin token (when there is one) and {@code deadline}. */
  GateServiceBlockingStub stub(Duration deadline) {
    GateServiceBlockingStub s = GateServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    return auth.map(i -> s.withInterceptors(i)).orElse(s);
  }

  /** Prints {@code message} as JSON (proto3 JSON mapping). */
  void printJson(MessageOrBuilder message) throws IOException {
    out.println(JsonFormat.printer().print(message));
  }

  /** Prints {@code gpuwarden <cmd>: message} to stderr. */
  void error(String message) {
    err.println(name + ": " + message);
  }

  /** Prints the result of a one-node action ({@code null} when the collector sent none) and returns its exit code. */
  int report(NodeActionResult result) {
    return report(result == null ? List.of() : List.of(result));
  }

  /** Prints one line per node result and returns the exit code they amount to. */
  int report(List<NodeActionResult> results) {
    out.print(ActionResults.render(results));
    int code = ActionResults.exitCode(results);
    if (code == ExitCodes.CALL_FAILED) {
      error(results.isEmpty() ? "the collector answered without a result"
          : "the collector answered with an outcome this client does not know; is it newer?");
    }
    return code;
  }
}

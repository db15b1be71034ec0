package io.gpuwarden.cli;

import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

/**
 * A command that calls the collector ({@code nodes}, {@code gate}, {@code lock} ...). It owns what they share: the
 * collector address and TLS options, checks of the command line beyond picocli's, the connection, and the one place
 * that turns failures into {@code gpuwarden <command>: <what went wrong>} and an {@link ExitCodes exit code}. A command
 * says only what it sends and prints ({@link #run}), what it checks first ({@link #checkCommandLine}) and what its
 * success means ({@link #exitCodes}).
 */
public abstract class ClientCommand implements Callable<Integer>, ExitCodeList.Source {
  /** Where the collector is. */
  @Mixin
  protected CollectorAddress collector;

  /** This command, for its name and output. */
  @Spec
  protected CommandSpec spec;

  /** What a command does once connected; returns its exit code. */
  protected abstract int run(CollectorSession session) throws IOException;

  /** Says what exit code 0 means for this command, e.g. {@code held}. */
  protected abstract String done();

  /**
   * Checks the command line beyond what picocli checks, before anything is called.
   *
   * @throws Failure (usually {@link #usage}) when the command cannot run as given
   */
  protected void checkCommandLine() {}

  /**
   * Returns the admin credential to send, or empty for a read-only command.
   *
   * @throws Failure when the command needs one and it is missing or unusable
   */
  protected Optional<AdminToken.Credential> credential() {
    return Optional.empty();
  }

  /** Returns 0, 1, 2 and 6, which every client command can return; commands add theirs. */
  @Override
  public ExitCodeList exitCodes() {
    return ExitCodeList.of(done());
  }

  /** Returns a usage error (exit code 2) saying {@code message}. */
  protected static Failure usage(String message) {
    return new Failure(ExitCodes.USAGE, message);
  }

  @Override
  public final Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String name = spec.qualifiedName();
    Times times = Times.forThisProcess();
    try {
      checkReason();
      checkCommandLine();
      Optional<AdminToken.Credential> credential = credential();
      Optional<ClientInterceptor> auth = credential.map(c -> AdminToken.interceptor(c.token()));
      ManagedChannel channel = openChannel();
      try {
        return run(new CollectorSession(channel, auth, collector.timeout(), name, out, err, times));
      } catch (StatusRuntimeException e) {
        boolean answered = channel.getState(false) == ConnectivityState.READY;
        int code = ExitCodes.forStatus(e.getStatus(), answered);
        err.println(name + ": " + describe(e.getStatus(), code, collector, credential, times));
        return code;
      } catch (IOException e) {
        err.println(name + ": " + e.getMessage());
        return ExitCodes.CALL_FAILED;
      } finally {
        channel.shutdownNow();
      }
    } catch (Failure f) {
      err.println(name + ": " + f.getMessage());
      return f.exitCode();
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** Refuses an empty {@code --reason}: where one is required the collector would refuse it, and elsewhere it is a slip. */
  private void checkReason() {
    OptionSpec reason = spec.findOption("--reason");
    if (reason == null || !spec.commandLine().getParseResult().hasMatchedOption(reason)) {
      return;
    }
    Object value = reason.getValue();
    if (value == null || value.toString().isBlank()) {
      throw usage(reason.required() ? "--reason must not be empty: every gate change is recorded with why"
          : "--reason is empty: say what was done, or leave --reason out");
    }
  }

  private ManagedChannel openChannel() {
    try {
      return collector.open();
    } catch (CollectorAddress.Unusable e) {
      throw usage(e.getMessage());
    }
  }

  /**
   * Says what went wrong with a call: the collector's address when it was not reached, where the admin token came
   * from when it was not accepted, else {@code CODE: description} (times in it shown as {@code times} shows them).
   */
  static String describe(Status status, int exitCode, CollectorAddress collector,
      Optional<AdminToken.Credential> credential, Times times) {
    String description = status.getDescription() == null || status.getDescription().isEmpty() ? ""
        : times.annotate(status.getDescription());
    if (exitCode == ExitCodes.UNREACHABLE && status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return "collector " + collector.target() + " did not answer within " + Times.duration(collector.timeout())
          + " (DEADLINE_EXCEEDED; see --timeout)";
    }
    StringBuilder s = new StringBuilder();
    if (exitCode == ExitCodes.UNREACHABLE) {
      s.append("cannot reach the collector at ").append(collector.target()).append(": ").append(status.getCode().name());
      Throwable cause = status.getCause();
      String detail = cause != null && cause.getMessage() != null ? cause.getMessage() : description;
      if (!detail.isEmpty()) {
        s.append(": ").append(detail);
      }
      return s.toString();
    }
    s.append(status.getCode().name());
    if (!description.isEmpty()) {
      s.append(": ").append(description);
    }
    if (exitCode == ExitCodes.AUTH && credential.isPresent()) {
      s.append(" (the token from ").append(credential.get().source()).append(')');
    }
    return s.toString();
  }

  /** The command stops before or instead of its call, with this exit code and message. */
  public static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    /** Creates a failure exiting with {@code exitCode} and printing {@code message}. */
    public Failure(int exitCode, String message) {
      super(message);
      this.exitCode = exitCode;
    }

    /** Returns the exit code. */
    public int exitCode() {
      return exitCode;
    }
  }
}

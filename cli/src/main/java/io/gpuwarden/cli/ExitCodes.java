package io.gpuwarden.cli;

import io.grpc.Status;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes of every {@code gpuwarden} client command (nodes, node, gate, lock ... nfz, budget), one table: each
 * command's {@code --help} lists the ones it can return ({@link ExitCodeList}), and gRPC failures map onto them here.
 *
 * <pre>
 * 0  done
 * 1  the call failed otherwise (the collector answered with an error this table has no code for)
 * 2  invalid command line: bad or missing option, empty --reason, unreadable admin token file, INVALID_ARGUMENT
 * 3  no such node, pool or window (NOT_FOUND, or a node the gate never saw)
 * 4  refused by the gate's policy (REFUSED, FAILED_PRECONDITION, a queued lock not granted in time)
 * 5  not authenticated or not allowed: no admin token, UNAUTHENTICATED, PERMISSION_DENIED
 * 6  collector unreachable: no connection (UNAVAILABLE before it answered), or no answer within --timeout
 * </pre>
 */
public final class ExitCodes {
  /** Done. */
  public static final int OK = 0;
  /** The call failed for a reason no other code names (the collector answered with an error, or an odd answer). */
  public static final int CALL_FAILED = 1;
  /**
   * Invalid command line (for the commands that change the gate also an empty reason or an unreadable admin token
   * file), or a request the collector calls invalid.
   */
  public static final int USAGE = 2;
  /** The named node, pool or window does not exist. */
  public static final int NOT_FOUND = 3;
  /** The gate refused the action by policy (or a queued lock was not granted in time); the message says why. */
  public static final int REFUSED = 4;
  /** No admin token, or one the collector does not accept or allow. */
  public static final int AUTH = 5;
  /** The collector could not be reached, or did not answer within {@code --timeout}. */
  public static final int UNREACHABLE = 6;

  private static final Map<Integer, String> MEANINGS;

  static {
    Map<Integer, String> m = new LinkedHashMap<>();
    m.put(OK, "done");
    m.put(CALL_FAILED, "the call failed otherwise: the collector answered with an error (the message says which)");
    m.put(USAGE, "invalid command line: a bad or missing option or value, or a request the collector rejects as invalid");
    m.put(NOT_FOUND, "no such node, pool or window");
    m.put(REFUSED, "refused by the gate's policy (budget, no-fly window, the node's state); the message says why");
    m.put(AUTH, "not authenticated: no admin token, or a token the collector does not accept or allow");
    m.put(UNREACHABLE, "collector unreachable: no connection to --collector, or no answer within --timeout");
    MEANINGS = Collections.unmodifiableMap(m);
  }

  private ExitCodes() {}

  /** Returns every code with its general meaning, in numeric order. */
  public static Map<Integer, String> table() {
    return MEANINGS;
  }

  /**
   * Returns the general meaning of {@code code}.
   *
   * @throws IllegalArgumentException when {@code code} is not in the table
   */
  public static String meaning(int code) {
    String m = MEANINGS.get(code);
    if (m == null) {
      throw new IllegalArgumentException("exit code " + code + " is not in the table");
    }
    return m;
  }

  /**
   * Returns the exit code of a failed call.
   *
   * @param status the call's status (not OK)
   * @param answered whether the collector itself answered: an UNAVAILABLE it sends (e.g. its store failed) is a failed
   *     call, one from the connection means it was not reached
   */
  public static int forStatus(Status status, boolean answered) {
    return switch (status.getCode()) {
      case INVALID_ARGUMENT -> USAGE;
      case NOT_FOUND -> NOT_FOUND;
      case FAILED_PRECONDITION -> REFUSED;
      case UNAUTHENTICATED, PERMISSION_DENIED -> AUTH;
      case DEADLINE_EXCEEDED -> UNREACHABLE;
      case UNAVAILABLE -> answered ? CALL_FAILED : UNREACHABLE;
      default -> CALL_FAILED;
    };
  }
}

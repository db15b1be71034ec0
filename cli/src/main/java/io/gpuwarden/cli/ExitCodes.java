package io.gpuwarden.cli;

/** Exit codes of the {@code gpuwarden} client commands, documented in each command's help. */
public final class ExitCodes {
  /** Done. */
  public static final int OK = 0;
  /** The collector could not be reached or the call failed. */
  public static final int CALL_FAILED = 1;
  /** Invalid command line. */
  public static final int USAGE = 2;
  /** The named node (or other object) does not exist. */
  public static final int NOT_FOUND = 3;
  /** The collector refused the action (or a queued lock was not granted in time); the message says why. */
  public static final int REFUSED = 4;

  private ExitCodes() {}
}

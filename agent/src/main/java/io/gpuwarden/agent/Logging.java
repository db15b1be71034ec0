package io.gpuwarden.agent;

/** Sets one-line log records for the command-line programs (java.util.logging, as gRPC uses). */
public final class Logging {
  private Logging() {}

  /** Configures the format unless the user set one; call before the first logger is created. */
  public static void configure() {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL%1$tz %4$s %3$s: %5$s%6$s%n");
    }
  }
}

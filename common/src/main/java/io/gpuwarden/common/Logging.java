package io.gpuwarden.common;

import java.util.logging.LogManager;

/**
 * Logging set-up of the command-line programs (java.util.logging, as gRPC uses): one-line records,
 * and a log manager that keeps working during shutdown.
 *
 * <p>The JDK's own log manager closes every handler in a shutdown hook of its own, which races the
 * program's hooks: the agent's last words on SIGTERM ("stopped after N cycles; last sequence ...,
 * acknowledged ...") would be lost. {@link ShutdownSafeLogManager} ignores that reset; handlers are
 * flushed on each record anyway (the console handler writes through).
 */
public final class Logging {
  private Logging() {}

  /** Configures logging unless the user chose otherwise; call first thing in {@code main}. */
  public static void configure() {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL%1$tz %4$s %3$s: %5$s%6$s%n");
    }
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", ShutdownSafeLogManager.class.getName());
    }
  }

  /** A log manager whose handlers survive the JVM's shutdown hooks. */
  public static final class ShutdownSafeLogManager extends LogManager {
    /** Called by the JDK through reflection. */
    public ShutdownSafeLogManager() {}

    @Override
    public void reset() {
      // The JDK calls reset() from its shutdown hook; keep handlers open so other hooks can log.
      if (!Thread.currentThread().getName().equals("DestroyJavaVM") && isShuttingDown()) {
        return;
      }
      super.reset();
    }

    private static boolean isShuttingDown() {
      try {
        Thread probe = new Thread(() -> {});
        Runtime.getRuntime().addShutdownHook(probe);
        Runtime.getRuntime().removeShutdownHook(probe);
        return false;
      } catch (IllegalStateException e) {
        return true;
      }
    }
  }
}

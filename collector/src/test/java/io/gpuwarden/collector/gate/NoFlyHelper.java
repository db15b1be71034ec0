package io.gpuwarden.collector.gate;

import java.time.Duration;

/** Adds no-fly windows relative to the harness clock. */
final class NoFlyHelper {
  private NoFlyHelper() {}

  static void add(GateHarness g, String pool, Duration startFromNow, Duration endFromNow, String reason) {
    g.gate.addWindow(pool, g.now.get().plus(startFromNow), g.now.get().plus(endFromNow), reason, "ops");
  }
}

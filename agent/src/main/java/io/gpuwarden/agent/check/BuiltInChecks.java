package io.gpuwarden.agent.check;

import io.gpuwarden.agent.check.clocks.ClockEventCheck;
import io.gpuwarden.agent.check.ecc.EccCheck;
import io.gpuwarden.agent.check.fabric.FabricCheck;
import io.gpuwarden.agent.check.gpucount.GpuCountCheck;
import io.gpuwarden.agent.check.nvlink.NvlinkCheck;
import io.gpuwarden.agent.check.pcie.PcieCheck;
import io.gpuwarden.agent.check.persistence.PersistenceModeCheck;
import io.gpuwarden.agent.check.recovery.RecoveryActionCheck;
import io.gpuwarden.agent.check.xid.XidCheck;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.state.StateStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The built-in checks, in the one order they run and are reported in. */
public final class BuiltInChecks {
  /** Every built-in check name, in order. */
  public static final List<String> NAMES = List.of(GpuCountCheck.NAME, XidCheck.NAME, EccCheck.NAME, RecoveryActionCheck.NAME,
      ClockEventCheck.NAME, PcieCheck.NAME, NvlinkCheck.NAME, FabricCheck.NAME, PersistenceModeCheck.NAME);

  private BuiltInChecks() {}

  /**
   * Creates the enabled checks.
   *
   * @throws IllegalArgumentException when {@code config} disables a check that does not exist
   */
  public static List<HealthCheck> create(CheckConfig config, XidPolicy xids, StateStore state, Instant started) {
    Set<String> unknown = new TreeSet<>(config.disabled());
    unknown.removeAll(NAMES);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown checks to disable: " + unknown + "; the checks are " + NAMES);
    }
    List<HealthCheck> all = List.of(
        new GpuCountCheck(config.expectedGpus(), state),
        new XidCheck(xids, config.xidEscalateAfterBoots(), state),
        new EccCheck(config.retiredPagesLimit(), config.retiredPagesDbeLimit()),
        new RecoveryActionCheck(),
        new ClockEventCheck(config.slowdownWindow(), config.slowdownFraction()),
        new PcieCheck(config.pcieReplaysPerMinute()),
        new NvlinkCheck(config.nvlinkReplayRecoveryPerMinute(), config.nvlinkCrcPerSecond()),
        new FabricCheck(config.fabricProbeGrace(), started),
        new PersistenceModeCheck(config.persistenceOffState()));
    List<HealthCheck> enabled = new ArrayList<>();
    for (HealthCheck c : all) {
      if (!config.disabled().contains(c.name())) {
        enabled.add(c);
      }
    }
    return enabled;
  }
}

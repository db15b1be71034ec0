package io.gpuwarden.agent.check;

import io.gpuwarden.agent.check.clocks.ClockEventCheck;
import io.gpuwarden.agent.check.ecc.EccCheck;
import io.gpuwarden.agent.check.fabric.FabricCheck;
import io.gpuwarden.agent.check.gpucount.GpuCountCheck;
import io.gpuwarden.agent.check.infiniband.InfinibandErrorRateCheck;
import io.gpuwarden.agent.check.infiniband.InfinibandLinkFlapCheck;
import io.gpuwarden.agent.check.infiniband.InfinibandPortStateCheck;
import io.gpuwarden.agent.check.kernel.KernelLogCheck;
import io.gpuwarden.agent.check.nvlink.NvlinkCheck;
import io.gpuwarden.agent.check.pcie.PcieCheck;
import io.gpuwarden.agent.check.persistence.PersistenceModeCheck;
import io.gpuwarden.agent.check.recovery.RecoveryActionCheck;
import io.gpuwarden.agent.check.xid.XidCheck;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/** The built-in checks, in the one order they run and are reported in. */
public final class BuiltInChecks {
  /** Every built-in check name, in order. */
  public static final List<String> NAMES = List.of(GpuCountCheck.NAME, XidCheck.NAME, EccCheck.NAME, RecoveryActionCheck.NAME,
      ClockEventCheck.NAME, PcieCheck.NAME, NvlinkCheck.NAME, FabricCheck.NAME, PersistenceModeCheck.NAME,
      InfinibandPortStateCheck.NAME, InfinibandLinkFlapCheck.NAME, InfinibandErrorRateCheck.NAME, KernelLogCheck.NAME);

  private BuiltInChecks() {}

  /**
   * Creates the enabled checks.
   *
   * @throws IllegalArgumentException when {@code config} disables a check that does not exist
   */
  public static List<HealthCheck> create(CheckConfig config, XidPolicy xids, StateStore state, Instant started) {
    return create(config, xids, state, started, List::of);
  }

  /**
   * Creates the enabled checks; the InfiniBand checks read the ports {@code infiniband} supplies
   * (one sample per cycle, shared by the three).
   *
   * @throws IllegalArgumentException when {@code config} disables a check that does not exist
   */
  public static List<HealthCheck> create(CheckConfig config, XidPolicy xids, StateStore state, Instant started,
      Supplier<List<InfinibandPortSample>> infiniband) {
    return create(config, xids, state, started, infiniband, List::of);
  }

  /**
   * Creates the enabled checks; the InfiniBand checks read the ports {@code infiniband} supplies
   * (one sample per cycle, shared by the three), and the port check compares the rates of ports of
   * one model and link layer from {@code infinibandInventory}.
   *
   * @throws IllegalArgumentException when {@code config} disables a check that does not exist
   */
  public static List<HealthCheck> create(CheckConfig config, XidPolicy xids, StateStore state, Instant started,
      Supplier<List<InfinibandPortSample>> infiniband, Supplier<List<InfinibandPortInfo>> infinibandInventory) {
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
        new PersistenceModeCheck(config.persistenceOffState()),
        new InfinibandPortStateCheck(config.infiniband(), infiniband, infinibandInventory, state),
        new InfinibandLinkFlapCheck(config.infiniband(), infiniband),
        new InfinibandErrorRateCheck(config.infiniband(), infiniband),
        new KernelLogCheck(config.kernelErrorHold(), state));
    List<HealthCheck> enabled = new ArrayList<>();
    for (HealthCheck c : all) {
      if (!config.disabled().contains(c.name())) {
        enabled.add(c);
      }
    }
    return enabled;
  }
}

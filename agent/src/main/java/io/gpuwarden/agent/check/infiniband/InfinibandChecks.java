package io.gpuwarden.agent.check.infiniband;

import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.util.List;
import java.util.function.Supplier;

/**
 * The InfiniBand checks in their registration order, sharing one port supplier:
 *
 * <pre>{@code
 * InfinibandSysfs sysfs = new InfinibandSysfs(Path.of("/sys"));
 * List<HealthCheck> ib = InfinibandChecks.all(InfinibandCheckConfig.defaults(), () -> sysfs.sample(clock.instant()));
 * }</pre>
 *
 * <p>Each check calls the supplier once per run; a caller that wants one sysfs read per cycle
 * supplies a cached sample.
 */
public final class InfinibandChecks {
  private InfinibandChecks() {}

  /** Returns the port state, link flap and error rate checks, in that order. */
  public static List<HealthCheck> all(InfinibandCheckConfig config, Supplier<List<InfinibandPortSample>> ports) {
    return List.of(new InfinibandPortStateCheck(config, ports), new InfinibandLinkFlapCheck(config, ports),
        new InfinibandErrorRateCheck(config, ports));
  }
}

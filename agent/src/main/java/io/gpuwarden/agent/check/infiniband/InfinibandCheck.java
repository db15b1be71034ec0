package io.gpuwarden.agent.check.infiniband;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.time.Instant;
import java.util.List;

/**
 * An InfiniBand health check. {@link io.gpuwarden.agent.check.HostSnapshot} carries no InfiniBand samples yet, so each check
 * judges port samples given directly and, as a {@link HealthCheck}, reads them from the supplier it
 * was built with, at the snapshot's time.
 *
 * <pre>{@code
 * List<Finding> f = check.evaluate(now, new InfinibandSysfs(Path.of("/sys")).sample(now));
 * }</pre>
 *
 * @see io.gpuwarden.agent.check.HostSnapshot
 */
public interface InfinibandCheck extends HealthCheck {
  /** Returns what is wrong with {@code ports} at {@code now}; an empty list means healthy. */
  List<Finding> evaluate(Instant now, List<InfinibandPortSample> ports);
}

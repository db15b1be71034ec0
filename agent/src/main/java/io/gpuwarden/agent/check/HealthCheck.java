package io.gpuwarden.agent.check;

import java.util.List;

/**
 * One health concern of a host (GPU count, Xid, ECC, ...), judged from a {@link HostSnapshot}.
 *
 * <p>A check may keep state between calls (rates, sustained conditions, Xid history); it is called
 * from one thread at a time. It may throw: the {@link CheckRunner} turns an exception into an
 * UNKNOWN result naming the check, so one broken check never hides the others.
 */
public interface HealthCheck {
  /** Returns the check's unique name, e.g. {@code "ecc"}; config enables and disables checks by it. */
  String name();

  /** Returns what is wrong now; an empty list means healthy. */
  List<Finding> evaluate(HostSnapshot host);
}

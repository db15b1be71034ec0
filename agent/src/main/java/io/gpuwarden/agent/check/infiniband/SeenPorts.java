package io.gpuwarden.agent.check.infiniband;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.state.StateStore;
import java.util.Arrays;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/**
 * The InfiniBand ports seen on this boot: the expected set when the operator configured no port
 * count. The first read of the boot makes the set and every port that appears later joins it; a
 * port of the set that is no longer in sysfs has vanished (its HCA fell off the bus, or its driver
 * was unloaded). Kept in the {@link StateStore} per boot id, so an agent restart does not bless a
 * port that vanished before it; a new boot starts afresh.
 *
 * <p>Not thread-safe: one per check.
 */
final class SeenPorts {
  private static final String PREFIX = "infiniband.seen-ports.";

  private final StateStore state;
  private String bootId;
  private Set<String> seen = Set.of();

  SeenPorts(StateStore state) {
    this.state = requireNonNull(state, "state");
  }

  /**
   * Adds {@code present} ("hca/port" keys) to this boot's set and returns the set, sorted.
   * Writes the store only when the set grew.
   */
  Set<String> update(String bootId, Collection<String> present) {
    if (!bootId.equals(this.bootId)) {
      this.bootId = bootId;
      for (String key : state.withPrefix(PREFIX).keySet()) {
        if (!key.equals(PREFIX + bootId)) {
          state.put(key, null); // ports of another boot say nothing about this one
        }
      }
      seen = new TreeSet<>();
      state.get(PREFIX + bootId).filter(s -> !s.isEmpty()).ifPresent(s -> seen.addAll(Arrays.asList(s.split(","))));
    }
    if (!seen.containsAll(present)) {
      seen.addAll(present);
      state.put(PREFIX + bootId, String.join(",", seen));
    }
    return seen;
  }
}

package io.gpuwarden.agent.state;

import java.util.Map;
import java.util.Optional;

/**
 * Small durable key-value state of the agent (first inventory of a boot, Xid history), kept so that
 * an agent restart does not forget an Xid that still needs a reboot. Keys are dotted strings owned
 * by the check that writes them.
 */
public interface StateStore {
  /** Returns the value of {@code key}. */
  Optional<String> get(String key);

  /** Returns every entry whose key starts with {@code prefix}. */
  Map<String, String> withPrefix(String prefix);

  /** Sets {@code key}; null removes it. Takes effect in memory at once, on disk at {@link #flush()}. */
  void put(String key, String value);

  /** Writes pending changes durably; a failure is reported by {@link #lastError()}, never thrown. */
  void flush();

  /** Returns the last write error, empty when the store is healthy. */
  Optional<String> lastError();
}

package io.gpuwarden.agent.state;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * A private copy of the agent's durable state, read once from the state directory and changed only
 * in memory: what a one-shot {@code agent check} uses, so that it sees what the running agent
 * recorded (Xids still needing a reset, the first inventory of the boot, active kernel-log findings)
 * while nothing it judges — a sample {@code --kmsg} file, a different NVML library — reaches the
 * state the running agent keeps. It never creates, writes or locks anything on disk.
 *
 * <pre>{@code
 * StateStore state = StateSnapshot.of(Path.of("/var/lib/gpuwarden"));
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class StateSnapshot implements StateStore {
  private final TreeMap<String, String> values = new TreeMap<>();
  private final String readError;

  private StateSnapshot(String readError) {
    this.readError = readError;
  }

  /**
   * Reads {@code directory}'s state file; a directory or file that does not exist is empty state,
   * one that cannot be read is empty state with the error reported by {@link #lastError()}.
   */
  public static StateSnapshot of(Path directory) {
    Path file = directory.resolve(FileStateStore.FILE_NAME);
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (NoSuchFileException e) {
      return new StateSnapshot(null);
    } catch (IOException | IllegalArgumentException e) {
      return new StateSnapshot("cannot read agent state from " + file + ": " + e.getMessage());
    }
    StateSnapshot s = new StateSnapshot(null);
    p.forEach((k, v) -> s.values.put((String) k, (String) v));
    return s;
  }

  @Override
  public synchronized Optional<String> get(String key) {
    return Optional.ofNullable(values.get(key));
  }

  @Override
  public synchronized Map<String, String> withPrefix(String prefix) {
    return Map.copyOf(values.subMap(prefix, prefix + Character.MAX_VALUE));
  }

  @Override
  public synchronized void put(String key, String value) {
    if (value == null) {
      values.remove(key);
    } else {
      values.put(key, value);
    }
  }

  /** Does nothing: a snapshot is never written back. */
  @Override
  public void flush() {}

  @Override
  public Optional<String> lastError() {
    return Optional.ofNullable(readError);
  }
}

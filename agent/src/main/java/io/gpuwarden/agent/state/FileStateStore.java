package io.gpuwarden.agent.state;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * A {@link StateStore} in one properties file ({@code agent-state.properties}) under the agent's
 * state directory, replaced atomically on every flush (write a temporary file, fsync, rename), so
 * a crash leaves the old or the new state, never a torn one. When the directory cannot be written
 * (read-only, disk full) the store keeps working in memory and reports the error.
 *
 * <p>Thread-safe.
 */
public final class FileStateStore implements StateStore {
  private static final Logger log = Logger.getLogger(FileStateStore.class.getName());
  /** File name under the state directory. */
  public static final String FILE_NAME = "agent-state.properties";

  private final Path file;
  private final TreeMap<String, String> values = new TreeMap<>();
  private boolean dirty;
  private String lastError;

  private FileStateStore(Path file) {
    this.file = file;
  }

  /**
   * Opens the store in {@code directory}, creating it if needed. A file that cannot be read is
   * reported and the store starts empty.
   */
  public static FileStateStore open(Path directory) {
    FileStateStore store = new FileStateStore(directory.resolve(FILE_NAME));
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      store.lastError = "cannot create state directory " + directory + ": " + e;
      log.warning(store.lastError + "; keeping state in memory");
      return store;
    }
    if (!Files.isWritable(directory)) {
      // Known now rather than at the first flush, so the start-up report can say so.
      store.lastError = "state directory " + directory + " is not writable; keeping state in memory";
    }
    try {
      if (Files.exists(store.file)) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(store.file, StandardCharsets.UTF_8)) {
          p.load(r);
        }
        p.forEach((k, v) -> store.values.put((String) k, (String) v));
      }
    } catch (IOException | IllegalArgumentException e) {
      store.lastError = "cannot read agent state from " + store.file + ": " + e.getMessage();
      log.warning(store.lastError + "; starting with empty state");
    }
    return store;
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
    String old = value == null ? values.remove(key) : values.put(key, value);
    if (old == null ? value != null : !old.equals(value)) {
      dirty = true;
    }
  }

  @Override
  public synchronized void flush() {
    if (!dirty) {
      return;
    }
    Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
    try {
      Properties p = new Properties();
      p.putAll(values);
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        p.store(w, "gpuwarden agent state; written by the agent, do not edit while it runs");
      }
      try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      dirty = false;
      if (lastError != null) {
        log.info("agent state is writable again: " + file);
      }
      lastError = null;
    } catch (IOException e) {
      String error = "cannot write agent state to " + file + ": " + e;
      if (!error.equals(lastError)) {
        log.warning(error + " (keeping it in memory)");
      }
      lastError = error;
    }
  }

  @Override
  public synchronized Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }
}

package io.gpuwarden.agent.source.syslog;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.source.kmsg.DropOldestQueue;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Follows a syslog or kern.log file like {@code tail -F}: across rotation by rename (a new file at the
 * path: the old one is read to its end, then the new one from its start) and by truncation (the file
 * got shorter: read again from 0). Lines go into a bounded {@link DropOldestQueue}; drops are counted.
 * {@link #poll()} does one pass and is what tests call; {@link #start()} runs it on a thread.
 *
 * <pre>{@code
 * SyslogFollower f = new SyslogFollower(Path.of("/var/log/kern.log"), SyslogFollower.Options.DEFAULTS);
 * f.start();
 * for (SyslogLine line : f.drain(1000)) { ... }
 * }</pre>
 */
public final class SyslogFollower {
  /** A partial line longer than this is cut and emitted, so a file without newlines cannot grow memory. */
  private static final int MAX_LINE_BYTES = 64 * 1024;

  private final Path path;
  private final Options options;
  private final DropOldestQueue<SyslogLine> queue;
  private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private final AtomicLong lines = new AtomicLong();
  private final AtomicLong rotations = new AtomicLong();
  private final AtomicLong truncations = new AtomicLong();
  private volatile String lastError = "";
  private volatile boolean running;
  private FileChannel channel;
  private Object fileKey;
  private boolean first = true;
  private Thread thread;

  /**
   * How a follower behaves.
   *
   * @param queueCapacity lines held for the consumer before the oldest are dropped
   * @param fromStart read the file found at start from its beginning (false: from its end, like tail)
   * @param pollInterval how long the thread waits between passes
   */
  public record Options(int queueCapacity, boolean fromStart, Duration pollInterval) {
    /** 4096 lines, from the end, 500 ms polls. */
    public static final Options DEFAULTS = new Options(4096, false, Duration.ofMillis(500));

    /** Validates. */
    public Options {
      requireNonNull(pollInterval, "pollInterval");
      if (queueCapacity < 1) {
        throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
      }
    }
  }

  /**
   * A snapshot of the follower's counters.
   *
   * @param lines lines read and queued (including those later dropped)
   * @param dropped lines dropped because the consumer fell behind
   * @param rotations times a new file appeared at the path
   * @param truncations times the file shrank and was read again from 0
   * @param lastError the last open or read error; empty when none
   */
  public record Stats(long lines, long dropped, long rotations, long truncations, String lastError) {}

  /** Creates a follower of {@code path}; nothing is read before {@link #poll()} or {@link #start()}. */
  public SyslogFollower(Path path, Options options) {
    this.path = requireNonNull(path, "path");
    this.options = requireNonNull(options, "options");
    this.queue = new DropOldestQueue<>(options.queueCapacity());
  }

  /** Reads everything new at the path once; never throws for a missing or unreadable file (see {@link #stats()}). */
  public synchronized void poll() {
    try {
      BasicFileAttributes attrs;
      try {
        attrs = Files.readAttributes(path, BasicFileAttributes.class);
      } catch (NoSuchFileException e) {
        attrs = null; // between rename and re-create: finish the open file, wait for the new one
      }
      if (channel != null) {
        if (attrs != null && !Objects.equals(attrs.fileKey(), fileKey)) {
          readToEnd();
          flushPartial();
          closeChannel();
          rotations.incrementAndGet();
        } else if (channel.size() < channel.position()) {
          truncations.incrementAndGet();
          partial.reset();
          channel.position(0);
        }
      }
      if (channel == null && attrs != null) {
        channel = FileChannel.open(path, StandardOpenOption.READ);
        fileKey = attrs.fileKey();
        if (first && !options.fromStart()) {
          channel.position(channel.size());
        }
      }
      first = false;
      if (channel != null) {
        readToEnd();
      }
    } catch (IOException e) {
      lastError = "cannot read " + path + ": " + e.getMessage();
      closeChannel();
    }
  }

  /** Starts polling on a thread every {@code pollInterval}. */
  public synchronized void start() {
    if (thread != null) {
      throw new IllegalStateException("syslog follower for " + path + " already started");
    }
    running = true;
    thread = new Thread(() -> {
      while (running) {
        poll();
        try {
          Thread.sleep(options.pollInterval().toMillis());
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "syslog-follower");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the thread and closes the file; queued lines can still be drained. */
  public void stop() {
    running = false;
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      t.interrupt();
    }
    synchronized (this) {
      closeChannel();
    }
  }

  /** Removes and returns up to {@code max} queued lines, oldest first. */
  public List<SyslogLine> drain(int max) {
    return queue.drain(max);
  }

  /** Returns a snapshot of the counters. */
  public Stats stats() {
    return new Stats(lines.get(), queue.dropped(), rotations.get(), truncations.get(), lastError);
  }

  private void readToEnd() throws IOException {
    while (true) {
      buffer.clear();
      int n = channel.read(buffer);
      if (n <= 0) {
        return;
      }
      byte[] b = buffer.array();
      int start = 0;
      for (int i = 0; i < n; i++) {
        if (b[i] == '\n') {
          partial.write(b, start, i - start);
          start = i + 1;
          emit();
        }
      }
      partial.write(b, start, n - start);
      if (partial.size() > MAX_LINE_BYTES) {
        emit();
      }
    }
  }

  private void flushPartial() {
    if (partial.size() > 0) {
      emit();
    }
  }

  private void emit() {
    String line = partial.toString(StandardCharsets.UTF_8);
    partial.reset();
    if (line.endsWith("\r")) {
      line = line.substring(0, line.length() - 1);
    }
    if (line.isEmpty()) {
      return;
    }
    lines.incrementAndGet();
    queue.offer(SyslogLine.parse(line));
  }

  private void closeChannel() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Nothing to report: the next poll reopens the path.
      }
      channel = null;
      fileKey = null;
    }
  }
}

package io.gpuwarden.agent.source.kmsg;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Reads kernel log records into a bounded {@link DropOldestQueue}, from {@code /dev/kmsg} (each
 * {@code read()} returns one record) or from a regular file in the same format (one record per
 * line, continuation lines starting with a space). Counts sequence gaps (records the kernel
 * overwrote before they were read), EPIPE reads, malformed records and queue drops; a bad record
 * never stops the reader.
 *
 * <p>{@code /dev/kmsg} is read non-blocking by whoever drains: each {@link #drain} first reads
 * every record the kernel has ready, so a quiet or chatty host costs no thread wake-up of its own.
 * When a drain finds a flood (more records than the queue holds, or records overwritten before
 * they were read), a helper thread reads every {@link #FLOOD_POLL} until the flood has passed, so
 * records are taken out of the kernel's buffer before it overwrites them. A regular file is read
 * on its own thread.
 *
 * <p>Records the {@link Options#important()} predicate accepts (those a classifier rule matches) go
 * to a second, smaller queue that a flood of ordinary lines cannot push out: a fatal Xid logged in
 * the middle of 200,000 warnings is still handed to the consumer.
 *
 * <pre>{@code
 * KmsgReader r = KmsgReader.device(Path.of("/dev/kmsg"), KmsgReader.Options.DEFAULTS.resumingAfter(lastSeq));
 * r.start();
 * for (KmsgRecord rec : r.drain(1000)) { ...; lastSeq = rec.sequence(); }
 * }</pre>
 */
public final class KmsgReader {
  /** The kernel's limit for one formatted record (CONSOLE_EXT_LOG_MAX) is 8 KiB; a smaller buffer gets EINVAL. */
  private static final int DEVICE_READ_BUFFER = 16 * 1024;
  /** Records one pass over the device reads at most; a pass that reaches it has found a flood. */
  static final int PUMP_LIMIT = 4096;
  /** How often the flood reader reads the device. */
  public static final Duration FLOOD_POLL = Duration.ofMillis(10);
  /** The flood reader stops after a second in which it read fewer records than this and none were overwritten. */
  static final int FLOOD_QUIET_RECORDS = 1000;

  private final String name;
  private final Opener opener;
  private final DeviceOpener deviceOpener;
  private final boolean recordPerRead;
  private final Options options;
  private final DropOldestQueue<KmsgRecord> queue;
  private final DropOldestQueue<KmsgRecord> importantQueue;
  private volatile long lastRecordNanos = System.nanoTime();
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong gaps = new AtomicLong();
  private final AtomicLong missed = new AtomicLong();
  private final AtomicLong brokenPipes = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile long lastSequence;
  private volatile String lastError = "";
  private volatile boolean running;
  private volatile InputStream stream;
  private Thread thread;
  /** Guards the device, its buffer and the flood reader. */
  private final Object deviceLock = new Object();
  private RecordSource device;
  private final byte[] deviceBuffer;
  private boolean caughtUp;
  private Thread floodReader;

  /** Opens a regular file's input. */
  interface Opener {
    InputStream open() throws IOException;
  }

  /** Opens a device. */
  interface DeviceOpener {
    RecordSource open() throws IOException;
  }

  /** A device read one record at a time without blocking, like {@code /dev/kmsg} opened {@code O_NONBLOCK}. */
  interface RecordSource {
    /**
     * Reads one record.
     *
     * @return its length; 0 when none is ready; -1 at the end
     * @throws KmsgDevice.BrokenPipeException when the record due next was overwritten
     */
    int read(byte[] into) throws IOException;

    /** Closes the device. */
    void close();
  }

  /**
   * How a reader behaves.
   *
   * @param queueCapacity records held for the consumer before the oldest are dropped
   * @param resumeAfterSequence records at or below this sequence are skipped (-1: none); pass the
   *     last sequence handled before a restart on the same boot
   * @param follow for regular files: keep polling for appended records at end of file
   * @param pollInterval how long to wait at end of file before polling again
   * @param important records kept in a separate queue of {@link #IMPORTANT_CAPACITY} that ordinary
   *     records cannot push out; evaluated on the reader thread
   */
  public record Options(int queueCapacity, long resumeAfterSequence, boolean follow, Duration pollInterval,
      Predicate<KmsgRecord> important) {
    /** Capacity of the queue of important records. */
    public static final int IMPORTANT_CAPACITY = 1024;
    /** 4096 records, no resume, no follow, 200 ms polls, nothing marked important. */
    public static final Options DEFAULTS = new Options(4096, -1, false, Duration.ofMillis(200), r -> false);

    /** Validates. */
    public Options {
      requireNonNull(pollInterval, "pollInterval");
      requireNonNull(important, "important");
      if (queueCapacity < 1) {
        throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
      }
    }

    /** Returns a copy that skips records at or below {@code sequence}. */
    public Options resumingAfter(long sequence) {
      return new Options(queueCapacity, sequence, follow, pollInterval, important);
    }

    /** Returns a copy that follows a regular file, polling every {@code interval} at its end. */
    public Options following(Duration interval) {
      return new Options(queueCapacity, resumeAfterSequence, true, interval, important);
    }

    /** Returns a copy holding at most {@code capacity} records. */
    public Options withCapacity(int capacity) {
      return new Options(capacity, resumeAfterSequence, follow, pollInterval, important);
    }

    /** Returns a copy that protects the records {@code predicate} accepts from being pushed out by a flood. */
    public Options withImportant(Predicate<KmsgRecord> predicate) {
      return new Options(queueCapacity, resumeAfterSequence, follow, pollInterval, predicate);
    }
  }

  private KmsgReader(String name, Opener opener, Options options) {
    this(name, requireNonNull(opener, "opener"), null, options);
  }

  /** Reads a device; package-private so tests can inject one that fails like {@code /dev/kmsg}. */
  KmsgReader(String name, DeviceOpener deviceOpener, Options options) {
    this(name, null, requireNonNull(deviceOpener, "deviceOpener"), options);
  }

  private KmsgReader(String name, Opener opener, DeviceOpener deviceOpener, Options options) {
    this.name = requireNonNull(name, "name");
    this.opener = opener;
    this.deviceOpener = deviceOpener;
    this.recordPerRead = deviceOpener != null;
    this.deviceBuffer = recordPerRead ? new byte[DEVICE_READ_BUFFER] : null;
    this.options = requireNonNull(options, "options");
    this.queue = new DropOldestQueue<>(options.queueCapacity());
    this.importantQueue = new DropOldestQueue<>(Options.IMPORTANT_CAPACITY);
    this.lastSequence = options.resumeAfterSequence();
  }

  /** Returns a reader of the kernel's {@code /dev/kmsg} (or another character device with its semantics). */
  public static KmsgReader device(Path devKmsg, Options options) {
    return new KmsgReader(devKmsg.toString(), () -> KmsgDevice.open(devKmsg, DEVICE_READ_BUFFER), options);
  }

  /** Returns a reader of a regular file holding records in the {@code /dev/kmsg} format, one per line. */
  public static KmsgReader file(Path file, Options options) {
    return new KmsgReader(file.toString(), () -> new FileInputStream(file.toFile()), options);
  }

  /** Opens the device, or starts the reader thread of a regular file. */
  public synchronized void start() {
    if (running || finished.getCount() == 0) {
      throw new IllegalStateException("kmsg reader for " + name + " already started");
    }
    running = true;
    if (recordPerRead) {
      synchronized (deviceLock) {
        try {
          device = deviceOpener.open();
        } catch (IOException e) {
          lastError = "cannot read " + name + ": " + e.getMessage();
          finished.countDown();
        }
      }
      return;
    }
    thread = new Thread(this::run, "kmsg-reader");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops reading (the device is closed); records already queued can still be drained. */
  public synchronized void stop() {
    running = false;
    if (thread != null) {
      thread.interrupt();
    }
    closeQuietly();
    if (recordPerRead) {
      Thread flood;
      synchronized (deviceLock) {
        closeDevice();
        flood = floodReader;
      }
      if (flood != null) {
        flood.interrupt();
      }
    }
  }

  /**
   * Removes and returns up to {@code max} queued records in sequence order; important records are
   * taken first, so a flood of ordinary records never starves them. From a device, every record
   * the kernel has ready is read first.
   */
  public List<KmsgRecord> drain(int max) {
    if (recordPerRead) {
      pump();
    }
    List<KmsgRecord> out = new ArrayList<>(importantQueue.drain(max));
    out.addAll(queue.drain(max - out.size()));
    out.sort((a, b) -> Long.compare(a.sequence(), b.sequence()));
    return out;
  }

  /**
   * Returns true when everything logged so far has been read: from a device, once a read found no
   * record ready ({@code quiet} does not apply); from a file, when the reader has finished or has
   * read nothing new for {@code quiet}.
   */
  public boolean idleFor(Duration quiet) {
    if (recordPerRead) {
      pump();
      synchronized (deviceLock) {
        return finished.getCount() == 0 || caughtUp;
      }
    }
    return finished.getCount() == 0 || System.nanoTime() - lastRecordNanos >= quiet.toNanos();
  }

  /** Waits until reading has ended (end of a regular file without follow, stop, or a read error). */
  public boolean awaitFinished(Duration timeout) throws InterruptedException {
    return finished.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Returns a snapshot of the counters. */
  public KmsgStats stats() {
    return new KmsgStats(records.get(), queue.dropped() + importantQueue.dropped(), gaps.get(), missed.get(), brokenPipes.get(), malformed.get(),
        skipped.get(), lastSequence, lastError);
  }

  private void run() {
    try (InputStream in = opener.open()) {
      stream = in;
      readLines(in);
    } catch (IOException e) {
      if (running) {
        lastError = "cannot read " + name + ": " + e.getMessage();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      finished.countDown();
    }
  }

  /**
   * Reads the records the device has ready, at most {@link #PUMP_LIMIT}; starts the flood reader
   * when that many were ready or some were overwritten before they could be read.
   *
   * @return the records read
   */
  private int pump() {
    synchronized (deviceLock) {
      if (device == null) {
        return 0;
      }
      int count = 0;
      boolean overwritten = false;
      caughtUp = false;
      while (count < PUMP_LIMIT) {
        int n;
        try {
          n = device.read(deviceBuffer);
        } catch (KmsgDevice.BrokenPipeException e) {
          // EPIPE: the record we were due to read was overwritten; the next read returns the oldest left.
          brokenPipes.incrementAndGet();
          overwritten = true;
          continue;
        } catch (IOException e) {
          lastError = "cannot read " + name + ": " + e.getMessage();
          closeDevice();
          return count;
        }
        if (n == 0) {
          caughtUp = true;
          break;
        }
        if (n < 0) {
          closeDevice();
          return count;
        }
        long gapsBefore = gaps.get();
        accept(new String(deviceBuffer, 0, n, StandardCharsets.UTF_8));
        overwritten |= gaps.get() != gapsBefore;
        count++;
      }
      if ((count >= PUMP_LIMIT || overwritten) && floodReader == null && running) {
        floodReader = new Thread(this::readFlood, "kmsg-flood-reader");
        floodReader.setDaemon(true);
        floodReader.start();
      }
      return count;
    }
  }

  /** Reads the device every {@link #FLOOD_POLL} until a second passes with few records and none overwritten. */
  private void readFlood() {
    long pollsPerSecond = Duration.ofSeconds(1).toNanos() / FLOOD_POLL.toNanos();
    try {
      int polls = 0;
      long read = 0;
      long overwrittenBefore = brokenPipes.get() + gaps.get();
      while (running) {
        Thread.sleep(FLOOD_POLL.toMillis());
        read += pump();
        if (++polls < pollsPerSecond) {
          continue;
        }
        long overwritten = brokenPipes.get() + gaps.get();
        if (read < FLOOD_QUIET_RECORDS && overwritten == overwrittenBefore) {
          return;
        }
        polls = 0;
        read = 0;
        overwrittenBefore = overwritten;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      synchronized (deviceLock) {
        floodReader = null;
      }
    }
  }

  /** Returns true while the flood reader runs; for tests. */
  boolean floodReaderRunning() {
    synchronized (deviceLock) {
      return floodReader != null;
    }
  }

  private void closeDevice() {
    if (device != null) {
      device.close();
      device = null;
      caughtUp = true;
      finished.countDown();
    }
  }

  private void readLines(InputStream in) throws IOException, InterruptedException {
    byte[] buf = new byte[64 * 1024];
    ByteArrayOutputStream partial = new ByteArrayOutputStream();
    String header = null;
    List<String> continuation = new ArrayList<>();
    while (running) {
      int n = in.read(buf);
      if (n < 0) {
        if (header != null) {
          handle(header, continuation);
          header = null;
          continuation = new ArrayList<>();
        }
        if (!options.follow()) {
          return;
        }
        Thread.sleep(options.pollInterval().toMillis());
        continue;
      }
      int start = 0;
      for (int i = 0; i < n; i++) {
        if (buf[i] != '\n') {
          continue;
        }
        partial.write(buf, start, i - start);
        start = i + 1;
        String line = partial.toString(StandardCharsets.UTF_8);
        partial.reset();
        if (line.startsWith(" ")) {
          if (header != null) {
            continuation.add(line);
          }
        } else if (!line.isEmpty()) {
          if (header != null) {
            handle(header, continuation);
            continuation = new ArrayList<>();
          }
          header = line;
        }
      }
      partial.write(buf, start, n - start);
    }
  }

  private void accept(String block) {
    try {
      offer(KmsgParser.parseBlock(block));
    } catch (IllegalArgumentException e) {
      malformed.incrementAndGet();
      lastError = e.getMessage();
    }
  }

  private void handle(String header, List<String> continuation) {
    try {
      offer(KmsgParser.parse(header, continuation));
    } catch (IllegalArgumentException e) {
      malformed.incrementAndGet();
      lastError = e.getMessage();
    }
  }

  private void offer(KmsgRecord record) {
    lastRecordNanos = System.nanoTime();
    long seq = record.sequence();
    if (seq <= options.resumeAfterSequence()) {
      skipped.incrementAndGet();
      return;
    }
    long last = lastSequence;
    if (last >= 0 && seq > last + 1) {
      gaps.incrementAndGet();
      missed.addAndGet(seq - last - 1);
    }
    lastSequence = seq;
    records.incrementAndGet();
    if (options.important().test(record)) {
      importantQueue.offer(record);
    } else {
      queue.offer(record);
    }
  }

  private void closeQuietly() {
    InputStream in = stream;
    if (in != null) {
      try {
        in.close();
      } catch (IOException ignored) {
        // Closing only unblocks the reader thread; there is nothing left to report.
      }
    }
  }
}

package io.gpuwarden.agent.source.kmsg;

import java.io.IOException;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * {@code /dev/kmsg} opened non-blocking through the C library: each {@link #read} returns one
 * record, or 0 at once when the kernel has no record ready, so whoever reads decides when to look
 * (Java's streams only block, and a thread blocked on {@code /dev/kmsg} is woken once per record).
 *
 * <p>The error numbers are Linux's on every architecture it runs GPUs on (x86-64, arm64).
 *
 * <p>Not thread-safe: callers serialise reads and {@link #close()}.
 */
final class KmsgDevice implements KmsgReader.RecordSource {
  private static final int O_RDONLY = 0;
  private static final int O_NONBLOCK = 04000;
  private static final int O_CLOEXEC = 02000000;
  private static final int EINTR = 4;
  private static final int EAGAIN = 11;
  private static final int EPIPE = 32;

  /** The C library calls used, with errno saved after each. */
  public interface Libc {
    /** {@code int open(const char *path, int flags, mode_t mode)}. */
    @SaveError
    int open(String path, int flags, int mode);

    /** {@code ssize_t read(int fd, void *buf, size_t count)}. */
    @SaveError
    @ssize_t long read(int fd, Pointer buf, @size_t long count);

    /** {@code int close(int fd)}. */
    int close(int fd);

    /** {@code char *strerror(int errnum)}. */
    String strerror(int errnum);
  }

  private static volatile Libc libc;

  private final Path path;
  private final Runtime runtime;
  private final Pointer buffer;
  private final int capacity;
  private int fd;

  private KmsgDevice(Path path, Runtime runtime, int fd, int capacity) {
    this.path = path;
    this.runtime = runtime;
    this.fd = fd;
    this.capacity = capacity;
    this.buffer = Memory.allocateDirect(runtime, capacity);
  }

  private static Libc libc() {
    Libc l = libc;
    if (l == null) {
      l = LibraryLoader.create(Libc.class).failImmediately().load("c");
      libc = l;
    }
    return l;
  }

  /**
   * Opens {@code path} read-only and non-blocking.
   *
   * @param capacity the read buffer; the kernel refuses ({@code EINVAL}) a read too small for a record
   * @throws IOException naming the path and the system's reason when it cannot be opened
   */
  static KmsgDevice open(Path path, int capacity) throws IOException {
    Libc l;
    try {
      l = libc();
    } catch (UnsatisfiedLinkError e) {
      throw new IOException("cannot load the C library to read " + path + ": " + e.getMessage(), e);
    }
    Runtime runtime = Runtime.getRuntime(l);
    int fd = l.open(path.toString(), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) {
      int errno = runtime.getLastError();
      throw new IOException(path + ": " + l.strerror(errno));
    }
    return new KmsgDevice(path, runtime, fd, capacity);
  }

  /**
   * Reads one record into {@code into}.
   *
   * @return the record's length; 0 when no record is ready; -1 at the end (the device was closed)
   * @throws BrokenPipeException when the record due next was overwritten (the next read returns the oldest left)
   * @throws IOException for any other read error, with the system's reason
   */
  @Override
  public int read(byte[] into) throws IOException {
    if (fd < 0) {
      return -1;
    }
    Libc l = libc();
    while (true) {
      long n = l.read(fd, buffer, Math.min(capacity, into.length));
      if (n >= 0) {
        buffer.get(0, into, 0, (int) n);
        return (int) n;
      }
      int errno = runtime.getLastError();
      switch (errno) {
        case EINTR -> {
          continue;
        }
        case EAGAIN -> {
          return 0;
        }
        case EPIPE -> throw new BrokenPipeException(path + ": " + l.strerror(errno));
        default -> throw new IOException("read " + path + ": " + l.strerror(errno));
      }
    }
  }

  @Override
  public void close() {
    if (fd >= 0) {
      libc().close(fd);
      fd = -1;
    }
  }

  /** {@code EPIPE} from {@code /dev/kmsg}: records were overwritten before they were read. */
  static final class BrokenPipeException extends IOException {
    private static final long serialVersionUID = 1L;

    BrokenPipeException(String message) {
      super(message);
    }
  }
}

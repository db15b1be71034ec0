package io.gpuwarden.agent.uplink;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * Where and how much the uplink spools unacknowledged batches.
 *
 * <pre>{@code
 * SpoolConfig spool = SpoolConfig.defaults().withDirectory(Path.of("/data/spool")).withDiskCapBytes(1L << 30);
 * }</pre>
 *
 * @param directory directory of the disk segments and the stream state; a relative path is
 *     resolved against the agent's state directory (see {@link #resolvedAgainst(Path)})
 * @param memoryBatches newest unacknowledged batches kept in memory; older ones go to disk
 * @param diskCapBytes most bytes the segment files may take; past it samples of the oldest batches
 *     are stripped, then whole oldest batches dropped, both counted
 * @param segmentBytes size at which a segment file is closed (fsync) and a new one started; also the
 *     granularity of compaction
 */
public record SpoolConfig(Path directory, int memoryBatches, long diskCapBytes, long segmentBytes) {
  /** Default directory, under the state directory. */
  public static final Path DEFAULT_DIRECTORY = Path.of("spool");
  /** Default batches kept in memory: ten minutes at the default one-second interval. */
  public static final int DEFAULT_MEMORY_BATCHES = 600;
  /** Default disk cap, 256 MiB: about a day of an 8-GPU node's batches at one per second. */
  public static final long DEFAULT_DISK_CAP_BYTES = 256L << 20;
  /** Default segment size, 4 MiB: small enough that compaction rewrites little at a time. */
  public static final long DEFAULT_SEGMENT_BYTES = 4L << 20;

  /** Validates. */
  public SpoolConfig {
    requireNonNull(directory, "directory");
    if (memoryBatches < 1) {
      throw new IllegalArgumentException("spool memory batches (unacked batch limit) must be at least 1, got " + memoryBatches);
    }
    if (segmentBytes < 1024) {
      throw new IllegalArgumentException("spool segment size must be at least 1024 bytes, got " + segmentBytes);
    }
    if (diskCapBytes < segmentBytes) {
      throw new IllegalArgumentException("spool disk cap must be at least one segment (" + segmentBytes + " bytes), got "
          + diskCapBytes);
    }
  }

  /** Returns the defaults: {@code spool} under the state directory, 600 batches in memory, 256 MiB on disk. */
  public static SpoolConfig defaults() {
    return new SpoolConfig(DEFAULT_DIRECTORY, DEFAULT_MEMORY_BATCHES, DEFAULT_DISK_CAP_BYTES, DEFAULT_SEGMENT_BYTES);
  }

  /** Returns a copy with {@code directory}. */
  public SpoolConfig withDirectory(Path directory) {
    return new SpoolConfig(directory, memoryBatches, diskCapBytes, segmentBytes);
  }

  /** Returns a copy with {@code memoryBatches}. */
  public SpoolConfig withMemoryBatches(int memoryBatches) {
    return new SpoolConfig(directory, memoryBatches, diskCapBytes, segmentBytes);
  }

  /** Returns a copy with {@code diskCapBytes}; the segment size shrinks to the cap when it is larger. */
  public SpoolConfig withDiskCapBytes(long diskCapBytes) {
    return new SpoolConfig(directory, memoryBatches, diskCapBytes, Math.max(1024, Math.min(segmentBytes, diskCapBytes)));
  }

  /** Returns a copy with {@code segmentBytes}. */
  public SpoolConfig withSegmentBytes(long segmentBytes) {
    return new SpoolConfig(directory, memoryBatches, diskCapBytes, segmentBytes);
  }

  /** Returns a copy whose directory is resolved against {@code stateDir} when it is relative. */
  public SpoolConfig resolvedAgainst(Path stateDir) {
    return directory.isAbsolute() ? this : withDirectory(stateDir.resolve(directory));
  }
}

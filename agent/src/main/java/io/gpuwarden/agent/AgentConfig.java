package io.gpuwarden.agent;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.check.CheckConfig;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.host.HostIdentity;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.agent.tls.UplinkSecurity;
import io.gpuwarden.agent.uplink.SpoolConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The agent's configuration, an immutable value.
 *
 * <pre>{@code
 * AgentConfig config = AgentConfig.builder().nodeId("gpu-001").collectorTarget("collector:7700").build();
 * }</pre>
 *
 * @param nodeId node id reported to the collector (defaults to the host name)
 * @param pool pool the node belongs to
 * @param cluster cluster name, may be empty
 * @param labels free-form labels sent in the hello
 * @param collectorTarget collector address as {@code host:port}, or several comma-separated, tried in order (failover)
 * @param sampleInterval how often every GPU is sampled
 * @param detailInterval how often the slow-changing and costly readings are taken: NVLink state and
 *     error counters, retired pages, PCIe maxima, power limit, ECC and persistence mode, and the
 *     InfiniBand counters (the port state and rate are read every interval). In between, the last
 *     values are carried forward. Zero (or anything up to {@code sampleInterval}) reads them every time.
 * @param sendInterval how often batches go to the collector: the batches sampled in between wait
 *     in the spool and go together (one write, one wake-up of each end, instead of one per sample).
 *     A batch with an event or a check whose state changed goes at once, with everything before it.
 *     The agent also sends at least every half of the collector's stale-after (it says so when the
 *     stream opens). Zero (or anything up to {@code sampleInterval}) sends every batch at once.
 * @param nvmlLibrary NVML library file to load; empty to search the system library path
 * @param bootIdFile file holding the Linux boot id
 * @param reconnectInitialBackoff first wait before reconnecting after the stream fails
 * @param reconnectMaxBackoff cap of the exponential reconnect backoff
 * @param spool where unacknowledged batches are kept: the newest in memory, older ones in a
 *     capped disk directory (a relative directory is resolved against {@code stateDir})
 * @param nvmlTimeout deadline of one GPU's reads in one cycle; a GPU that misses it is unresponsive
 * @param stateDir directory for durable agent state (Xid history, first inventory of the boot)
 * @param checks thresholds and switches of the health checks
 * @param xidPolicy the Xid policy table
 * @param sysfsRoot the sysfs mount, {@code /sys}; InfiniBand ports are read under {@code class/infiniband}
 * @param logs the kernel log and syslog sources and log forwarding
 * @param security how the stream to the collector is protected and authenticated (TLS, mTLS, bearer token)
 */
public record AgentConfig(
    String nodeId,
    String pool,
    String cluster,
    Map<String, String> labels,
    String collectorTarget,
    Duration sampleInterval,
    Duration detailInterval,
    Duration sendInterval,
    Optional<Path> nvmlLibrary,
    Path bootIdFile,
    Duration reconnectInitialBackoff,
    Duration reconnectMaxBackoff,
    SpoolConfig spool,
    Duration nvmlTimeout,
    Path stateDir,
    CheckConfig checks,
    XidPolicy xidPolicy,
    Path sysfsRoot,
    LogConfig logs,
    UplinkSecurity security) {

  /** Default collector address. */
  public static final String DEFAULT_COLLECTOR_TARGET = "localhost:7700";
  /** Default pool name. */
  public static final String DEFAULT_POOL = "default";
  /** Default sampling interval. */
  public static final Duration DEFAULT_SAMPLE_INTERVAL = Duration.ofSeconds(1);
  /** Default first reconnect wait. */
  public static final Duration DEFAULT_RECONNECT_INITIAL_BACKOFF = Duration.ofMillis(200);
  /** Default interval of the slow-changing and costly readings. */
  public static final Duration DEFAULT_DETAIL_INTERVAL = Duration.ofSeconds(10);
  /** Default interval between sends to the collector. */
  public static final Duration DEFAULT_SEND_INTERVAL = Duration.ofSeconds(5);
  /** Default reconnect wait cap. */
  public static final Duration DEFAULT_RECONNECT_MAX_BACKOFF = Duration.ofSeconds(30);
  /** Default unacknowledged batches kept in memory: ten minutes at the default interval. */
  public static final int DEFAULT_UNACKED_BATCH_LIMIT = SpoolConfig.DEFAULT_MEMORY_BATCHES;
  /** Default deadline of one GPU's reads per cycle. */
  public static final Duration DEFAULT_NVML_TIMEOUT = Duration.ofSeconds(2);
  /** Default state directory. */
  public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/gpuwarden");
  /** Default sysfs mount. */
  public static final Path DEFAULT_SYSFS_ROOT = Path.of("/sys");

  /** Validates and copies. */
  public AgentConfig {
    requireNonNull(nodeId, "nodeId");
    requireNonNull(pool, "pool");
    requireNonNull(cluster, "cluster");
    labels = Map.copyOf(requireNonNull(labels, "labels"));
    requireNonNull(collectorTarget, "collectorTarget");
    io.gpuwarden.agent.uplink.CollectorTargets.parse(collectorTarget);
    requireNonNull(sampleInterval, "sampleInterval");
    requireNonNull(detailInterval, "detailInterval");
    if (detailInterval.isNegative()) {
      throw new IllegalArgumentException("detail interval must not be negative, got " + detailInterval);
    }
    requireNonNull(sendInterval, "sendInterval");
    if (sendInterval.isNegative() || sendInterval.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("send interval must be between 0 and 1m, got " + sendInterval);
    }
    requireNonNull(nvmlLibrary, "nvmlLibrary");
    requireNonNull(bootIdFile, "bootIdFile");
    requireNonNull(reconnectInitialBackoff, "reconnectInitialBackoff");
    requireNonNull(reconnectMaxBackoff, "reconnectMaxBackoff");
    if (nodeId.isBlank()) {
      throw new IllegalArgumentException("node id must not be blank");
    }
    if (pool.isBlank()) {
      throw new IllegalArgumentException("pool must not be blank");
    }
    if (sampleInterval.compareTo(Duration.ofMillis(10)) < 0) {
      throw new IllegalArgumentException(
          "sample interval must be at least 10ms, got " + sampleInterval.toMillis() + "ms");
    }
    if (reconnectInitialBackoff.isNegative()
        || reconnectInitialBackoff.isZero()
        || reconnectMaxBackoff.compareTo(reconnectInitialBackoff) < 0) {
      throw new IllegalArgumentException(
          "reconnect backoff must satisfy 0 < initial <= max, got initial="
              + reconnectInitialBackoff + " max=" + reconnectMaxBackoff);
    }
    requireNonNull(nvmlTimeout, "nvmlTimeout");
    requireNonNull(stateDir, "stateDir");
    requireNonNull(checks, "checks");
    requireNonNull(xidPolicy, "xidPolicy");
    requireNonNull(sysfsRoot, "sysfsRoot");
    requireNonNull(logs, "logs");
    spool = requireNonNull(spool, "spool").resolvedAgainst(stateDir);
    requireNonNull(security, "security");
    if (nvmlTimeout.compareTo(Duration.ofMillis(10)) < 0) {
      throw new IllegalArgumentException("NVML timeout must be at least 10ms, got " + nvmlTimeout.toMillis() + "ms");
    }
  }

  /** Returns how many unacknowledged batches are kept in memory, {@code spool().memoryBatches()}. */
  public int unackedBatchLimit() {
    return spool.memoryBatches();
  }

  /** Returns a builder with every default set; the node id defaults to the host name. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link AgentConfig}s. */
  public static final class Builder {
    private String nodeId;
    private String pool = DEFAULT_POOL;
    private String cluster = "";
    private final Map<String, String> labels = new TreeMap<>();
    private String collectorTarget = DEFAULT_COLLECTOR_TARGET;
    private Duration sampleInterval = DEFAULT_SAMPLE_INTERVAL;
    private Duration detailInterval = DEFAULT_DETAIL_INTERVAL;
    private Duration sendInterval = DEFAULT_SEND_INTERVAL;
    private Path nvmlLibrary;
    private Path bootIdFile = HostIdentity.DEFAULT_BOOT_ID_FILE;
    private Duration reconnectInitialBackoff = DEFAULT_RECONNECT_INITIAL_BACKOFF;
    private Duration reconnectMaxBackoff = DEFAULT_RECONNECT_MAX_BACKOFF;
    private SpoolConfig spool = SpoolConfig.defaults();
    private Integer unackedBatchLimit;
    private Duration nvmlTimeout = DEFAULT_NVML_TIMEOUT;
    private Path stateDir = DEFAULT_STATE_DIR;
    private CheckConfig checks = CheckConfig.defaults();
    private XidPolicy xidPolicy = XidPolicy.defaults();
    private Path sysfsRoot = DEFAULT_SYSFS_ROOT;
    private LogConfig logs = LogConfig.defaults();
    private UplinkSecurity security = UplinkSecurity.plaintext();

    private Builder() {}

    /** Sets the sysfs mount InfiniBand ports are read from. */
    public Builder sysfsRoot(Path sysfsRoot) {
      this.sysfsRoot = requireNonNull(sysfsRoot, "sysfsRoot");
      return this;
    }

    /** Sets how the stream to the collector is protected and authenticated (default: plaintext, no token). */
    public Builder security(UplinkSecurity security) {
      this.security = requireNonNull(security, "security");
      return this;
    }

    /** Sets the log sources and forwarding. */
    public Builder logs(LogConfig logs) {
      this.logs = requireNonNull(logs, "logs");
      return this;
    }

    /** Sets the deadline of one GPU's reads per cycle. */
    public Builder nvmlTimeout(Duration nvmlTimeout) {
      this.nvmlTimeout = requireNonNull(nvmlTimeout, "nvmlTimeout");
      return this;
    }

    /** Sets the state directory. */
    public Builder stateDir(Path stateDir) {
      this.stateDir = requireNonNull(stateDir, "stateDir");
      return this;
    }

    /** Sets the check configuration. */
    public Builder checks(CheckConfig checks) {
      this.checks = requireNonNull(checks, "checks");
      return this;
    }

    /** Sets the Xid policy. */
    public Builder xidPolicy(XidPolicy xidPolicy) {
      this.xidPolicy = requireNonNull(xidPolicy, "xidPolicy");
      return this;
    }

    /** Sets the node id; null means the host name. */
    public Builder nodeId(String nodeId) {
      this.nodeId = nodeId;
      return this;
    }

    /** Sets the pool. */
    public Builder pool(String pool) {
      this.pool = requireNonNull(pool, "pool");
      return this;
    }

    /** Sets the cluster. */
    public Builder cluster(String cluster) {
      this.cluster = requireNonNull(cluster, "cluster");
      return this;
    }

    /** Adds labels. */
    public Builder labels(Map<String, String> labels) {
      this.labels.putAll(requireNonNull(labels, "labels"));
      return this;
    }

    /** Sets the collector address, {@code host:port}. */
    public Builder collectorTarget(String collectorTarget) {
      this.collectorTarget = requireNonNull(collectorTarget, "collectorTarget");
      return this;
    }

    /** Sets the sampling interval. */
    public Builder sampleInterval(Duration sampleInterval) {
      this.sampleInterval = requireNonNull(sampleInterval, "sampleInterval");
      return this;
    }

    /** Sets how often the slow-changing and costly readings are taken; zero takes them every interval. */
    public Builder detailInterval(Duration detailInterval) {
      this.detailInterval = requireNonNull(detailInterval, "detailInterval");
      return this;
    }

    /** Sets how often batches are sent to the collector; zero sends each at once. */
    public Builder sendInterval(Duration sendInterval) {
      this.sendInterval = requireNonNull(sendInterval, "sendInterval");
      return this;
    }

    /** Sets the NVML library file; null searches the system library path. */
    public Builder nvmlLibrary(Path nvmlLibrary) {
      this.nvmlLibrary = nvmlLibrary;
      return this;
    }

    /** Sets the boot id file. */
    public Builder bootIdFile(Path bootIdFile) {
      this.bootIdFile = requireNonNull(bootIdFile, "bootIdFile");
      return this;
    }

    /** Sets the reconnect backoff bounds. */
    public Builder reconnectBackoff(Duration initial, Duration max) {
      this.reconnectInitialBackoff = requireNonNull(initial, "initial");
      this.reconnectMaxBackoff = requireNonNull(max, "max");
      return this;
    }

    /** Sets how many unacknowledged batches are kept in memory; wins over {@link #spool}'s. */
    public Builder unackedBatchLimit(int unackedBatchLimit) {
      this.unackedBatchLimit = unackedBatchLimit;
      return this;
    }

    /** Sets the spool of unacknowledged batches. */
    public Builder spool(SpoolConfig spool) {
      this.spool = requireNonNull(spool, "spool");
      return this;
    }

    /** Builds the configuration, validating every value. */
    public AgentConfig build() {
      return new AgentConfig(
          nodeId != null ? nodeId : HostIdentity.hostname(),
          pool,
          cluster,
          labels,
          collectorTarget,
          sampleInterval,
          detailInterval,
          sendInterval,
          Optional.ofNullable(nvmlLibrary),
          bootIdFile,
          reconnectInitialBackoff,
          reconnectMaxBackoff,
          unackedBatchLimit == null ? spool : spool.withMemoryBatches(unackedBatchLimit),
          nvmlTimeout,
          stateDir,
          checks,
          xidPolicy,
          sysfsRoot,
          logs,
          security);
    }
  }
}

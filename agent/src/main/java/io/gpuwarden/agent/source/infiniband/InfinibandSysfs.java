package io.gpuwarden.agent.source.infiniband;

import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads every HCA and port under {@code <root>/class/infiniband} (on real hosts each entry is a
 * symlink into {@code devices/}; links are followed). Each full read lists afresh, so HCAs and ports
 * that appear or vanish are picked up; a read without counters (see {@link #sample(Instant, boolean)})
 * reuses the last listing, reads each port's {@code state}, and returns samples marked
 * {@code counters_carried} that hold no counters: the checks see the last counters in
 * {@link #checkView()}. A file that cannot be read is reported in the sample's
 * {@code read_errors}, never fatal. Data counters come out in bytes (the files count 4-byte words);
 * narrow error counters at their maximum are listed as saturated.
 *
 * <p>Not thread-safe: it keeps the last listing and counters for reads without counters.
 *
 * <pre>{@code
 * List<InfinibandPortSample> ports = new InfinibandSysfs(Path.of("/sys")).sample(Instant.now());
 * }</pre>
 */
public final class InfinibandSysfs {
  private static final Pattern PCI = Pattern.compile("\\p{XDigit}{4}:\\p{XDigit}{2}:\\p{XDigit}{2}\\.\\p{XDigit}");

  private final Path root;
  /** The ports the last full read found; null before the first. */
  private List<PortPath> layout;
  /** Each port's state, physical state and rate as last read, by "hca/port"; absent when unreadable. */
  private final Map<String, PortStatus> statuses = new HashMap<>();
  /** Each port's last full sample with its current status, in listing order: what the checks see. */
  private final Map<String, InfinibandPortSample> views = new java.util.LinkedHashMap<>();
  /** {@link #views} as a list, made again only when a view changes: the checks ask every cycle. */
  private List<InfinibandPortSample> checkView = List.of();

  /** Reads below {@code root} (normally {@code /sys}). */
  public InfinibandSysfs(Path root) {
    this.root = root;
  }

  /** Returns the static description of every port. */
  public List<InfinibandPortInfo> inventory() {
    List<InfinibandPortInfo> out = new ArrayList<>();
    for (Path hca : hcas()) {
      String name = hca.getFileName().toString();
      for (Path port : ports(hca)) {
        InfinibandPortInfo.Builder b = InfinibandPortInfo.newBuilder().setHca(name)
            .setPort(Integer.parseInt(port.getFileName().toString()));
        read(port.resolve("link_layer")).ifPresent(b::setLinkLayer);
        read(hca.resolve("fw_ver")).ifPresent(b::setFirmwareVersion);
        read(hca.resolve("board_id")).ifPresent(b::setBoardId);
        read(hca.resolve("hca_type")).ifPresent(b::setHcaType);
        read(hca.resolve("node_guid")).ifPresent(b::setNodeGuid);
        pciBusId(hca).ifPresent(b::setPciBusId);
        out.add(b.build());
      }
    }
    return out;
  }

  /** Lists the ports anew and reads every port's state, rate and counters. */
  public List<InfinibandPortSample> sample(Instant now) {
    return sample(now, true);
  }

  /**
   * Reads every port's state and rate, and its counters when {@code withCounters}.
   *
   * <p>Without counters, only {@code state} of the ports the last full read found is read (one file
   * a port instead of 20 to 40); {@code phys_state} and {@code rate} are read again only when
   * {@code state} changed, and otherwise carried with the counters (and their read errors) from
   * the last read. It falls back to a full read (listing the ports anew) when there was none yet,
   * or when an attribute cannot be read: the port may have gone.
   */
  public List<InfinibandPortSample> sample(Instant now, boolean withCounters) {
    if (!withCounters && layout != null) {
      List<InfinibandPortSample> out = new ArrayList<>(layout.size());
      com.google.protobuf.Timestamp time = ProtoTime.of(now);
      for (PortPath p : layout) {
        PortStatus last = statuses.get(p.key());
        Optional<String> state = attribute(p.path(), "state", new ArrayList<>());
        if (last == null || state.isEmpty()) {
          return sample(now, true); // the port may have gone: list afresh, and say why
        }
        if (!state.get().equals(last.stateText())) {
          List<String> errors = new ArrayList<>();
          last = readStatus(p.path(), errors);
          if (!errors.isEmpty()) {
            return sample(now, true);
          }
          PortStatus changed = last;
          statuses.put(p.key(), changed);
          views.computeIfPresent(p.key(), (k, v) -> withStatus(v, changed));
          checkView = List.copyOf(views.values());
        }
        out.add(InfinibandPortSample.newBuilder().setHca(p.hca()).setPort(p.number()).setTime(time)
            .setCountersCarried(true).mergeFrom(last.fields()).build());
      }
      return out;
    }
    List<InfinibandPortSample> out = new ArrayList<>();
    List<PortPath> found = new ArrayList<>();
    statuses.clear();
    views.clear();
    for (Path hca : hcas()) {
      for (Path port : ports(hca)) {
        PortPath p = new PortPath(hca.getFileName().toString(), Integer.parseInt(port.getFileName().toString()), port);
        found.add(p);
        InfinibandPortSample sample = sample(p, now);
        views.put(p.key(), sample);
        out.add(sample);
      }
    }
    layout = List.copyOf(found);
    checkView = List.copyOf(views.values());
    return out;
  }

  /**
   * Returns every port as the checks need it: the counters (and their read errors) of the last
   * full read, with the state, physical state and rate as last read.
   */
  public List<InfinibandPortSample> checkView() {
    return checkView;
  }

  /** Returns {@code sample} with the status fields of {@code status} instead of its own. */
  private static InfinibandPortSample withStatus(InfinibandPortSample sample, PortStatus status) {
    return sample.toBuilder().clearState().clearStateName().clearPhysState().clearPhysStateName()
        .clearRateBitsPerSecond().clearRateText().mergeFrom(status.fields()).build();
  }

  /** Where one port's attributes are. */
  private record PortPath(String hca, int number, Path path) {
    String key() {
      return hca + "/" + number;
    }
  }

  /** One port's status fields as last read, and the {@code state} file's text they were read with. */
  private record PortStatus(String stateText, InfinibandPortSample fields) {}

  private InfinibandPortSample sample(PortPath p, Instant now) {
    InfinibandPortSample.Builder b = InfinibandPortSample.newBuilder().setHca(p.hca()).setPort(p.number())
        .setTime(ProtoTime.of(now));
    List<String> errors = new ArrayList<>();
    PortStatus status = readStatus(p.path(), errors);
    b.mergeFrom(status.fields());
    if (errors.isEmpty()) {
      statuses.put(p.key(), status);
    }
    List<String> counterErrors = new ArrayList<>();
    List<String> saturated = new ArrayList<>();
    TreeMap<String, Long> values = new TreeMap<>();
    for (String dir : new String[] {"counters", "hw_counters"}) {
      for (Path f : list(p.path().resolve(dir))) {
        String name = f.getFileName().toString();
        if (name.equals("lifespan")) {
          continue;
        }
        String key = dir.equals("counters") ? name : dir + "/" + name;
        attribute(p.path(), dir + "/" + name, counterErrors).ifPresent(t -> parse(t, key, counterErrors, () -> {
          long v = InfinibandFormats.counter(t);
          if (dir.equals("counters") && InfinibandFormats.saturated(name, v)) {
            saturated.add(name);
          }
          values.put(key, dir.equals("counters") && InfinibandFormats.countsWords(name) ? v * 4 : v);
        }));
      }
    }
    b.putAllCounters(values).addAllSaturatedCounters(saturated);
    b.addAllReadErrors(errors).addAllReadErrors(counterErrors);
    return b.build();
  }

  /** Reads {@code state}, {@code phys_state} and {@code rate}; what cannot be read or parsed goes to {@code errors}. */
  private static PortStatus readStatus(Path port, List<String> errors) {
    InfinibandPortSample.Builder b = InfinibandPortSample.newBuilder();
    Optional<String> state = attribute(port, "state", errors);
    state.ifPresent(t -> parse(t, "state", errors, () -> {
      var s = InfinibandFormats.numbered(t);
      b.setState(s.number()).setStateName(s.name());
    }));
    attribute(port, "phys_state", errors).ifPresent(t -> parse(t, "phys_state", errors, () -> {
      var s = InfinibandFormats.numbered(t);
      b.setPhysState(s.number()).setPhysStateName(s.name());
    }));
    attribute(port, "rate", errors).ifPresent(t -> parse(t, "rate", errors, () -> {
      var r = InfinibandFormats.rate(t);
      b.setRateBitsPerSecond(r.bitsPerSecond()).setRateText(r.text());
    }));
    return new PortStatus(state.orElse(""), b.build());
  }

  private interface Parse {
    void run();
  }

  private static void parse(String text, String file, List<String> errors, Parse p) {
    try {
      p.run();
    } catch (IllegalArgumentException | ArithmeticException e) {
      errors.add(file + ": " + e.getMessage());
    }
  }

  private static Optional<String> attribute(Path port, String file, List<String> errors) {
    try {
      return Optional.of(SysfsAttribute.read(port.resolve(file)).strip());
    } catch (IOException e) {
      errors.add(file + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName()
          + " " + e.getMessage()));
      return Optional.empty();
    }
  }

  private static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file, StandardCharsets.US_ASCII).strip());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> pciBusId(Path hca) {
    try {
      Path device = hca.resolve("device").toRealPath();
      String name = device.getFileName().toString();
      return PCI.matcher(name).matches() ? Optional.of(name) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private List<Path> hcas() {
    return list(root.resolve("class/infiniband"));
  }

  private static List<Path> ports(Path hca) {
    return list(hca.resolve("ports")).stream().filter(p -> p.getFileName().toString().matches("\\d+")).toList();
  }

  private static List<Path> list(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        out.add(p);
      }
    } catch (IOException e) {
      return List.of();
    }
    out.sort(null);
    return out;
  }
}

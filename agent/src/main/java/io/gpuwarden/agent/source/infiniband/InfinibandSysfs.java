package io.gpuwarden.agent.source.infiniband;

import io.gpuwarden.agent.source.ProtoTime;
import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads every HCA and port under {@code <root>/class/infiniband} (on real hosts each entry is a
 * symlink into {@code devices/}; links are followed). Each call lists afresh, so HCAs and ports that
 * appear or vanish are picked up. A file that cannot be read is reported in the sample's
 * {@code read_errors}, never fatal. Data counters come out in bytes (the files count 4-byte words);
 * narrow error counters at their maximum are listed as saturated.
 *
 * <pre>{@code
 * List<InfinibandPortSample> ports = new InfinibandSysfs(Path.of("/sys")).sample(Instant.now());
 * }</pre>
 */
public final class InfinibandSysfs {
  private static final Pattern PCI = Pattern.compile("\\p{XDigit}{4}:\\p{XDigit}{2}:\\p{XDigit}{2}\\.\\p{XDigit}");

  private final Path root;

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
        read(hca.resolve("node_guid")).ifPresent(b::setNodeGuid);
        pciBusId(hca).ifPresent(b::setPciBusId);
        out.add(b.build());
      }
    }
    return out;
  }

  /** Reads every port's state, rate and counters. */
  public List<InfinibandPortSample> sample(Instant now) {
    List<InfinibandPortSample> out = new ArrayList<>();
    for (Path hca : hcas()) {
      for (Path port : ports(hca)) {
        out.add(sample(hca.getFileName().toString(), port, now));
      }
    }
    return out;
  }

  private InfinibandPortSample sample(String hca, Path port, Instant now) {
    InfinibandPortSample.Builder b = InfinibandPortSample.newBuilder().setHca(hca)
        .setPort(Integer.parseInt(port.getFileName().toString())).setTime(ProtoTime.of(now));
    List<String> errors = new ArrayList<>();
    attribute(port, "state", errors).ifPresent(t -> parse(t, "state", errors, () -> {
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
    TreeMap<String, Long> counters = new TreeMap<>();
    for (String dir : new String[] {"counters", "hw_counters"}) {
      for (Path f : list(port.resolve(dir))) {
        String name = f.getFileName().toString();
        if (name.equals("lifespan")) {
          continue;
        }
        String key = dir.equals("counters") ? name : dir + "/" + name;
        attribute(port, dir + "/" + name, errors).ifPresent(t -> parse(t, key, errors, () -> {
          long v = InfinibandFormats.counter(t);
          if (dir.equals("counters") && InfinibandFormats.saturated(name, v)) {
            b.addSaturatedCounters(name);
          }
          counters.put(key, dir.equals("counters") && InfinibandFormats.countsWords(name) ? v * 4 : v);
        }));
      }
    }
    b.putAllCounters(counters);
    b.addAllReadErrors(errors);
    return b.build();
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
      return Optional.of(Files.readString(port.resolve(file), StandardCharsets.US_ASCII).strip());
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

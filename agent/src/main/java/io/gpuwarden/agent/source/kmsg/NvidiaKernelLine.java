package io.gpuwarden.agent.source.kmsg;

import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises the NVIDIA driver's own kernel lines: Xid in every form the driver has printed, "GPU
 * has fallen off the bus" without an Xid, and NVSwitch SXid. PCI addresses come out in NVML's long
 * form ({@code 00000000:3B:00.0}) so they match NVML's GPUs.
 *
 * <pre>
 * NVRM: Xid (PCI:0000:3b:00): 119, pid='&lt;unknown&gt;', name=&lt;unknown&gt;, Timeout waiting for RPC from GSP!
 * NVRM: Xid (PCI:0000:3b:00 GPU-I:02 GPU-CI:01): 94, pid=1234, name=python, Contained: ...
 * NVRM: Xid (PCI:0000:08:00): 69, Class Error: ...           (older drivers: no pid/name)
 * NVRM: Xid (0000:01:00): 31, ...                             (very old drivers: no "PCI:")
 * NVRM: GPU 0000:01:00.0: GPU has fallen off the bus.
 * nvidia-nvswitch3: SXid (PCI:0000:05:00.0): 12028, Non-fatal, Link 32 egress non-posted PRIV error (First)
 * </pre>
 */
public final class NvidiaKernelLine {
  private static final Pattern XID = Pattern.compile(
      "NVRM: Xid \\((?:PCI:)?(?<addr>\\p{XDigit}{4}:\\p{XDigit}{2}:\\p{XDigit}{2})(?:\\.\\p{XDigit})?"
          + "(?: GPU-I:(?<gi>\\d+))?(?: GPU-CI:(?<ci>\\d+))?\\): (?<xid>\\d+)"
          + "(?:, pid=(?<pid>'?<unknown>'?|\\d+), name=(?<name>[^,]*))?(?:, (?<text>.*))?");
  private static final Pattern FALLEN = Pattern.compile(
      "NVRM: GPU (?:at PCI:)?(?<addr>\\p{XDigit}{4}:\\p{XDigit}{2}:\\p{XDigit}{2}(?:\\.\\p{XDigit})?):? GPU has fallen off the bus");
  private static final Pattern SXID = Pattern.compile(
      "(?<device>nvidia-nvswitch\\d+): SXid \\(PCI:(?<addr>\\p{XDigit}{4}:\\p{XDigit}{2}:\\p{XDigit}{2}\\.\\p{XDigit})\\): "
          + "(?<sxid>\\d+), (?<severity>Fatal|Non-fatal), (?<text>.*)");

  private NvidiaKernelLine() {}

  /** An Xid line. */
  public record Xid(int xid, String pciBusId, OptionalInt gpuInstance, OptionalInt computeInstance, OptionalInt pid,
      String processName, String text) {}

  /** An NVSwitch SXid line. */
  public record Sxid(int sxid, boolean fatal, String device, String pciBusId, String text) {}

  /** Parses an Xid line, if {@code message} is one. */
  public static Optional<Xid> xid(String message) {
    Matcher m = XID.matcher(message);
    if (!m.find()) {
      return Optional.empty();
    }
    String pid = m.group("pid");
    String name = m.group("name");
    return Optional.of(new Xid(
        Integer.parseInt(m.group("xid")),
        nvmlBusId(m.group("addr")),
        optionalInt(m.group("gi")),
        optionalInt(m.group("ci")),
        pid != null && pid.chars().allMatch(Character::isDigit) ? OptionalInt.of(Integer.parseInt(pid)) : OptionalInt.empty(),
        name == null || name.equals("<unknown>") ? "" : name.trim(),
        m.group("text") == null ? "" : m.group("text").trim()));
  }

  /** Returns the PCI address (NVML form) when {@code message} says a GPU fell off the bus. */
  public static Optional<String> fallenOffTheBus(String message) {
    Matcher m = FALLEN.matcher(message);
    return m.find() ? Optional.of(nvmlBusId(m.group("addr"))) : Optional.empty();
  }

  /** Parses an SXid line, if {@code message} is one. */
  public static Optional<Sxid> sxid(String message) {
    Matcher m = SXID.matcher(message);
    if (!m.find()) {
      return Optional.empty();
    }
    return Optional.of(new Sxid(Integer.parseInt(m.group("sxid")), m.group("severity").equals("Fatal"), m.group("device"),
        nvmlBusId(m.group("addr")), m.group("text").trim()));
  }

  /**
   * Converts a kernel PCI address ({@code 0000:3b:00} or {@code 0000:3b:00.1}) to NVML's bus id
   * ({@code 00000000:3B:00.0}, function kept when given).
   */
  public static String nvmlBusId(String kernel) {
    String[] p = kernel.split("[:.]");
    String function = p.length > 3 ? p[3] : "0";
    return String.format(Locale.ROOT, "%08X:%s:%s.%s", Long.parseLong(p[0], 16), p[1].toUpperCase(Locale.ROOT),
        p[2].toUpperCase(Locale.ROOT), function.toUpperCase(Locale.ROOT));
  }

  private static OptionalInt optionalInt(String s) {
    return s == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(s));
  }
}

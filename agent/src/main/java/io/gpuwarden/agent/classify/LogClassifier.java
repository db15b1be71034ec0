package io.gpuwarden.agent.classify;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.agent.source.kmsg.NvidiaKernelLine;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.LogMatch;
import io.gpuwarden.proto.v1.SxidEvent;
import io.gpuwarden.proto.v1.XidEvent;
import io.gpuwarden.proto.v1.XidOrigin;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Matcher;

/**
 * Turns kernel log messages into {@link Event}s by the first matching {@link ClassifierRule}. PCI
 * addresses come out in NVML's long form and are mapped to a GPU UUID through {@code gpuByPci} (an
 * address NVML does not know is still reported, by address).
 *
 * <pre>{@code
 * LogClassifier c = new LogClassifier(ClassifierRules.defaults(), new XidEvents(XidPolicy.defaults()), nvml::uuidByPci);
 * c.classify("NVRM: Xid (PCI:0000:3b:00): 79, pid=..., GPU has fallen off the bus.", now).ifPresent(events::add);
 * }</pre>
 */
public final class LogClassifier {
  private final ClassifierRules rules;
  private final XidEvents xidEvents;
  private final Function<String, Optional<String>> gpuByPci;
  /** Per rule, the text a line must start with to match ({@link ClassifierRule#literalPrefix}). */
  private final String[] prefixes;

  /**
   * Creates a classifier.
   *
   * @param gpuByPci GPU UUID for a PCI bus id in NVML's form ({@code 00000000:3B:00.0}), when known
   */
  public LogClassifier(ClassifierRules rules, XidEvents xidEvents, Function<String, Optional<String>> gpuByPci) {
    this.rules = requireNonNull(rules, "rules");
    this.xidEvents = requireNonNull(xidEvents, "xidEvents");
    this.gpuByPci = requireNonNull(gpuByPci, "gpuByPci");
    this.prefixes = rules.rules().stream().map(r -> ClassifierRule.literalPrefix(r.pattern().pattern())).toArray(String[]::new);
  }

  /** Returns true when some rule matches {@code message} (cheaper than {@link #classify}: builds no event). */
  public boolean matches(String message) {
    List<ClassifierRule> all = rules.rules();
    for (int i = 0; i < prefixes.length; i++) {
      if (message.startsWith(prefixes[i]) && all.get(i).pattern().matcher(message).find()) {
        return true;
      }
    }
    return false;
  }

  /** Returns the event for {@code message} logged at {@code time}; empty when no rule matches or the Xid is ignored. */
  public Optional<Event> classify(String message, Instant time) {
    List<ClassifierRule> all = rules.rules();
    for (int i = 0; i < prefixes.length; i++) {
      if (!message.startsWith(prefixes[i])) {
        continue;
      }
      ClassifierRule rule = all.get(i);
      Matcher m = rule.pattern().matcher(message);
      if (m.find()) {
        return switch (rule.kind()) {
          case XID -> xid(rule, m, time);
          case SXID -> Optional.of(sxid(rule, m, message, time));
          case LOG -> Optional.of(logMatch(rule, m, message, time));
        };
      }
    }
    return Optional.empty();
  }

  private Optional<Event> xid(ClassifierRule rule, Matcher m, Instant time) {
    int xid = Integer.parseInt(group(rule, m, "xid"));
    if (xidEvents.ignored(xid)) {
      return Optional.empty();
    }
    XidEvent.Builder detail = XidEvent.newBuilder().setOrigin(XidOrigin.XID_ORIGIN_KERNEL_LOG);
    String pci = pciOf(rule, m);
    if (pci != null) {
      detail.setPciBusId(pci);
    }
    String gi = group(rule, m, "gi");
    if (gi != null) {
      detail.setGpuInstanceId(Integer.parseInt(gi));
    }
    String ci = group(rule, m, "ci");
    if (ci != null) {
      detail.setComputeInstanceId(Integer.parseInt(ci));
    }
    String pid = group(rule, m, "pid");
    if (pid != null && pid.chars().allMatch(Character::isDigit)) {
      detail.setPid(Integer.parseUnsignedInt(pid));
    }
    String name = group(rule, m, "name");
    if (name != null && !name.strip().equals("<unknown>")) {
      detail.setProcessName(name.strip());
    }
    String text = group(rule, m, "text");
    detail.setText(text == null ? "" : text.strip());
    return Optional.of(xidEvents.event(xid, gpu(pci), detail.build(), time));
  }

  private Event sxid(ClassifierRule rule, Matcher m, String message, Instant time) {
    String pci = pciOf(rule, m);
    String text = group(rule, m, "text");
    String severity = group(rule, m, "severity");
    boolean fatal = "Fatal".equals(severity);
    SxidEvent.Builder detail = SxidEvent.newBuilder().setSxid(Integer.parseInt(group(rule, m, "sxid"))).setFatal(fatal)
        .setText(text == null ? "" : text.strip());
    Component.Builder component = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_NVSWITCH);
    if (pci != null) {
      detail.setPciBusId(pci);
      component.setPciBusId(pci);
    }
    String device = group(rule, m, "device");
    return base(rule, component.build(), time)
        .setMessage("SXid " + detail.getSxid() + " (" + (fatal ? "fatal" : "non-fatal") + ") on "
            + (device == null ? "NVSwitch" : device) + (pci == null ? "" : " at " + pci) + ": " + detail.getText())
        .setSxid(detail)
        .build();
  }

  private Event logMatch(ClassifierRule rule, Matcher m, String message, Instant time) {
    LogMatch.Builder detail = LogMatch.newBuilder().setRule(rule.name()).setLine(message);
    for (String field : rule.fields()) {
      String value = m.group(field);
      if (value != null) {
        detail.putFields(field, value);
      }
    }
    Component component = component(rule, m);
    return base(rule, component, time)
        .setMessage(rule.name() + " on " + label(component) + ": " + message)
        .setLogMatch(detail)
        .build();
  }

  private Component component(ClassifierRule rule, Matcher m) {
    String pci = pciOf(rule, m);
    String hca = group(rule, m, "hca");
    return switch (rule.component()) {
      case COMPONENT_KIND_GPU -> pci == null ? node() : gpu(pci);
      case COMPONENT_KIND_NVSWITCH -> pci == null ? node()
          : Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_NVSWITCH).setPciBusId(pci).build();
      case COMPONENT_KIND_INFINIBAND_PORT -> hca != null
          ? Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_INFINIBAND_PORT).setHca(hca).build()
          : pci == null ? node() : pciDevice(pci);
      case COMPONENT_KIND_PCI_DEVICE -> pci == null ? node()
          : gpuByPci.apply(pci).map(uuid -> gpu(pci)).orElseGet(() -> pciDevice(pci));
      default -> node();
    };
  }

  private Component gpu(String pci) {
    Component.Builder c = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU);
    if (pci != null) {
      c.setPciBusId(pci);
      gpuByPci.apply(pci).ifPresent(c::setGpuUuid);
    }
    return c.build();
  }

  private static Component pciDevice(String pci) {
    return Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_PCI_DEVICE).setPciBusId(pci).build();
  }

  private static Component node() {
    return Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_NODE).build();
  }

  private static String label(Component c) {
    return switch (c.getKind()) {
      case COMPONENT_KIND_GPU -> c.getGpuUuid().isEmpty() ? "GPU at " + c.getPciBusId()
          : c.getGpuUuid() + " at " + c.getPciBusId();
      case COMPONENT_KIND_INFINIBAND_PORT -> c.getHca();
      case COMPONENT_KIND_PCI_DEVICE, COMPONENT_KIND_NVSWITCH -> c.getPciBusId();
      default -> "node";
    };
  }

  private static Event.Builder base(ClassifierRule rule, Component component, Instant time) {
    return Event.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setTime(ProtoTime.of(time))
        .setSeverity(rule.severity())
        .setAction(rule.action())
        .setComponent(component);
  }

  private static String pciOf(ClassifierRule rule, Matcher m) {
    String pci = group(rule, m, "pci");
    return pci == null ? null : NvidiaKernelLine.nvmlBusId(pci);
  }

  private static String group(ClassifierRule rule, Matcher m, String name) {
    return rule.fields().contains(name) ? m.group(name) : null;
  }
}

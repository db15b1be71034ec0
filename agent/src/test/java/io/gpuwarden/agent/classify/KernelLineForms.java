package io.gpuwarden.agent.classify;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.logs.KernelLog;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.Event;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

/**
 * Test helper: reads a fixture through the agent's real kernel log pipeline ({@link KernelLog} in
 * one-shot mode: record parsing, line splitting and joining, classification) and describes the
 * events compactly, e.g. {@code "pcie-aer-fatal CRITICAL GPU 00000000:3B:00.0 GPU-6f3c..."}.
 */
final class KernelLineForms {
  static final Instant BOOT = Instant.parse("2026-11-22T09:00:00Z");
  static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
  static final String GPU_3B = "GPU-6f3c0b2e-1111-2222-3333-444455556666";

  private KernelLineForms() {}

  static LogClassifier classifier() {
    return new LogClassifier(ClassifierRules.defaults(), new XidEvents(XidPolicy.defaults()),
        pci -> pci.equals("00000000:3B:00.0") ? Optional.of(GPU_3B) : Optional.empty());
  }

  static Path resource(String name) throws Exception {
    return Path.of(KernelLineForms.class.getResource(name).toURI());
  }

  /** Returns the classified events (not source errors) of a {@code /dev/kmsg}-format fixture. */
  static List<Event> kmsg(String fixture, Path stateDir) throws Exception {
    return read(new LogConfig(Optional.of(resource(fixture)), List.of(), Optional.empty(), 4, 50, 500, 4096,
        Optional.empty()), stateDir);
  }

  /** Returns the classified events of a syslog-file fixture read without a kernel log device. */
  static List<Event> syslog(String fixture, Path stateDir) throws Exception {
    return read(new LogConfig(Optional.empty(), List.of(resource(fixture)), Optional.empty(), 4, 50, 500, 4096,
        Optional.empty()), stateDir);
  }

  private static List<Event> read(LogConfig config, Path stateDir) throws Exception {
    try (KernelLog log = KernelLog.open(config, classifier(), FileStateStore.open(stateDir), "boot-1", BOOT,
        Clock.fixed(NOW, ZoneOffset.UTC), KernelLog.Mode.ONE_SHOT)) {
      log.awaitCaughtUp(Duration.ofSeconds(10));
      KernelLog.Polled polled = log.poll();
      log.kmsgStats().ifPresent(s -> assertThat(s.malformed()).as("malformed records").isZero());
      assertThat(log.problems()).isEmpty();
      return polled.events().stream().filter(e -> e.hasLogMatch() || e.hasXid() || e.hasSxid()).toList();
    }
  }

  /** Returns "rule SEVERITY KIND [address] [uuid|hca]" for an event. */
  static String describe(Event e) {
    String rule = e.hasLogMatch() ? e.getLogMatch().getRule()
        : e.hasXid() ? "xid-" + e.getXid().getXid() : "sxid-" + e.getSxid().getSxid();
    Component c = e.getComponent();
    String where = switch (c.getKind()) {
      case COMPONENT_KIND_GPU -> "GPU " + c.getPciBusId() + (c.getGpuUuid().isEmpty() ? "" : " " + c.getGpuUuid());
      case COMPONENT_KIND_PCI_DEVICE -> "PCI_DEVICE " + c.getPciBusId();
      case COMPONENT_KIND_NVSWITCH -> "NVSWITCH " + c.getPciBusId();
      case COMPONENT_KIND_INFINIBAND_PORT -> "INFINIBAND_PORT " + c.getHca();
      default -> c.getKind().name().replace("COMPONENT_KIND_", "");
    };
    return rule + " " + e.getSeverity().name().replace("EVENT_SEVERITY_", "") + " " + where;
  }
}

package io.gpuwarden.agent.classify;

import static io.gpuwarden.proto.v1.ComponentKind.COMPONENT_KIND_GPU;
import static io.gpuwarden.proto.v1.ComponentKind.COMPONENT_KIND_INFINIBAND_PORT;
import static io.gpuwarden.proto.v1.ComponentKind.COMPONENT_KIND_NODE;
import static io.gpuwarden.proto.v1.ComponentKind.COMPONENT_KIND_NVSWITCH;
import static io.gpuwarden.proto.v1.ComponentKind.COMPONENT_KIND_PCI_DEVICE;
import static io.gpuwarden.proto.v1.EventSeverity.EVENT_SEVERITY_CRITICAL;
import static io.gpuwarden.proto.v1.EventSeverity.EVENT_SEVERITY_ERROR;
import static io.gpuwarden.proto.v1.EventSeverity.EVENT_SEVERITY_INFO;
import static io.gpuwarden.proto.v1.EventSeverity.EVENT_SEVERITY_WARNING;
import static io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE;
import static io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_RESET_GPU;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.source.kmsg.KmsgReader;
import io.gpuwarden.agent.source.kmsg.KmsgRecord;
import io.gpuwarden.proto.v1.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LogClassifierTest {
  static final Instant BOOT = Instant.parse("2026-11-22T10:00:00Z");
  static final String GPU_3B = "GPU-6f3c0b2e-1111-2222-3333-444455556666";
  final LogClassifier classifier = new LogClassifier(ClassifierRules.defaults(), new XidEvents(XidPolicy.defaults()),
      pci -> pci.equals("00000000:3B:00.0") ? Optional.of(GPU_3B) : Optional.empty());

  static List<KmsgRecord> fixture(String name) throws Exception {
    KmsgReader r = KmsgReader.file(Path.of(LogClassifierTest.class.getResource("/kmsg/" + name).toURI()),
        KmsgReader.Options.DEFAULTS);
    r.start();
    assertThat(r.awaitFinished(Duration.ofSeconds(10))).isTrue();
    assertThat(r.stats().malformed()).isZero();
    return r.drain(Integer.MAX_VALUE);
  }

  List<Event> classify(String fixture) throws Exception {
    return fixture(fixture).stream().map(r -> classifier.classify(r.message(), r.wallTime(BOOT)).orElseThrow(
        () -> new AssertionError("no rule matched " + r.message()))).toList();
  }

  Event one(String message) {
    return classifier.classify(message, BOOT).orElseThrow();
  }

  @Test
  void everyXidFormBecomesAKernelLogXidOnTheGpuNamedByNvml() throws Exception {
    List<Event> e = classify("xid.kmsg");
    assertThat(e).extracting(x -> x.getXid().getXid()).containsExactly(119, 94, 31, 69, 31, 45);
    Event gsp = e.get(0);
    assertThat(gsp.getXid().getOrigin().name()).isEqualTo("XID_ORIGIN_KERNEL_LOG");
    assertThat(gsp.getXid().getPciBusId()).isEqualTo("00000000:3B:00.0");
    assertThat(gsp.getXid().hasPid()).isFalse();
    assertThat(gsp.getXid().getProcessName()).isEmpty();
    assertThat(gsp.getXid().getText()).startsWith("Timeout waiting for RPC from GSP!");
    assertThat(gsp.getComponent().getKind()).isEqualTo(COMPONENT_KIND_GPU);
    assertThat(gsp.getComponent().getGpuUuid()).isEqualTo(GPU_3B);
    assertThat(gsp.getSeverity()).isEqualTo(EVENT_SEVERITY_CRITICAL);
    assertThat(gsp.getAction()).isEqualTo(SUGGESTED_ACTION_RESET_GPU);
    assertThat(e.get(1).getXid().getGpuInstanceId()).isEqualTo(2);
    assertThat(e.get(1).getXid().hasComputeInstanceId()).isFalse();
    assertThat(e.get(1).getXid().getPid()).isEqualTo(1234);
    assertThat(e.get(1).getXid().getProcessName()).isEqualTo("python");
    assertThat(e.get(2).getXid().getComputeInstanceId()).isEqualTo(1);
    assertThat(e.get(3).getXid().getText()).startsWith("Class Error: ChId 0010");
    assertThat(e.get(4).getXid().getPciBusId()).isEqualTo("00000000:01:00.0");
    assertThat(e.get(4).getComponent().getGpuUuid()).as("unknown to NVML: reported by address").isEmpty();
    assertThat(e.get(5).getXid().getText()).contains("caused by previous Xid");
  }

  @Test
  void ignoredXidsMakeNoEvent() {
    LogClassifier ignoring = new LogClassifier(ClassifierRules.defaults(),
        new XidEvents(XidPolicy.defaults().ignoring(Set.of(43))), pci -> Optional.empty());
    assertThat(ignoring.classify("NVRM: Xid (PCI:0000:3b:00): 43, pid=1, name=a, Ch 1", BOOT)).isEmpty();
  }

  @Test
  void aGpuFallenOffTheBusWithoutAnXidIsCriticalAndNeedsAReboot() throws Exception {
    Event e = classify("fallen-off-bus.kmsg").get(0);
    assertThat(e.getLogMatch().getRule()).isEqualTo("gpu-fallen-off-bus");
    assertThat(e.getSeverity()).isEqualTo(EVENT_SEVERITY_CRITICAL);
    assertThat(e.getAction()).isEqualTo(SUGGESTED_ACTION_REBOOT_NODE);
    assertThat(e.getComponent().getKind()).isEqualTo(COMPONENT_KIND_GPU);
    assertThat(e.getComponent().getPciBusId()).isEqualTo("00000000:01:00.0");
    assertThat(e.getMessage()).contains("00000000:01:00.0");
  }

  @Test
  void nvswitchSxidsAreFatalOrNot() throws Exception {
    List<Event> e = classify("sxid.kmsg");
    assertThat(e.get(0).getSxid().getSxid()).isEqualTo(12028);
    assertThat(e.get(0).getSxid().getFatal()).isFalse();
    assertThat(e.get(0).getSxid().getPciBusId()).isEqualTo("00000000:05:00.0");
    assertThat(e.get(0).getSxid().getText()).isEqualTo("Link 32 egress non-posted PRIV error (First)");
    assertThat(e.get(0).getComponent().getKind()).isEqualTo(COMPONENT_KIND_NVSWITCH);
    assertThat(e.get(1).getSxid().getFatal()).isTrue();
    assertThat(e.get(1).getSeverity()).isEqualTo(EVENT_SEVERITY_CRITICAL);
  }

  @Test
  void pcieAerNamesTheDeviceAndTheGpuWhenNvmlKnowsIt() throws Exception {
    List<Event> e = classify("aer.kmsg");
    assertThat(e).extracting(x -> x.getLogMatch().getRule())
        .containsExactly("pcie-aer-corrected", "pcie-aer-nonfatal", "pcie-aer-fatal");
    assertThat(e.get(0).getComponent().getKind()).isEqualTo(COMPONENT_KIND_PCI_DEVICE);
    assertThat(e.get(0).getComponent().getPciBusId()).isEqualTo("00000000:01:00.0");
    assertThat(e.get(0).getLogMatch().getFieldsMap()).containsEntry("port", "0000:00:01.0").containsEntry("pci", "0000:01:00.0");
    assertThat(e.get(2).getComponent().getKind()).isEqualTo(COMPONENT_KIND_GPU);
    assertThat(e.get(2).getComponent().getGpuUuid()).isEqualTo(GPU_3B);
    assertThat(e.get(2).getSeverity()).isEqualTo(EVENT_SEVERITY_CRITICAL);
  }

  @Test
  void machineChecksAndCperRecordsAreNodeHardwareErrors() throws Exception {
    List<Event> e = classify("mce.kmsg");
    // "Machine check events logged" is printed for corrected events too, and the CPER header line
    // carries no severity (the record's "event severity:" line does): both are events only.
    assertThat(e).extracting(x -> x.getLogMatch().getRule())
        .containsExactly("machine-check", "machine-check-corrected", "cper-hardware-error");
    assertThat(e).extracting(Event::getSeverity)
        .containsExactly(EVENT_SEVERITY_ERROR, EVENT_SEVERITY_WARNING, EVENT_SEVERITY_INFO);
    assertThat(e).allSatisfy(x -> assertThat(x.getComponent().getKind()).isEqualTo(COMPONENT_KIND_NODE));
  }

  @Test
  void mlx5HealthAndLinkStateNameTheHcaOrItsPciAddress() throws Exception {
    List<Event> e = classify("mlx5.kmsg");
    assertThat(e).extracting(x -> x.getLogMatch().getRule())
        .containsExactly("mlx5-health", "mlx5-health", "mlx5-health", "mlx5-link-down", "mlx5-link-up");
    assertThat(e.get(0).getComponent().getKind()).isEqualTo(COMPONENT_KIND_PCI_DEVICE);
    assertThat(e.get(0).getComponent().getPciBusId()).isEqualTo("00000000:1A:00.0");
    assertThat(e.get(2).getComponent().getKind()).isEqualTo(COMPONENT_KIND_INFINIBAND_PORT);
    assertThat(e.get(2).getComponent().getHca()).isEqualTo("mlx5_0");
    assertThat(e.get(3).getLogMatch().getFieldsMap()).containsEntry("netdev", "ib0");
  }

  @Test
  void hungTasksOomKillsAndIoErrorsCarryTheirDetails() throws Exception {
    Event hung = classify("hung-task.kmsg").get(0);
    assertThat(hung.getLogMatch().getFieldsMap())
        .containsAllEntriesOf(Map.of("process", "python", "pid", "1234", "seconds", "120"));
    assertThat(hung.getSeverity()).as("DEGRADED, as CHECKS.md documents").isEqualTo(EVENT_SEVERITY_ERROR);
    List<Event> oom = classify("oom.kmsg");
    assertThat(oom).extracting(x -> x.getLogMatch().getRule()).containsExactly("oom-kill", "oom-killed-process");
    assertThat(oom.get(1).getLogMatch().getFieldsMap()).containsAllEntriesOf(Map.of("pid", "1234", "process", "python"));
    List<Event> io = classify("io-error.kmsg");
    assertThat(io).extracting(x -> x.getLogMatch().getFieldsMap().get("device")).containsExactly("nvme0n1", "sda");
  }

  @Test
  void lookalikesMatchNoRule() throws Exception {
    assertThat(fixture("lookalikes.kmsg")).hasSize(11)
        .allSatisfy(r -> assertThat(classifier.classify(r.message(), BOOT)).as(r.message()).isEmpty());
  }

  @Test
  void aMixedCaptureYieldsOneEventPerFaultLine() throws Exception {
    long events = fixture("mixed.kmsg").stream().filter(r -> classifier.classify(r.message(), BOOT).isPresent()).count();
    assertThat(events).isEqualTo(25);
  }

  @Test
  void operatorRulesComeFirstReplaceDefaultsByNameAndCanTurnThemOff() {
    ClassifierRules operator = ClassifierRules.parse("""
        # site rules
        define ADDR \\p{XDigit}{4}:\\p{XDigit}{2}
        hung-task     off
        my-raid       log  ERROR  HARDWARE_INSPECTION  NODE  ^megaraid_sas (?<addr>{{ADDR}}): FW in FAULT state
        machine-check log  CRITICAL REBOOT_NODE NODE ^mce: \\[Hardware Error\\]
        """, "site.txt");
    LogClassifier c = new LogClassifier(ClassifierRules.defaults().overriddenBy(operator),
        new XidEvents(XidPolicy.defaults()), pci -> Optional.empty());
    assertThat(c.classify("megaraid_sas 0000:65: FW in FAULT state", BOOT).orElseThrow().getLogMatch().getFieldsMap())
        .containsEntry("addr", "0000:65");
    assertThat(c.classify("INFO: task python:1 blocked for more than 120 seconds.", BOOT)).isEmpty();
    assertThat(c.classify("mce: [Hardware Error]: CPU 1", BOOT).orElseThrow().getSeverity()).isEqualTo(EVENT_SEVERITY_CRITICAL);
  }

  @Test
  void badRulesFilesNameTheLineAndTheProblem() {
    assertThatThrownBy(() -> ClassifierRules.parse("x log ERROR NONE NODE (unclosed", "f")).hasMessageContaining("f:1")
        .hasMessageContaining("bad regex");
    assertThatThrownBy(() -> ClassifierRules.parse("\nx log LOUD NONE NODE a", "f")).hasMessageContaining("f:2");
    assertThatThrownBy(() -> ClassifierRules.parse("x log ERROR NONE", "f")).hasMessageContaining("expected");
    assertThatThrownBy(() -> ClassifierRules.parse("x xid - - GPU ^Xid", "f")).hasMessageContaining("'xid'");
    assertThatThrownBy(() -> ClassifierRules.parse("x log ERROR NONE NODE {{NOPE}}", "f")).hasMessageContaining("NOPE");
  }

  @Test
  void aRuleIsTriedOnlyOnLinesStartingWithItsLiteralPrefix() {
    assertThat(ClassifierRule.literalPrefix("^NVRM: Xid \\((?:PCI:)?")).isEqualTo("NVRM: Xid ");
    assertThat(ClassifierRule.literalPrefix("^INFO: task (?<p>.+?):")).isEqualTo("INFO: task ");
    assertThat(ClassifierRule.literalPrefix("^abc?d")).as("c is optional").isEqualTo("ab");
    assertThat(ClassifierRule.literalPrefix("^ab*")).isEqualTo("a");
    assertThat(ClassifierRule.literalPrefix("^ab+c")).isEqualTo("ab");
    assertThat(ClassifierRule.literalPrefix("^abc|def")).as("^ binds the first branch only").isEmpty();
    assertThat(ClassifierRule.literalPrefix("^a(?:b|c)")).isEqualTo("a");
    assertThat(ClassifierRule.literalPrefix("^a[|]b\\|c")).isEqualTo("a");
    assertThat(ClassifierRule.literalPrefix("abc")).as("unanchored: searched anywhere").isEmpty();
    assertThat(ClassifierRule.literalPrefix("^\\[Hardware Error")).isEmpty();
    assertThat(ClassifierRule.literalPrefix("(?i)^nvrm")).isEmpty();
    // and the classifier still finds what the regex finds
    LogClassifier c = new LogClassifier(ClassifierRules.parse("x log ERROR NONE NODE ^abc|def", "t"),
        new XidEvents(XidPolicy.defaults()), pci -> Optional.empty());
    assertThat(c.matches("xx def")).isTrue();
    assertThat(c.classify("abc", BOOT)).isPresent();
    assertThat(c.matches("xabc")).isFalse();
  }
}

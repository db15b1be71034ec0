package io.gpuwarden.agent.classify;

import static io.gpuwarden.agent.classify.KernelLineForms.GPU_3B;
import static io.gpuwarden.agent.classify.KernelLineForms.describe;
import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.check.kernel.KernelLogCheck;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every kernel line form the built-in rules know, one fixture record per form
 * ({@code kmsg/forms/<class>.kmsg}), read through the real pipeline: each form must give exactly
 * the rule, severity and component listed here, in fixture order. The benign fixtures
 * ({@code kmsg/benign/<class>.kmsg}: banners, corrected errors alone, link up, hint lines, lines that
 * quote driver text) must leave the kernel-log check without a finding.
 */
class KernelLineFormsTest {
  @TempDir
  Path dir;

  private List<String> forms(String fixture) throws Exception {
    return KernelLineForms.kmsg("/kmsg/forms/" + fixture, dir).stream().map(KernelLineForms::describe).toList();
  }

  @Test
  void nvidiaXidFallenOffTheBusInEveryWordingAndSxid() throws Exception {
    assertThat(forms("nvidia.kmsg")).containsExactly(
        "xid-79 CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "xid-94 WARNING GPU 00000000:3B:00.0 " + GPU_3B,
        "xid-69 WARNING GPU 00000000:08:00.0",
        "xid-31 WARNING GPU 00000000:01:00.0",
        "gpu-fallen-off-bus CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "gpu-fallen-off-bus CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "gpu-fallen-off-bus CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "gpu-fallen-off-bus CRITICAL GPU 00000000:B3:00.0",
        "gpu-fallen-off-bus CRITICAL GPU 00000000:05:00.0",
        "sxid-12028 WARNING NVSWITCH 00000000:05:00.0",
        "sxid-24007 CRITICAL NVSWITCH 00000000:86:00.0");
  }

  @Test
  void theCurrentFallenOffTheBusMessageSplitOverRecordsIsOneEventNamingTheGpu() throws Exception {
    List<Event> events = KernelLineForms.kmsg("/kmsg/forms/fallen-off-bus-split.kmsg", dir);
    assertThat(events).extracting(KernelLineForms::describe).containsExactly(
        "gpu-fallen-off-bus CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "gpu-fallen-off-bus CRITICAL GPU 00000000:B3:00.0",
        "xid-79 CRITICAL GPU 00000000:18:00.0");
    assertThat(events.get(0).getLogMatch().getLine()).isEqualTo("NVRM: The NVIDIA GPU 0000:3b:00.0 (PCI ID: 10de:2330)"
        + " installed in this system has fallen off the bus and is not responding to commands.");
    assertThat(events.get(0).getLogMatch().getFieldsMap()).containsEntry("pciid", "10de:2330");
    assertThat(events.get(0).getTime()).as("time of the first part").isEqualTo(
        io.gpuwarden.common.ProtoTime.of(KernelLineForms.BOOT.plusMillis(5000)));
  }

  @Test
  void aHeadWhoseContinuationNeverComesIsNoEventAndHoldsNothingBack() throws Exception {
    assertThat(forms("fallen-off-bus-truncated.kmsg")).containsExactly("xid-79 CRITICAL GPU 00000000:3B:00.0 " + GPU_3B);
  }

  @Test
  void fromASyslogFileTheSplitMessageIsJoinedInEachWayDaemonsWriteIt() throws Exception {
    List<Event> events = KernelLineForms.syslog("/syslog/fallen-off-bus.log", dir);
    assertThat(events).extracting(KernelLineForms::describe).containsExactly(
        "gpu-fallen-off-bus CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "gpu-fallen-off-bus CRITICAL GPU 00000000:B3:00.0",
        "gpu-fallen-off-bus CRITICAL GPU 00000000:18:00.0",
        "xid-79 CRITICAL GPU 00000000:2A:00.0");
  }

  @Test
  void pcieAerInTheOldAndTheCurrentWordingNamesTheDeviceThatHadTheError() throws Exception {
    assertThat(forms("aer.kmsg")).containsExactly(
        "pcie-aer-corrected WARNING PCI_DEVICE 00000000:01:00.0",
        "pcie-aer-corrected WARNING GPU 00000000:3B:00.0 " + GPU_3B,
        "pcie-aer-corrected-device WARNING GPU 00000000:3B:00.0 " + GPU_3B,
        "pcie-aer-nonfatal ERROR PCI_DEVICE 00000000:18:00.0",
        "pcie-aer-nonfatal ERROR GPU 00000000:3B:00.0 " + GPU_3B,
        "pcie-aer-nonfatal ERROR PCI_DEVICE 00000000:73:00.1",
        "pcie-aer-nonfatal-device ERROR GPU 00000000:3B:00.0 " + GPU_3B,
        "pcie-aer-nonfatal-device ERROR PCI_DEVICE 00000000:17:02.0",
        "pcie-aer-fatal CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "pcie-aer-fatal CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "pcie-aer-fatal CRITICAL PCI_DEVICE 00000000:01:00.0",
        "pcie-aer-fatal-device CRITICAL GPU 00000000:3B:00.0 " + GPU_3B,
        "pcie-aer-fatal CRITICAL NODE",
        "pcie-aer-firmware-uncorrected ERROR GPU 00000000:3B:00.0 " + GPU_3B,
        "pcie-aer-recovery-failed CRITICAL PCI_DEVICE 00000000:3A:00.0",
        "pcie-dpc-containment ERROR PCI_DEVICE 00000000:00:1C.0",
        "pcie-aer-corrected WARNING PCI_DEVICE 00000000:02:00.0");
  }

  @Test
  void machineChecksCperAndEdacAreErrorsWhenUncorrectedAndEventsWhenCorrected() throws Exception {
    assertThat(forms("cpu-memory.kmsg")).containsExactly(
        "machine-check ERROR NODE",
        "machine-check ERROR NODE",
        "machine-check ERROR NODE",
        "machine-check ERROR NODE",
        "machine-check ERROR NODE",
        "memory-failure ERROR NODE",
        "cper-uncorrected ERROR NODE",
        "cper-uncorrected ERROR NODE",
        "edac-uncorrected ERROR NODE",
        "edac-uncorrected ERROR NODE",
        "edac-uncorrected ERROR NODE",
        "edac-uncorrected ERROR NODE",
        "edac-uncorrected ERROR NODE",
        "machine-check-corrected WARNING NODE",
        "machine-check-corrected WARNING NODE",
        "machine-check-corrected WARNING NODE",
        "machine-check-corrected WARNING NODE",
        "cper-hardware-error INFO NODE",
        "cper-corrected WARNING NODE",
        "edac-corrected WARNING NODE");
  }

  @Test
  void connectxRecoveryThatFailedIsCriticalHealthTroubleAnErrorAndLinkStateEvents() throws Exception {
    assertThat(forms("mlx5.kmsg")).containsExactly(
        "mlx5-health-failed CRITICAL PCI_DEVICE 00000000:61:00.1",
        "mlx5-health-failed CRITICAL PCI_DEVICE 00000000:1A:00.0",
        "mlx5-health-failed CRITICAL PCI_DEVICE 00000000:1A:00.0",
        "mlx5-health-failed CRITICAL PCI_DEVICE 00000000:1A:00.0",
        "mlx5-health-failed CRITICAL PCI_DEVICE 00000000:1A:00.0",
        "mlx5-health-failed CRITICAL PCI_DEVICE 00000000:1A:00.0",
        "mlx5-health ERROR PCI_DEVICE 00000000:1A:00.0",
        "mlx5-health ERROR PCI_DEVICE 00000000:D2:00.0",
        "mlx5-health ERROR INFINIBAND_PORT mlx5_0",
        "mlx5-health ERROR PCI_DEVICE 00000000:73:00.0",
        "mlx5-health ERROR PCI_DEVICE 00000000:73:00.0",
        "mlx5-health ERROR PCI_DEVICE 00000001:00:00.0",
        "mlx5-health ERROR PCI_DEVICE 00000000:1A:00.0",
        "mlx5-health-warning WARNING PCI_DEVICE 00000000:61:00.0",
        "mlx5-health-warning WARNING PCI_DEVICE 00000000:61:00.0",
        "mlx5-health-warning WARNING PCI_DEVICE 00000000:61:00.0",
        "mlx5-link-down WARNING PCI_DEVICE 00000000:1A:00.0",
        "mlx5-link-down WARNING INFINIBAND_PORT mlx5_5",
        "mlx5-link-up INFO PCI_DEVICE 00000000:1A:00.0",
        "mlx5-link-up INFO INFINIBAND_PORT mlx5_5");
  }

  @Test
  void hungTasksAreErrorsWithTheirProcess() throws Exception {
    List<Event> events = KernelLineForms.kmsg("/kmsg/forms/hung-task.kmsg", dir);
    assertThat(events).extracting(KernelLineForms::describe).containsExactly("hung-task ERROR NODE", "hung-task ERROR NODE");
    assertThat(events.get(1).getLogMatch().getFieldsMap()).containsEntry("process", "kworker/u1664:6").containsEntry("pid", "1514")
        .containsEntry("seconds", "122");
  }

  @Test
  void oomKillsInBothWordingsAreEvents() throws Exception {
    List<Event> events = KernelLineForms.kmsg("/kmsg/forms/oom.kmsg", dir);
    assertThat(events).extracting(KernelLineForms::describe).containsExactly(
        "oom-kill INFO NODE",
        "oom-killed-process WARNING NODE",
        "oom-killed-process WARNING NODE",
        "oom-killed-process WARNING NODE",
        "oom-killed-process WARNING NODE");
    assertThat(events.get(2).getLogMatch().getFieldsMap()).containsEntry("pid", "4321").containsEntry("process", "pt_main_thread");
  }

  @Test
  void blockBufferScsiFilesystemAndNvmeErrorsNameTheDisk() throws Exception {
    List<Event> events = KernelLineForms.kmsg("/kmsg/forms/storage.kmsg", dir);
    assertThat(events).extracting(KernelLineForms::describe).containsExactly(
        "block-io-error ERROR NODE",
        "block-io-error ERROR NODE",
        "block-io-error ERROR NODE",
        "block-io-error ERROR NODE",
        "block-io-error ERROR NODE",
        "block-io-error ERROR NODE",
        "block-io-error ERROR NODE",
        "block-io-error ERROR NODE",
        "block-io-warning WARNING NODE",
        "buffer-io-error ERROR NODE",
        "buffer-io-error ERROR NODE",
        "scsi-sense-error ERROR NODE",
        "scsi-sense-error ERROR NODE",
        "fs-io-error ERROR NODE",
        "fs-io-error ERROR NODE",
        "fs-io-error ERROR NODE",
        "fs-io-error ERROR NODE",
        "fs-io-error ERROR NODE",
        "fs-io-error ERROR NODE",
        "nvme-timeout WARNING NODE",
        "nvme-timeout WARNING NODE",
        "nvme-controller-reset ERROR NODE",
        "nvme-controller-reset ERROR NODE",
        "nvme-controller-reset ERROR NODE",
        "nvme-controller-removed CRITICAL NODE");
    assertThat(events).extracting(e -> e.getLogMatch().getFieldsMap().get("device")).containsExactly(
        "nvme0n1", "sda", "sdb", "sdb", "sdc", "sdd", "nvme1n1", "sde", "sdf", "sdb1", "dm-0", "sdb", "sda",
        "sda1", "nvme0n1p2", "sda1", null, null, null, "nvme0", "nvme0", "nvme0", "nvme0", "nvme1", "nvme1");
    assertThat(events.get(2).getLogMatch().getFieldsMap()).containsEntry("error", "critical medium")
        .containsEntry("sector", "1953525160");
    assertThat(events.get(17).getLogMatch().getFieldsMap()).containsEntry("xfsdevice", "md0");
  }

  @ParameterizedTest
  @ValueSource(strings = {"nvidia.kmsg", "aer.kmsg", "cpu-memory.kmsg", "mlx5.kmsg", "hung-task.kmsg", "oom.kmsg", "storage.kmsg"})
  void benignLinesOfEveryClassLeaveTheKernelLogCheckWithoutAFinding(String fixture) throws Exception {
    List<Event> events = KernelLineForms.kmsg("/kmsg/benign/" + fixture, dir);
    assertThat(events).allSatisfy(e -> assertThat(e.getSeverity()).as(describe(e))
        .isIn(EventSeverity.EVENT_SEVERITY_INFO, EventSeverity.EVENT_SEVERITY_WARNING));
    KernelLogCheck check = new KernelLogCheck(Duration.ofHours(1), FileStateStore.open(dir.resolve("check")));
    List<Finding> findings = check.evaluate(new HostSnapshot(KernelLineForms.NOW, "boot-1", List.of(), List.of(),
        OptionalInt.empty(), events, Optional.empty()));
    assertThat(findings).isEmpty();
  }

  @Test
  void theBenignFixturesHoldTheLinesTheyAreAbout() throws Exception {
    // Guards the test above against an empty or unreadable fixture: most benign lines are no event at all.
    assertThat(KernelLineForms.kmsg("/kmsg/benign/nvidia.kmsg", dir)).isEmpty();
    assertThat(KernelLineForms.kmsg("/kmsg/benign/hung-task.kmsg", dir)).isEmpty();
    assertThat(KernelLineForms.kmsg("/kmsg/benign/storage.kmsg", dir)).isEmpty();
    assertThat(KernelLineForms.kmsg("/kmsg/benign/aer.kmsg", dir)).extracting(KernelLineForms::describe).containsExactly(
        "pcie-aer-corrected WARNING PCI_DEVICE 00000000:01:00.0",
        "pcie-aer-corrected-device WARNING GPU 00000000:3B:00.0 " + GPU_3B);
    assertThat(KernelLineForms.kmsg("/kmsg/benign/cpu-memory.kmsg", dir)).extracting(KernelLineForms::describe).containsExactly(
        "machine-check-corrected WARNING NODE",
        "machine-check-corrected WARNING NODE",
        "edac-corrected WARNING NODE",
        "edac-corrected WARNING NODE",
        "cper-hardware-error INFO NODE",
        "cper-corrected WARNING NODE",
        "cper-corrected WARNING NODE");
    assertThat(KernelLineForms.kmsg("/kmsg/benign/mlx5.kmsg", dir)).extracting(KernelLineForms::describe).containsExactly(
        "mlx5-link-up INFO INFINIBAND_PORT mlx5_5",
        "mlx5-link-up INFO PCI_DEVICE 00000000:1A:00.0");
    assertThat(KernelLineForms.kmsg("/kmsg/benign/oom.kmsg", dir)).extracting(KernelLineForms::describe)
        .containsExactly("oom-killed-process WARNING NODE");
  }
}

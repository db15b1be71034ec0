package io.gpuwarden.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.classify.ClassifierRules;
import io.gpuwarden.agent.classify.LogClassifier;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.Event;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link KernelLog} following a kernel log whose split message arrives across polls. */
class KernelLogSplitLinesTest {
  private static final Instant BOOT = Instant.parse("2026-11-22T09:00:00Z");

  @TempDir
  Path dir;

  private final LogClassifier classifier =
      new LogClassifier(ClassifierRules.defaults(), new XidEvents(XidPolicy.defaults()), pci -> Optional.empty());

  private KernelLog follow(Path kmsg, StateStore state) {
    LogConfig config = new LogConfig(Optional.of(kmsg), List.of(), Optional.empty(), 4, 50, 500, 4096, Optional.empty());
    return KernelLog.open(config, classifier, state, "boot-1", BOOT, Clock.fixed(BOOT.plusSeconds(3600), ZoneOffset.UTC),
        KernelLog.Mode.FOLLOW);
  }

  /**
   * Waits until the reader (which follows the file on its own thread) has read {@code records}
   * records, then polls once: one poll is one batch for the joiner.
   */
  private static List<Event> pollUntilRead(KernelLog log, long records) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (log.kmsgStats().orElseThrow().records() < records) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the reader did not read " + records + " records");
      }
      Thread.sleep(10);
    }
    Thread.sleep(50); // from counted to queued
    return log.poll().events().stream().filter(e -> e.hasLogMatch() || e.hasXid()).toList();
  }

  private static void append(Path file, String... records) throws Exception {
    Files.writeString(file, String.join("\n", records) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  @Test
  void aContinuationReadInTheNextPollIsStillJoinedAndTheResumePointWaitsForIt() throws Exception {
    Path kmsg = dir.resolve("kmsg");
    StateStore state = FileStateStore.open(dir.resolve("state"));
    append(kmsg, "6,100,1000,-;NVRM: loading NVIDIA UNIX Open Kernel Module for x86_64  570.158.01",
        "3,101,5000000,-;NVRM: The NVIDIA GPU 0000:3b:00.0");
    try (KernelLog log = follow(kmsg, state)) {
      assertThat(pollUntilRead(log, 2)).isEmpty();
      assertThat(state.get(KernelLog.RESUME_KEY + "boot-1")).as("the held head is read again after a crash")
          .contains("100");

      append(kmsg, "3,102,5000004,-;NVRM: (PCI ID: 10de:2330) installed in this system has",
          "3,103,5000007,-;NVRM: fallen off the bus and is not responding to commands.");
      List<Event> events = pollUntilRead(log, 4);
      assertThat(events).singleElement().satisfies(e -> {
        assertThat(e.getLogMatch().getRule()).isEqualTo("gpu-fallen-off-bus");
        assertThat(e.getComponent().getPciBusId()).isEqualTo("00000000:3B:00.0");
      });
      assertThat(state.get(KernelLog.RESUME_KEY + "boot-1")).contains("103");
    }
  }

  @Test
  void aHeadWhoseContinuationNeverComesHoldsUpNothingAndIsGivenUpAtTheSecondPoll() throws Exception {
    Path kmsg = dir.resolve("kmsg");
    StateStore state = FileStateStore.open(dir.resolve("state"));
    append(kmsg, "3,200,5000000,-;NVRM: The NVIDIA GPU 0000:3b:00.0",
        "3,201,5000100,-;INFO: task python:1234 blocked for more than 120 seconds.");
    try (KernelLog log = follow(kmsg, state)) {
      List<Event> events = pollUntilRead(log, 2);
      assertThat(events).extracting(e -> e.getLogMatch().getRule()).as("the next line is judged at once")
          .containsExactly("hung-task");
      append(kmsg, "3,202,6000000,-;NVRM: The NVIDIA GPU 0000:b3:00.0");
      assertThat(pollUntilRead(log, 3)).isEmpty();
      log.poll();
      log.poll();
      append(kmsg, "3,203,6000100,-;NVRM: fallen off the bus and is not responding to commands.");
      assertThat(pollUntilRead(log, 4)).as("too late to be joined, and no rule matches the part alone").isEmpty();
    }
    assertThat(state.get(KernelLog.RESUME_KEY + "boot-1")).contains("203");
  }
}

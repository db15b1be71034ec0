package io.gpuwarden.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SplitLineJoinerTest {
  private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  private static final String JOINED = "NVRM: The NVIDIA GPU 0000:b3:00.0 (PCI ID: 10de:26b5) installed in this system has"
      + " fallen off the bus and is not responding to commands.";

  private final SplitLineJoiner joiner = SplitLineJoiner.defaults();
  private final List<String> out = new ArrayList<>();
  private final List<Instant> times = new ArrayList<>();

  private void offer(String message, Instant time) {
    joiner.offer(message, time, 7, this::take);
  }

  private void take(String text, Instant time) {
    out.add(text);
    times.add(time);
  }

  @Test
  void oneRecordWithTheDriversNewlinesBecomesOneLine() {
    offer("NVRM: The NVIDIA GPU 0000:b3:00.0\nNVRM: (PCI ID: 10de:26b5) installed in this system has\n"
        + "NVRM: fallen off the bus and is not responding to commands.", T0);
    assertThat(out).containsExactly(JOINED);
    assertThat(joiner.holding()).isFalse();
  }

  @Test
  void partsArrivingAsSeparateLinesAreJoinedWithTheTimeOfTheFirst() {
    offer("NVRM: The NVIDIA GPU 0000:b3:00.0", T0);
    assertThat(out).isEmpty();
    assertThat(joiner.holding()).isTrue();
    assertThat(joiner.heldTag()).isEqualTo(7);
    offer("NVRM: (PCI ID: 10de:26b5) installed in this system has  ", T0.plusMillis(1));
    offer("NVRM: fallen off the bus and is not responding to commands.", T0.plusMillis(2));
    assertThat(out).containsExactly(JOINED);
    assertThat(times).containsExactly(T0);
    assertThat(joiner.heldTag()).isEqualTo(-1);
  }

  @Test
  void theOlderBreakAfterInstalledInThisIsJoinedToo() {
    offer("NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1e07) installed in this", T0);
    offer("NVRM: system has fallen off the bus and is not responding to commands.", T0);
    assertThat(out).containsExactly("NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1e07) installed in this system has"
        + " fallen off the bus and is not responding to commands.");
  }

  @Test
  void aCompleteOneLineFormAndOrdinaryLinesPassAtOnceUnchanged() {
    offer("NVRM: The NVIDIA GPU 0000:05:00.0 installed in this system has fallen off the bus and is not responding to commands.", T0);
    offer("NVRM: GPU at PCI:0000:3b:00: GPU-6f3c0b2e-1111-2222-3333-444455556666", T0);
    offer("NVRM: GPU Board Serial Number: 1650123456789", T0);
    offer("pcieport 0000:00:01.0: AER: enabled with IRQ 122", T0);
    assertThat(out).containsExactly(
        "NVRM: The NVIDIA GPU 0000:05:00.0 installed in this system has fallen off the bus and is not responding to commands.",
        "NVRM: GPU at PCI:0000:3b:00: GPU-6f3c0b2e-1111-2222-3333-444455556666",
        "NVRM: GPU Board Serial Number: 1650123456789",
        "pcieport 0000:00:01.0: AER: enabled with IRQ 122");
    assertThat(joiner.holding()).isFalse();
  }

  @Test
  void aLineThatDoesNotContinueHandsTheHeldPartOnFirstSoNothingIsReordered() {
    offer("NVRM: The NVIDIA GPU 0000:b3:00.0", T0);
    offer("NVRM: Xid (PCI:0000:b3:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.", T0);
    assertThat(out).containsExactly("NVRM: The NVIDIA GPU 0000:b3:00.0",
        "NVRM: Xid (PCI:0000:b3:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
  }

  @Test
  void aContinuationOutsideTheWindowIsNotJoined() {
    offer("NVRM: The NVIDIA GPU 0000:b3:00.0", T0);
    offer("NVRM: fallen off the bus and is not responding to commands.", T0.plus(SplitLineJoiner.WINDOW).plusMillis(1));
    assertThat(out).containsExactly("NVRM: The NVIDIA GPU 0000:b3:00.0",
        "NVRM: fallen off the bus and is not responding to commands.");
  }

  @Test
  void aContinuationThatNeverComesIsGivenUpAtTheSecondBatchEndOrAFlush() {
    offer("NVRM: The NVIDIA GPU 0000:b3:00.0", T0);
    joiner.endOfBatch(this::take);
    assertThat(out).as("may still come in the next poll").isEmpty();
    joiner.endOfBatch(this::take);
    assertThat(out).containsExactly("NVRM: The NVIDIA GPU 0000:b3:00.0");

    offer("NVRM: The NVIDIA GPU 0000:3b:00.0", T0);
    joiner.flush(this::take);
    assertThat(out).containsExactly("NVRM: The NVIDIA GPU 0000:b3:00.0", "NVRM: The NVIDIA GPU 0000:3b:00.0");
    assertThat(joiner.holding()).isFalse();
  }

  @Test
  void aFloodOfHeadsHoldsOneAtATime() {
    for (int i = 0; i < 10_000; i++) {
      offer("NVRM: The NVIDIA GPU 0000:b3:00.0", T0);
    }
    assertThat(out).hasSize(9_999);
    assertThat(joiner.holding()).isTrue();
  }

  @Test
  void aMessageThatNeverCompletesIsHandedOnAtTheLimit() {
    offer("NVRM: The NVIDIA GPU 0000:b3:00.0", T0);
    for (int i = 1; i < SplitLineJoiner.MAX_PARTS; i++) {
      offer("NVRM: installed in this system has", T0);
    }
    assertThat(out).singleElement().satisfies(s -> assertThat(s).startsWith("NVRM: The NVIDIA GPU 0000:b3:00.0 installed"));
    assertThat(joiner.holding()).isFalse();
  }

  @Test
  void otherMessagesWithTheSameHeadStayApartFromTheLinesAfterThem() {
    offer("NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1c82)\nNVRM: installed in this system is not supported by open\n"
        + "NVRM: nvidia.ko because it does not include the required GPU\nNVRM: System Processor (GSP).", T0);
    assertThat(out).containsExactly(
        "NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1c82) installed in this system is not supported by open",
        "NVRM: nvidia.ko because it does not include the required GPU",
        "NVRM: System Processor (GSP).");
  }

  @Test
  void mayBelongMarksHeadsAndContinuationsOnly() {
    assertThat(joiner.mayBelong("NVRM: The NVIDIA GPU 0000:b3:00.0")).isTrue();
    assertThat(joiner.mayBelong("NVRM: fallen off the bus and is not responding to commands.")).isTrue();
    assertThat(joiner.mayBelong("NVRM: nvAssertFailedNoLog: Assertion failed: 0 @ gpu.c:123")).isFalse();
    assertThat(joiner.mayBelong("audit: type=1400 NVRM: The NVIDIA GPU 0000:b3:00.0")).isFalse();
  }
}

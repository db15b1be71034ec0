package io.gpuwarden.agent.source.kmsg;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KmsgReaderTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private static KmsgReader readToEnd(Path file, KmsgReader.Options options) throws InterruptedException {
    KmsgReader r = KmsgReader.file(file, options);
    r.start();
    assertThat(r.awaitFinished(WAIT)).isTrue();
    return r;
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text, UTF_8);
  }

  @Test
  void readsARegularFileWithContinuationLinesAndUnknownPrefixFields() throws Exception {
    Path f = write("k", "4,1,5,-,caller=T42,future=x;NVRM: first\n SUBSYSTEM=pci\n DEVICE=+pci:0000:3b:00.0\n6,2,6,c;second\n");
    KmsgReader r = readToEnd(f, KmsgReader.Options.DEFAULTS);
    List<KmsgRecord> recs = r.drain(10);
    assertThat(recs).extracting(KmsgRecord::message).containsExactly("NVRM: first", "second");
    assertThat(recs.get(0).dictionary()).containsEntry("SUBSYSTEM", "pci").containsEntry("DEVICE", "+pci:0000:3b:00.0");
    assertThat(r.stats().records()).isEqualTo(2);
    assertThat(r.stats().gaps()).isZero();
  }

  @Test
  void countsSequenceGapsAsOverwrittenRecords() throws Exception {
    KmsgReader r = readToEnd(write("k", "6,1,1,-;a\n6,2,2,-;b\n6,5,3,-;c\n6,6,4,-;d\n6,10,5,-;e\n"), KmsgReader.Options.DEFAULTS);
    assertThat(r.stats().gaps()).isEqualTo(2);
    assertThat(r.stats().missedRecords()).isEqualTo(2 + 3);
    assertThat(r.stats().lastSequence()).isEqualTo(10);
  }

  @Test
  void resumesAfterTheLastHandledSequenceAndCountsRecordsLostWhileDown() throws Exception {
    KmsgReader r = readToEnd(write("k", "6,1,1,-;a\n6,2,2,-;b\n6,3,3,-;c\n6,6,4,-;d\n"),
        KmsgReader.Options.DEFAULTS.resumingAfter(2));
    assertThat(r.drain(10)).extracting(KmsgRecord::sequence).containsExactly(3L, 6L);
    assertThat(r.stats().skippedOnResume()).isEqualTo(2);
    assertThat(r.stats().missedRecords()).isEqualTo(2);
  }

  @Test
  void skipsMalformedRecordsWithASpecificErrorAndKeepsReading() throws Exception {
    KmsgReader r = readToEnd(write("k", "garbage without separator\n6,x,1,-;bad seq\n6,7,1,-;good\n"), KmsgReader.Options.DEFAULTS);
    assertThat(r.drain(10)).extracting(KmsgRecord::message).containsExactly("good");
    assertThat(r.stats().malformed()).isEqualTo(2);
    assertThat(r.stats().lastError()).contains("non-numeric").contains("6,x,1,-;bad seq");
  }

  @Test
  void dropsTheOldestRecordsWhenTheConsumerFallsBehindAndCountsEachDrop() throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= 10; i++) {
      sb.append("6,").append(i).append(",0,-;line ").append(i).append('\n');
    }
    KmsgReader r = readToEnd(write("k", sb.toString()), KmsgReader.Options.DEFAULTS.withCapacity(3));
    assertThat(r.stats().dropped()).isEqualTo(7);
    assertThat(r.drain(10)).extracting(KmsgRecord::sequence).containsExactly(8L, 9L, 10L);
  }

  @Test
  void importantRecordsInTheMiddleOfAFloodAreNotPushedOut() throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= 10_000; i++) {
      sb.append("4,").append(i).append(",0,-;").append(i == 5000 ? "NVRM: Xid (PCI:0000:3b:00): 79, GPU has fallen off the bus."
          : "noise " + i).append('\n');
    }
    KmsgReader r = readToEnd(write("k", sb.toString()),
        KmsgReader.Options.DEFAULTS.withCapacity(16).withImportant(rec -> rec.message().startsWith("NVRM:")));
    List<KmsgRecord> kept = r.drain(100);
    assertThat(kept).hasSize(17);
    assertThat(kept.get(0).sequence()).isEqualTo(5000); // in sequence order, the important one first
    assertThat(kept.get(16).sequence()).isEqualTo(10_000);
    assertThat(r.stats().dropped()).isEqualTo(10_000 - 17);
  }

  @Test
  void idleOnceEverythingLoggedSoFarHasBeenRead() throws Exception {
    KmsgReader r = readToEnd(write("k", "6,1,1,-;a\n"), KmsgReader.Options.DEFAULTS);
    assertThat(r.idleFor(Duration.ofHours(1))).isTrue(); // finished
  }

  @Test
  void followsRecordsAppendedToAFileIncludingAHalfWrittenLine() throws Exception {
    Path f = write("k", "6,1,1,-;first\n");
    KmsgReader r = KmsgReader.file(f, KmsgReader.Options.DEFAULTS.following(Duration.ofMillis(5)));
    r.start();
    try {
      await().atMost(WAIT).until(() -> r.stats().records() == 1);
      Files.writeString(f, "6,2,2,-;sec", UTF_8, StandardOpenOption.APPEND);
      Files.writeString(f, "ond\n", UTF_8, StandardOpenOption.APPEND);
      Files.writeString(f, "6,3,3,-;third\n", UTF_8, StandardOpenOption.APPEND);
      await().atMost(WAIT).until(() -> r.stats().records() == 3);
      assertThat(r.drain(10)).extracting(KmsgRecord::message).containsExactly("first", "second", "third");
    } finally {
      r.stop();
    }
  }

  /** A device like {@code /dev/kmsg} opened non-blocking: each read takes the next scripted result. */
  private static final class ScriptedDevice implements KmsgReader.RecordSource {
    private final Deque<Object> reads = new ArrayDeque<>();
    volatile boolean closed;

    ScriptedDevice(Object... script) {
      reads.addAll(List.of(script));
    }

    @Override
    public synchronized int read(byte[] into) throws IOException {
      Object next = reads.poll();
      if (next == null) {
        return 0; // EAGAIN: nothing ready
      }
      if (next instanceof Integer end) {
        return end;
      }
      if (next instanceof IOException e) {
        throw e;
      }
      byte[] rec = ((String) next).getBytes(UTF_8);
      System.arraycopy(rec, 0, into, 0, rec.length);
      return rec.length;
    }

    synchronized void add(Object... more) {
      reads.addAll(List.of(more));
    }

    synchronized boolean allRead() {
      return reads.isEmpty();
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void countsBrokenPipeFromTheDeviceAndContinuesWithTheNextRecord() throws Exception {
    ScriptedDevice device = new ScriptedDevice("6,1,10,-;one\n SUBSYSTEM=pci\n",
        new KmsgDevice.BrokenPipeException("/dev/kmsg: Broken pipe"), "6,5,20,-;five\n", "6,6,30,-;six\\x0a\n");
    KmsgReader r = new KmsgReader("fake", () -> device, KmsgReader.Options.DEFAULTS);
    r.start();
    List<KmsgRecord> recs = r.drain(10);
    assertThat(recs).extracting(KmsgRecord::message).containsExactly("one", "five", "six\n");
    assertThat(recs.get(0).dictionary()).containsEntry("SUBSYSTEM", "pci");
    assertThat(r.stats().brokenPipes()).isEqualTo(1);
    assertThat(r.stats().missedRecords()).isEqualTo(3);
    r.stop();
  }

  @Test
  void aDrainReadsWhatTheDeviceHasReadyWithoutWaitingAndLaterRecordsOnTheNextDrain() {
    ScriptedDevice device = new ScriptedDevice("6,1,10,-;one\n", "6,2,20,-;two\n");
    KmsgReader r = new KmsgReader("fake", () -> device, KmsgReader.Options.DEFAULTS);
    r.start();
    assertThat(r.drain(10)).extracting(KmsgRecord::message).containsExactly("one", "two");
    assertThat(r.drain(10)).isEmpty();
    device.add("6,3,30,-;three\n");
    assertThat(r.idleFor(Duration.ZERO)).isTrue(); // read up to "nothing ready": caught up
    assertThat(r.drain(10)).extracting(KmsgRecord::message).containsExactly("three");
    assertThat(r.floodReaderRunning()).isFalse();
    r.stop();
    assertThat(device.closed).isTrue();
  }

  @Test
  void aReadErrorIsReportedAndEndsReadingTheDevice() throws Exception {
    ScriptedDevice device = new ScriptedDevice("6,1,10,-;one\n", new IOException("read /dev/kmsg: Invalid argument"));
    KmsgReader r = new KmsgReader("fake", () -> device, KmsgReader.Options.DEFAULTS);
    r.start();
    assertThat(r.drain(10)).extracting(KmsgRecord::message).containsExactly("one");
    assertThat(r.stats().lastError()).isEqualTo("cannot read fake: read /dev/kmsg: Invalid argument");
    assertThat(r.awaitFinished(Duration.ZERO)).isTrue();
    assertThat(device.closed).isTrue();
  }

  @Test
  void aDeviceThatCannotBeOpenedIsReportedNotThrown() throws Exception {
    KmsgReader r = new KmsgReader("fake", () -> {
      throw new IOException("/dev/kmsg: Permission denied");
    }, KmsgReader.Options.DEFAULTS);
    r.start();
    assertThat(r.stats().lastError()).isEqualTo("cannot read fake: /dev/kmsg: Permission denied");
    assertThat(r.drain(1)).isEmpty();
    assertThat(r.awaitFinished(Duration.ZERO)).isTrue();
  }

  @Test
  void aFloodStartsTheFloodReaderWhichKeepsTheImportantRecordAndStopsOnceItHasPassed() throws Exception {
    ScriptedDevice device = new ScriptedDevice();
    for (int i = 1; i <= KmsgReader.PUMP_LIMIT + 10; i++) {
      device.add("4," + i + ",0,-;noise " + i + "\n");
    }
    KmsgReader r = new KmsgReader("fake", () -> device,
        KmsgReader.Options.DEFAULTS.withCapacity(16).withImportant(rec -> rec.message().startsWith("NVRM:")));
    r.start();
    assertThat(r.drain(100)).hasSize(16); // a pass read PUMP_LIMIT records: a flood
    assertThat(r.floodReaderRunning()).isTrue();
    // More of the flood arrives between two drains; the flood reader takes it out of the device.
    int seq = KmsgReader.PUMP_LIMIT + 11;
    device.add("4," + seq++ + ",0,-;NVRM: Xid (PCI:0000:3b:00): 79, GPU has fallen off the bus.\n");
    for (int i = 0; i < 3000; i++) {
      device.add("4," + seq++ + ",0,-;noise\n");
    }
    await().atMost(WAIT).until(device::allRead);
    List<KmsgRecord> kept = r.drain(100);
    assertThat(kept.get(0).message()).startsWith("NVRM: Xid");
    assertThat(kept).hasSize(17);
    await().atMost(WAIT).until(() -> !r.floodReaderRunning()); // a quiet second: it stops
    r.stop();
  }

  @Test
  void readsTheRealDevKmsgWithoutBlocking() throws Exception {
    Path kmsg = Path.of("/dev/kmsg");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(kmsg) && Files.isWritable(kmsg),
        "needs read and write access to /dev/kmsg (root)");
    String marker = "gpuwarden-kmsg-test-" + System.nanoTime();
    KmsgReader r = KmsgReader.device(kmsg, KmsgReader.Options.DEFAULTS.withCapacity(100_000));
    r.start();
    try {
      long start = System.nanoTime();
      r.drain(Integer.MAX_VALUE); // what the kernel holds; returns at once at its end
      assertThat(r.idleFor(Duration.ZERO)).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(WAIT);
      Files.writeString(kmsg, "<4>" + marker + "\n", StandardOpenOption.WRITE);
      await().atMost(WAIT).untilAsserted(() -> assertThat(r.drain(100)).extracting(KmsgRecord::message)
          .anySatisfy(m -> assertThat(m).isEqualTo(marker)));
      assertThat(r.stats().lastError()).isEmpty();
    } finally {
      r.stop();
    }
  }

  @Test
  void aMissingFileIsReportedNotThrown() throws Exception {
    KmsgReader r = readToEnd(dir.resolve("absent"), KmsgReader.Options.DEFAULTS);
    assertThat(r.stats().lastError()).contains("absent");
    assertThat(r.drain(1)).isEmpty();
  }

  @Test
  void aQueueNeedsRoomForOneRecord() {
    assertThatThrownBy(() -> KmsgReader.Options.DEFAULTS.withCapacity(0)).hasMessageContaining("at least 1");
  }
}

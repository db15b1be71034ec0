package io.gpuwarden.agent.classify;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.source.kmsg.KmsgReader;
import io.gpuwarden.agent.source.kmsg.KmsgRecord;
import io.gpuwarden.proto.v1.Event;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelLogFloodTest {
  private static final int FLOOD = 200_000;
  private static final int CAPACITY = 1024;

  @Test
  void aFloodIsDroppedExactlyAndTheFatalXidAtItsEndIsStillCaught(@TempDir Path dir) throws Exception {
    Path capture = dir.resolve("flood.kmsg");
    try (BufferedWriter w = Files.newBufferedWriter(capture, StandardCharsets.UTF_8)) {
      for (int i = 1; i <= FLOOD; i++) {
        // A noisy non-fatal Xid storm, as a misbehaving job produces.
        w.write("4," + i + "," + i + ",-;NVRM: Xid (PCI:0000:3b:00): 13, pid=9, name=bad, Graphics Exception " + i + "\n");
      }
      w.write("4," + (FLOOD + 1) + ",0,-;NVRM: Xid (PCI:0000:3b:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.\n");
    }
    LogClassifier classifier = new LogClassifier(ClassifierRules.defaults(), new XidEvents(XidPolicy.defaults()),
        pci -> Optional.empty());
    KmsgReader reader = KmsgReader.file(capture, KmsgReader.Options.DEFAULTS.withCapacity(CAPACITY));
    List<Event> fatal = new ArrayList<>();
    long drained = 0;
    reader.start();
    boolean done = false;
    while (!done) {
      done = reader.awaitFinished(Duration.ofMillis(1)); // decide before draining so the last drain sees everything
      for (KmsgRecord r : reader.drain(256)) {
        drained++;
        classifier.classify(r.message(), Instant.EPOCH).filter(e -> e.getXid().getXid() == 79).ifPresent(fatal::add);
      }
    }
    for (KmsgRecord r : reader.drain(Integer.MAX_VALUE)) {
      drained++;
      classifier.classify(r.message(), Instant.EPOCH).filter(e -> e.getXid().getXid() == 79).ifPresent(fatal::add);
    }
    assertThat(reader.stats().records()).isEqualTo(FLOOD + 1);
    assertThat(reader.stats().dropped()).isEqualTo(FLOOD + 1 - drained);
    assertThat(reader.stats().gaps()).isZero();
    assertThat(fatal).hasSize(1);
    assertThat(fatal.get(0).getXid().getPciBusId()).isEqualTo("00000000:3B:00.0");
  }
}

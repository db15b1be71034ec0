package io.gpuwarden.agent.source.kmsg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class KmsgRecordFormatTest {
  @Test
  void aDeviceReadIsOneRecordWithItsContinuationLines() {
    KmsgRecord r = KmsgParser.parseBlock("3,77,1500000,-;pcieport 0000:00:01.0: AER\\x3a x\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:01.0\n");
    assertThat(r.message()).isEqualTo("pcieport 0000:00:01.0: AER: x");
    assertThat(r.dictionary()).hasSize(2).containsEntry("DEVICE", "+pci:0000:00:01.0");
    assertThat(r.wallTime(Instant.parse("2026-01-01T00:00:00Z"))).isEqualTo(Instant.parse("2026-01-01T00:00:01.5Z"));
  }

  @Test
  void escapedBytesAreDecodedAsUtf8AndBadEscapesKeptAsWritten() {
    assertThat(KmsgParser.parse("6,1,0,-;tab\\x09end caf\\xc3\\xa9 \\xZZ \\x4", List.of()).message())
        .isEqualTo("tab\tend café \\xZZ \\x4");
  }

  @Test
  void malformedRecordsGiveSpecificErrors() {
    assertThatThrownBy(() -> KmsgParser.parseBlock("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> KmsgParser.parse("6,1;text", List.of())).hasMessageContaining("PRI,SEQ,TS_USEC");
    assertThatThrownBy(() -> KmsgParser.parse("6,-1,0,-;text", List.of())).hasMessageContaining("negative");
  }
}

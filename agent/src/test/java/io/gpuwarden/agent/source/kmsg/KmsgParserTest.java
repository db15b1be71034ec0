package io.gpuwarden.agent.source.kmsg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class KmsgParserTest {
  @Test
  void parsesPrefixMessageAndDictionary() {
    KmsgRecord r = KmsgParser.parse("3,1045,123456789,-;nvidia 0000:3b:00.0: something",
        List.of(" SUBSYSTEM=pci", " DEVICE=+pci:0000:3b:00.0"));
    assertThat(r.priority()).isEqualTo(3);
    assertThat(r.facility()).isZero();
    assertThat(r.sequence()).isEqualTo(1045);
    assertThat(r.monotonicMicros()).isEqualTo(123_456_789L);
    assertThat(r.continuation()).isFalse();
    assertThat(r.message()).isEqualTo("nvidia 0000:3b:00.0: something");
    assertThat(r.dictionary()).containsEntry("SUBSYSTEM", "pci").containsEntry("DEVICE", "+pci:0000:3b:00.0");
  }

  @Test
  void facilityComesFromThePriorityAndExtraFieldsAreIgnored() {
    KmsgRecord r = KmsgParser.parse("30,7,5,c,caller=T123;systemd[1]: started", List.of());
    assertThat(r.facility()).isEqualTo(3);
    assertThat(r.priority()).isEqualTo(6);
    assertThat(r.continuation()).isTrue();
    assertThat(r.message()).isEqualTo("systemd[1]: started");
  }

  @Test
  void escapesAreDecodedAsUtf8AndMalformedOnesKept() {
    assertThat(KmsgParser.parse("6,1,1,-;tab\\x09end \\xc3\\xa9 bad\\xZZ", List.of()).message())
        .isEqualTo("tab\tend é bad\\xZZ");
  }

  @Test
  void messageMayContainSemicolonsAndCommas() {
    assertThat(KmsgParser.parse("4,2,3,-;a; b, c=d", List.of()).message()).isEqualTo("a; b, c=d");
  }

  @Test
  void malformedRecordsGetSpecificErrors() {
    assertThatThrownBy(() -> KmsgParser.parse("no semicolon here", List.of())).hasMessageContaining("without ';'");
    assertThatThrownBy(() -> KmsgParser.parse("4,2;x", List.of())).hasMessageContaining("PRI,SEQ,TS_USEC");
    assertThatThrownBy(() -> KmsgParser.parse("x,2,3,-;y", List.of())).hasMessageContaining("non-numeric");
  }
}

package io.gpuwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class TimesTest {
  private static final Instant T = Instant.parse("2026-12-03T14:00:00.750Z");

  @Test
  void utcIsIso8601ToTheSecond() {
    assertThat(Times.utc().format(T)).isEqualTo("2026-12-03T14:00:00Z");
    assertThat(Times.utc().format(Timestamp.newBuilder().setSeconds(T.getEpochSecond()).build())).isEqualTo("2026-12-03T14:00:00Z");
    assertThat(Times.utc().format(Timestamp.getDefaultInstance())).isEqualTo("-");
  }

  @Test
  void aLocalZoneIsShownBesideUtcWithItsOffset() {
    assertThat(Times.withLocal(ZoneId.of("Europe/Berlin")).format(T))
        .isEqualTo("2026-12-03T14:00:00Z (local 2026-12-03T15:00:00+01:00)");
    assertThat(Times.withLocal(ZoneId.of("Pacific/Auckland")).format(T))
        .isEqualTo("2026-12-03T14:00:00Z (local 2026-12-04T03:00:00+13:00)");
  }

  @Test
  void theLocalTimeIsShownOnlyAtATerminalWhoseZoneIsNotUtc() {
    assertThat(Times.choose(true, ZoneId.of("Europe/Berlin")).local()).contains(ZoneId.of("Europe/Berlin"));
    assertThat(Times.choose(false, ZoneId.of("Europe/Berlin")).local()).isEmpty();
    assertThat(Times.choose(true, ZoneOffset.UTC).local()).isEmpty();
    assertThat(Times.choose(true, ZoneId.of("Etc/UTC")).local()).isEmpty();
    assertThat(Times.choose(true, ZoneId.of("GMT")).local()).isEmpty();
  }

  @Test
  void annotateAddsTheLocalTimeAfterEachUtcInstantInAMessage() {
    String message = "node is LOCKED since 2026-12-03T14:00:00Z, window until 2026-12-03T16:30:00Z";

    assertThat(Times.utc().annotate(message)).isSameAs(message);
    assertThat(Times.withLocal(ZoneId.of("Europe/Berlin")).annotate(message)).isEqualTo("node is LOCKED since "
        + "2026-12-03T14:00:00Z (local 2026-12-03T15:00:00+01:00), window until 2026-12-03T16:30:00Z "
        + "(local 2026-12-03T17:30:00+01:00)");
  }

  @Test
  void durationsUseTheLargestWholeUnit() {
    assertThat(Times.duration(Duration.ofMinutes(10))).isEqualTo("10m");
    assertThat(Times.duration(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(Times.duration(Duration.ofHours(48))).isEqualTo("2d");
    assertThat(Times.duration(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }

  @Test
  void testsDoNotRunAtATerminalSoCommandsPrintUtcOnly() {
    assertThat(Times.forThisProcess().local()).isEmpty();
  }
}

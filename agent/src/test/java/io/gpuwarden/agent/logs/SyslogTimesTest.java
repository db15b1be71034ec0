package io.gpuwarden.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class SyslogTimesTest {
  private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");

  @Test
  void rfc3339WithAndWithoutFractionAndOffsets() {
    assertThat(SyslogTimes.parse("2026-11-22T10:00:01.123456+00:00", NOW, ZoneOffset.UTC))
        .contains(Instant.parse("2026-11-22T10:00:01.123456Z"));
    assertThat(SyslogTimes.parse("2026-11-22T10:00:01+0100", NOW, ZoneOffset.UTC))
        .contains(Instant.parse("2026-11-22T09:00:01Z"));
    assertThat(SyslogTimes.parse("2026-11-22T10:00:01Z", NOW, ZoneOffset.UTC)).contains(Instant.parse("2026-11-22T10:00:01Z"));
  }

  @Test
  void bsdFormIsThisYearUnlessThatIsInTheFuture() {
    assertThat(SyslogTimes.parse("Nov 22 10:00:01", NOW, ZoneOffset.UTC)).contains(Instant.parse("2026-11-22T10:00:01Z"));
    assertThat(SyslogTimes.parse("Nov  2 10:00:01", NOW, ZoneOffset.UTC)).contains(Instant.parse("2026-11-02T10:00:01Z"));
    Instant january = Instant.parse("2027-01-01T00:10:00Z");
    assertThat(SyslogTimes.parse("Dec 31 23:59:59", january, ZoneOffset.UTC)).contains(Instant.parse("2026-12-31T23:59:59Z"));
  }

  @Test
  void anythingElseIsEmpty() {
    assertThat(SyslogTimes.parse("", NOW, ZoneOffset.UTC)).isEmpty();
    assertThat(SyslogTimes.parse("yesterday", NOW, ZoneOffset.UTC)).isEmpty();
    assertThat(SyslogTimes.parse("2026-13-45T99:00:00Z", NOW, ZoneOffset.UTC)).isEmpty();
  }
}

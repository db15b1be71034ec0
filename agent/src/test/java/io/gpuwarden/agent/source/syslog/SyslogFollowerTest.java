package io.gpuwarden.agent.source.syslog;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyslogFollowerTest {
  private static final SyslogFollower.Options FROM_START = new SyslogFollower.Options(100, true, Duration.ofMillis(5));

  @TempDir
  Path dir;

  @Test
  void splitsBsdAndRfc3339LinesAndTakesTheKernelStampOffTheMessage() {
    SyslogLine bsd = SyslogLine.parse("Nov  2 10:00:01 gpu-17 kernel: [12345.678] NVRM: Xid (PCI:0000:3b:00): 79, pid=1, name=x, gone");
    assertThat(bsd.timestamp()).isEqualTo("Nov  2 10:00:01");
    assertThat(bsd.host()).isEqualTo("gpu-17");
    assertThat(bsd.fromKernel()).isTrue();
    assertThat(bsd.kernelSeconds()).isEqualTo(OptionalDouble.of(12345.678));
    assertThat(bsd.message()).startsWith("NVRM: Xid (PCI:0000:3b:00): 79");
    SyslogLine rfc = SyslogLine.parse("2026-11-22T10:00:01.123456+00:00 gpu-17 kernel: mce: [Hardware Error]: Machine check events logged");
    assertThat(rfc.timestamp()).isEqualTo("2026-11-22T10:00:01.123456+00:00");
    assertThat(rfc.message()).isEqualTo("mce: [Hardware Error]: Machine check events logged");
    SyslogLine daemon = SyslogLine.parse("Nov 22 10:00:01 gpu-17 systemd[1]: Started foo.");
    assertThat(daemon.fromKernel()).isFalse();
    assertThat(daemon.tag()).isEqualTo("systemd");
    assertThat(SyslogLine.parse("not syslog at all").message()).isEqualTo("not syslog at all");
  }

  @Test
  void followsAcrossRotationByRenameFinishingTheOldFileFirst() throws Exception {
    Path log = Files.writeString(dir.resolve("kern.log"), "Nov 22 10:00:01 h kernel: one\n", UTF_8);
    SyslogFollower f = new SyslogFollower(log, FROM_START);
    f.poll();
    Files.writeString(log, "Nov 22 10:00:02 h kernel: two\n", UTF_8, StandardOpenOption.APPEND);
    Files.move(log, dir.resolve("kern.log.1"));
    f.poll();
    Files.writeString(log, "Nov 22 10:00:03 h kernel: three\n", UTF_8);
    f.poll();
    assertThat(f.drain(10)).extracting(SyslogLine::message).containsExactly("one", "two", "three");
    assertThat(f.stats().rotations()).isEqualTo(1);
    f.stop();
  }

  @Test
  void startsAgainFromTheTopWhenTheFileIsTruncated() throws Exception {
    Path log = Files.writeString(dir.resolve("kern.log"), "Nov 22 10:00:01 h kernel: one long line\n", UTF_8);
    SyslogFollower f = new SyslogFollower(log, FROM_START);
    f.poll();
    Files.writeString(log, "Nov 22 10:00:09 h kernel: new\n", UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
    f.poll();
    assertThat(f.drain(10)).extracting(SyslogLine::message).containsExactly("one long line", "new");
    assertThat(f.stats().truncations()).isEqualTo(1);
  }

  @Test
  void startsAtTheEndByDefaultAndKeepsAHalfWrittenLineUntilItsNewline() throws Exception {
    Path log = Files.writeString(dir.resolve("kern.log"), "Nov 22 10:00:01 h kernel: old\n", UTF_8);
    SyslogFollower f = new SyslogFollower(log, new SyslogFollower.Options(10, false, Duration.ofMillis(5)));
    f.poll();
    Files.writeString(log, "Nov 22 10:00:02 h kernel: ha", UTF_8, StandardOpenOption.APPEND);
    f.poll();
    assertThat(f.drain(10)).isEmpty();
    Files.writeString(log, "lf\n", UTF_8, StandardOpenOption.APPEND);
    f.poll();
    assertThat(f.drain(10)).extracting(SyslogLine::message).containsExactly("half");
  }

  @Test
  void dropsTheOldestLinesWhenFullAndCountsThem() throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 250; i++) {
      sb.append("Nov 22 10:00:01 h kernel: line ").append(i).append('\n');
    }
    SyslogFollower f = new SyslogFollower(Files.writeString(dir.resolve("kern.log"), sb, UTF_8), FROM_START);
    f.poll();
    assertThat(f.stats().lines()).isEqualTo(250);
    assertThat(f.stats().dropped()).isEqualTo(150);
    assertThat(f.drain(1000)).hasSize(100).last().extracting(SyslogLine::message).isEqualTo("line 249");
  }

  @Test
  void aMissingFileIsWaitedForNotThrown() throws Exception {
    Path log = dir.resolve("later.log");
    SyslogFollower f = new SyslogFollower(log, FROM_START);
    f.poll();
    Files.writeString(log, "Nov 22 10:00:01 h kernel: here\n", UTF_8);
    f.poll();
    assertThat(f.drain(10)).extracting(SyslogLine::message).containsExactly("here");
  }
}

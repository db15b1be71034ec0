package io.gpuwarden.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.LogLine;
import org.junit.jupiter.api.Test;

class LogForwarderTest {
  private static LogLine line(int priority) {
    return LogLine.newBuilder().setPriority(priority).setText("x").build();
  }

  @Test
  void linesBelowTheSeverityAreNeitherForwardedNorCountedAsDropped() {
    LogForwarder f = new LogForwarder(4, 10, 10);
    assertThat(f.offer(line(6), 0)).isFalse();
    assertThat(f.offer(line(7), 0)).isFalse();
    assertThat(f.offer(line(4), 0)).isTrue();
    assertThat(f.offer(line(0), 0)).isTrue();
    LogForwarder.Drained d = f.drain();
    assertThat(d.lines()).hasSize(2);
    assertThat(d.dropped()).isZero();
  }

  @Test
  void burstThenSustainedRateThenCountedDrops() {
    LogForwarder f = new LogForwarder(7, 2, 3);
    int sent = 0;
    for (int i = 0; i < 10; i++) {
      sent += f.offer(line(3), 0) ? 1 : 0;
    }
    assertThat(sent).isEqualTo(3);
    // one second later two more tokens
    for (int i = 0; i < 10; i++) {
      sent += f.offer(line(3), 1_000_000_000L) ? 1 : 0;
    }
    assertThat(sent).isEqualTo(5);
    LogForwarder.Drained d = f.drain();
    assertThat(d.lines()).hasSize(5);
    assertThat(d.dropped()).isEqualTo(15);
    assertThat(f.drain().dropped()).isZero(); // per drain
    assertThat(f.droppedTotal()).isEqualTo(15);
    assertThat(f.forwardedTotal()).isEqualTo(5);
  }

  @Test
  void tokensNeverExceedTheBurstAfterALongQuietSpell() {
    LogForwarder f = new LogForwarder(7, 100, 5);
    f.offer(line(3), 0);
    int sent = 0;
    for (int i = 0; i < 50; i++) {
      sent += f.offer(line(3), 3_600_000_000_000L) ? 1 : 0;
    }
    assertThat(sent).isEqualTo(5);
  }

  @Test
  void noneForwardsNothing() {
    LogForwarder f = new LogForwarder(-1, 100, 100);
    assertThat(f.offer(line(0), 0)).isFalse();
    assertThat(f.drain().dropped()).isZero();
  }

  @Test
  void readerQueueLossesCountAsDropped() {
    LogForwarder f = new LogForwarder(4, 1, 1);
    f.countDropped(42);
    assertThat(f.drain().dropped()).isEqualTo(42);
  }
}

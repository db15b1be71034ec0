package io.gpuwarden.collector.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class DeadlinesTest {
  private static final Instant T = Instant.parse("2026-12-03T10:00:00Z");

  @Test
  void keysComeDueInOrderOnceEachAndTheEarliestDeadlineWins() {
    Deadlines<String> d = new Deadlines<>();
    d.atOrBefore("b", T.plusSeconds(2));
    d.atOrBefore("a", T.plusSeconds(1));
    d.atOrBefore("b", T.plusSeconds(5)); // later than b's: ignored
    d.atOrBefore("c", T.plusSeconds(9));
    d.atOrBefore("c", T.plusSeconds(3)); // earlier: moves c forward
    assertThat(d.size()).isEqualTo(3);
    assertThat(d.due(T)).isEmpty();
    assertThat(d.due(T.plusSeconds(2))).containsExactly("a", "b");
    assertThat(d.due(T.plusSeconds(2))).isEmpty();
    assertThat(d.due(T.plusSeconds(10))).containsExactly("c");
    assertThat(d.size()).isZero();
  }

  @Test
  void aCancelledKeyDoesNotComeDueAndCanBeSetAgain() {
    Deadlines<String> d = new Deadlines<>();
    d.atOrBefore("a", T.plusSeconds(1));
    d.cancel("a");
    assertThat(d.due(T.plusSeconds(5))).isEmpty();
    d.atOrBefore("a", T.plusSeconds(6));
    assertThat(d.of("a")).isEqualTo(T.plusSeconds(6));
    assertThat(d.due(T.plusSeconds(6))).containsExactly("a");
  }
}

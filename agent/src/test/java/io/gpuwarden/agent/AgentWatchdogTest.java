package io.gpuwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The sampling watchdog's limit and how often it looks. */
class AgentWatchdogTest {
  @Test
  void defaultsAllowTwoNvmlDeadlinesAndLookEveryTwoSeconds() {
    AgentConfig c = AgentConfig.builder().nodeId("n1").build();
    assertThat(Agent.stallLimit(c)).isEqualTo(Duration.ofSeconds(3 + 2 * 2 + 1));
    assertThat(Agent.watchPeriod(c)).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aLongIntervalIsWatchedAtAQuarterOfItsLimitAndAShortOneStillOnlyOnceASecond() {
    AgentConfig slow = AgentConfig.builder().nodeId("n1").sampleInterval(Duration.ofSeconds(60)).build();
    assertThat(Agent.watchPeriod(slow)).isEqualTo(Agent.stallLimit(slow).dividedBy(4));
    AgentConfig fast = AgentConfig.builder().nodeId("n1").sampleInterval(Duration.ofMillis(100))
        .nvmlTimeout(Duration.ofMillis(100)).build();
    assertThat(Agent.stallLimit(fast)).isEqualTo(Duration.ofMillis(1500));
    assertThat(Agent.watchPeriod(fast)).isEqualTo(Duration.ofSeconds(1));
  }
}

package io.gpuwarden.collector;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The start-up warning when the open-file limit cannot hold --max-agents connections. */
class CollectorCommandTest {
  @Test
  void warnsWhenTheFileLimitCannotHoldEveryAgent() {
    assertThat(CollectorCommand.fileLimitWarning(50_000, OptionalLong.of(20_000))).hasValueSatisfying(w -> assertThat(w)
        .contains("--max-agents 50000").contains("at most 20000 files").contains("about 19800 agents can connect")
        .contains("LimitNOFILE="));
  }

  @Test
  void saysNothingWhenTheyFitOrThereIsNoLimit() {
    assertThat(CollectorCommand.fileLimitWarning(19_800, OptionalLong.of(20_000))).isEmpty();
    assertThat(CollectorCommand.fileLimitWarning(50_000, OptionalLong.empty())).isEmpty();
  }
}

package io.gpuwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentConfigTest {
  @Test
  void defaultsFollowTheDocumentation() {
    AgentConfig c = AgentConfig.builder().nodeId("n1").build();
    assertThat(c.sampleInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.detailInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.sendInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.collectorTarget()).isEqualTo("localhost:7700");
    assertThat(c.pool()).isEqualTo("default");
    assertThat(c.nvmlLibrary()).isEmpty();
    assertThat(c.unackedBatchLimit()).isEqualTo(600);
    assertThat(c.spool().directory()).isEqualTo(AgentConfig.DEFAULT_STATE_DIR.resolve("spool"));
    assertThat(c.spool().diskCapBytes()).isEqualTo(256L << 20);
  }

  @Test
  void theSpoolFollowsTheStateDirectoryUnlessGivenItsOwn() {
    java.nio.file.Path state = java.nio.file.Path.of("/data/gw");
    assertThat(AgentConfig.builder().nodeId("n1").stateDir(state).build().spool().directory()).isEqualTo(state.resolve("spool"));
    java.nio.file.Path own = java.nio.file.Path.of("/fast/spool");
    AgentConfig c = AgentConfig.builder().nodeId("n1").stateDir(state).unackedBatchLimit(50)
        .spool(io.gpuwarden.agent.uplink.SpoolConfig.defaults().withDirectory(own)).build();
    assertThat(c.spool().directory()).isEqualTo(own);
    assertThat(c.spool().memoryBatches()).isEqualTo(50);
  }

  @Test
  void nodeIdDefaultsToTheHostName() {
    assertThat(AgentConfig.builder().build().nodeId()).isNotBlank();
  }

  @Test
  void labelsAreCopiedNotShared() {
    java.util.HashMap<String, String> labels = new java.util.HashMap<>(Map.of("tenant", "acme"));
    AgentConfig c = AgentConfig.builder().nodeId("n1").labels(labels).build();
    labels.put("tenant", "other");
    assertThat(c.labels()).containsEntry("tenant", "acme");
  }

  @Test
  void invalidValuesAreRefusedWithTheValueInTheMessage() {
    assertThatThrownBy(() -> AgentConfig.builder().nodeId("n1").sampleInterval(Duration.ofMillis(1)).build())
        .hasMessageContaining("at least 10ms, got 1ms");
    assertThatThrownBy(() -> AgentConfig.builder().nodeId(" ").build()).hasMessageContaining("node id");
    assertThatThrownBy(() -> AgentConfig.builder().nodeId("n1").unackedBatchLimit(0).build())
        .hasMessageContaining("got 0");
    assertThatThrownBy(() -> AgentConfig.builder().nodeId("n1")
        .reconnectBackoff(Duration.ofSeconds(5), Duration.ofSeconds(1)).build())
        .hasMessageContaining("initial <= max");
    assertThatThrownBy(() -> AgentConfig.builder().nodeId("n1").detailInterval(Duration.ofSeconds(-1)).build())
        .hasMessageContaining("detail interval must not be negative, got PT-1S");
    assertThatThrownBy(() -> AgentConfig.builder().nodeId("n1").sendInterval(Duration.ofSeconds(-1)).build())
        .hasMessageContaining("send interval must be between 0 and 1m, got PT-1S");
    assertThatThrownBy(() -> AgentConfig.builder().nodeId("n1").sendInterval(Duration.ofMinutes(2)).build())
        .hasMessageContaining("got PT2M");
  }
}

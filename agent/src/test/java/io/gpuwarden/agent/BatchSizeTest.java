package io.gpuwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.source.infiniband.InfinibandSysfs;
import io.gpuwarden.agent.source.infiniband.SysfsFixtures;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.LogLine;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchSizeTest {
  private static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");

  @TempDir
  Path tmp;

  @Test
  void anOversizedBatchLosesItsLogLinesCountedAndKeepsTheRest() {
    String big = "x".repeat(64 * 1024);
    TelemetryBatch.Builder b = TelemetryBatch.newBuilder().setDroppedLogLines(3)
        .addInfinibandSamples(InfinibandPortSample.newBuilder().setHca("mlx5_0").setPort(1));
    for (int i = 0; i < 200; i++) {
      b.addLogLines(LogLine.newBuilder().setText(big));
    }
    TelemetryBatch fitted = Agent.fitted(b.build());
    assertThat(fitted.getLogLinesCount()).isZero();
    assertThat(fitted.getDroppedLogLines()).isEqualTo(203);
    assertThat(fitted.getInfinibandSamplesCount()).isEqualTo(1);
    TelemetryBatch small = TelemetryBatch.newBuilder().addLogLines(LogLine.newBuilder().setText("ok")).build();
    assertThat(Agent.fitted(small)).isSameAs(small);
  }

  @Test
  void portSamplesWithCarriedCountersGoWithoutThemAndFreshOnesWhole() throws Exception {
    // What the agent puts in a batch is the InfiniBand source's samples as they are.
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    SysfsFixtures.writeCounter(root, "mlx5_0", "symbol_error", 65535);
    Files.writeString(SysfsFixtures.port(root, "mlx5_0").resolve("counters/port_rcv_errors"), "N/A (no PMA)\n");
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    InfinibandPortSample fresh = sysfs.sample(T0, true).get(0);
    InfinibandPortSample carried = sysfs.sample(T0.plusSeconds(1), false).get(0);

    assertThat(fresh.getCountersMap()).containsEntry("symbol_error", 65535L);
    assertThat(fresh.getSaturatedCountersList()).contains("symbol_error");
    assertThat(fresh.getReadErrorsList()).isNotEmpty();
    assertThat(fresh.getCountersCarried()).isFalse();
    assertThat(carried.getCountersMap()).isEmpty();
    assertThat(carried.getSaturatedCountersList()).isEmpty();
    assertThat(carried.getReadErrorsList()).isEmpty();
    assertThat(carried.getStateName()).isEqualTo("ACTIVE");
    assertThat(carried.getCountersCarried()).isTrue();
    assertThat(carried.getSerializedSize()).isLessThan(fresh.getSerializedSize());
  }
}

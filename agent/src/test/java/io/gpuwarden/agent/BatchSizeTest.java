package io.gpuwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.LogLine;
import io.gpuwarden.proto.v1.TelemetryBatch;
import org.junit.jupiter.api.Test;

class BatchSizeTest {
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
  void portSamplesWithCarriedCountersGoWithoutThemAndFreshOnesWhole() {
    InfinibandPortSample fresh = InfinibandPortSample.newBuilder().setHca("mlx5_0").setPort(1).setStateName("ACTIVE")
        .putCounters("symbol_error", 3).addSaturatedCounters("port_rcv_errors").addReadErrors("counters/x: N/A").build();
    InfinibandPortSample carried = fresh.toBuilder().setHca("mlx5_1").setCountersCarried(true).build();

    var wire = Agent.onTheWire(java.util.List.of(fresh, carried));

    assertThat(wire.get(0)).isSameAs(fresh);
    assertThat(wire.get(1).getCountersMap()).isEmpty();
    assertThat(wire.get(1).getSaturatedCountersList()).isEmpty();
    assertThat(wire.get(1).getReadErrorsList()).isEmpty();
    assertThat(wire.get(1).getStateName()).isEqualTo("ACTIVE");
    assertThat(wire.get(1).getCountersCarried()).isTrue();
    assertThat(wire.get(1).getSerializedSize()).isLessThan(fresh.getSerializedSize());
  }
}

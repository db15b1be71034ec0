package io.gpuwarden.collector.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Port samples whose counters the agent did not read that cycle arrive without them
 * ({@code counters_carried}): the registry keeps the port's last counters, and takes new ones when a
 * sample reads them again.
 */
class CarriedCountersTest {
  private final Clock clock = Clock.fixed(Instant.parse("2026-11-30T10:00:00Z"), ZoneOffset.UTC);

  private static InfinibandPortSample port(String state, long symbolErrors) {
    return InfinibandPortSample.newBuilder().setHca("mlx5_0").setPort(1).setStateName(state)
        .putCounters("symbol_error", symbolErrors).addSaturatedCounters("port_rcv_errors")
        .addReadErrors("counters/excessive_buffer_overrun_errors: N/A (no PMA)").build();
  }

  private static InfinibandPortSample carried(String state) {
    return InfinibandPortSample.newBuilder().setHca("mlx5_0").setPort(1).setStateName(state).setCountersCarried(true)
        .build();
  }

  private static InfinibandPortSample stored(NodeRegistry r) {
    Node n = r.get("n1", true).orElseThrow();
    return n.getInfinibandSamplesList().get(0);
  }

  @Test
  void aCarriedSampleKeepsTheLastCountersAndTakesItsOwnState() {
    NodeRegistry r = new NodeRegistry(clock, new StalenessVerdict(Duration.ofSeconds(10), List.of()));
    var s = r.hello(AgentHello.newBuilder().setNodeId("n1").setPool("p").setBootId("b").setStreamId("s").build());
    r.apply(s, TelemetryBatch.newBuilder().setSequence(1).addInfinibandSamples(port("ACTIVE", 7)).build());

    r.apply(s, TelemetryBatch.newBuilder().setSequence(2).addInfinibandSamples(carried("DOWN")).build());
    InfinibandPortSample kept = stored(r);
    assertThat(kept.getStateName()).isEqualTo("DOWN");
    assertThat(kept.getCountersMap()).containsEntry("symbol_error", 7L);
    assertThat(kept.getSaturatedCountersList()).containsExactly("port_rcv_errors");
    assertThat(kept.getReadErrorsList()).singleElement().satisfies(e -> assertThat(e).contains("no PMA"));

    r.apply(s, TelemetryBatch.newBuilder().setSequence(3).addInfinibandSamples(carried("ACTIVE")).build());
    assertThat(stored(r).getCountersMap()).as("still the last read, two samples on").containsEntry("symbol_error", 7L);
    assertThat(stored(r).getSaturatedCountersList()).as("not doubled").containsExactly("port_rcv_errors");

    r.apply(s, TelemetryBatch.newBuilder().setSequence(4).addInfinibandSamples(port("ACTIVE", 9)).build());
    assertThat(stored(r).getCountersMap()).containsEntry("symbol_error", 9L);
  }

  @Test
  void aCarriedSampleWithNothingBeforeItStaysWithoutCounters() {
    NodeRegistry r = new NodeRegistry(clock, new StalenessVerdict(Duration.ofSeconds(10), List.of()));
    var s = r.hello(AgentHello.newBuilder().setNodeId("n1").setPool("p").setBootId("b").setStreamId("s").build());
    r.apply(s, TelemetryBatch.newBuilder().setSequence(1).addInfinibandSamples(carried("ACTIVE")).build());
    assertThat(stored(r).getCountersMap()).isEmpty();
    assertThat(stored(r).getStateName()).isEqualTo("ACTIVE");
  }
}

package io.gpuwarden.collector.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.collector.verdict.PoolExpectation;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Inventory;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The collector-side rules inside the registry: a batch that changes the verdict reaches listeners during its apply. */
class CollectorRulesInRegistryTest {
  private final Clock clock = Clock.fixed(Instant.parse("2026-11-30T10:00:00Z"), ZoneOffset.UTC);

  private static Inventory gpus(int n) {
    Inventory.Builder b = Inventory.newBuilder();
    for (int i = 0; i < n; i++) {
      b.addGpus(GpuInfo.newBuilder().setIndex(i).setUuid("GPU-" + i));
    }
    return b.build();
  }

  @Test
  void aNodeWithFewerGpusThanItsPoolExpectsIsUnhealthyAtItsFirstBatch() {
    NodeRegistry r = new NodeRegistry(clock, new StalenessVerdict(Duration.ofSeconds(10),
        List.of(PoolExpectation.parse("h100:gpus=8"))));
    List<Node> changes = new CopyOnWriteArrayList<>();
    r.feed().subscribe(change -> {
      if (change instanceof io.gpuwarden.collector.feed.Change.VerdictChanged v) {
        changes.add(v.node());
      }
    });
    var s = r.hello(AgentHello.newBuilder().setNodeId("n1").setPool("h100").setBootId("b").setStreamId("s")
        .setInventory(gpus(7)).build());
    r.apply(s, TelemetryBatch.newBuilder().setSequence(1)
        .addCheckResults(CheckResult.newBuilder().setCheck("c").setState(HealthState.HEALTH_STATE_HEALTHY)).build());
    Node last = changes.get(changes.size() - 1);
    assertThat(last.getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(last.getVerdict().getReasonsList()).anySatisfy(x -> assertThat(x.getMessage()).contains("7 of 8 expected GPUs"));

    var other = r.hello(AgentHello.newBuilder().setNodeId("n2").setPool("a100").setBootId("b").setStreamId("s2")
        .setInventory(gpus(7)).build());
    r.apply(other, TelemetryBatch.newBuilder().setSequence(1).build());
    assertThat(r.get("n2", false).orElseThrow().getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void aGpuWhoseClockLagsItsPeersUnderLoadMakesItsNodeDegraded() {
    io.gpuwarden.collector.MutableClock moving = new io.gpuwarden.collector.MutableClock(clock.instant());
    NodeRegistry r = new NodeRegistry(moving, new StalenessVerdict(Duration.ofSeconds(10), List.of()));
    List<NodeRegistry.Session> sessions = new java.util.ArrayList<>();
    for (int n = 1; n <= 2; n++) {
      sessions.add(r.hello(AgentHello.newBuilder().setNodeId("n" + n).setPool("p").setBootId("b").setStreamId("s" + n)
          .setInventory(gpus(8)).build()));
    }
    // Five batches 10 s apart: a GPU is judged, and counts as a peer, once its averages stand for 30 s of load.
    for (int seq = 1; seq <= 5; seq++) {
      if (seq > 1) {
        moving.advance(Duration.ofSeconds(10));
      }
      for (int n = 1; n <= 2; n++) {
        TelemetryBatch.Builder b = TelemetryBatch.newBuilder().setSequence(seq);
        for (int g = 0; g < 8; g++) {
          boolean slow = n == 2 && g == 5;
          b.addGpuSamples(GpuSample.newBuilder().setGpuUuid("GPU-" + n + "-" + g).setIndex(g).setUtilizationGpuPercent(97)
              .setSmClockMhz(slow ? 1100 : 1980 + g).setTemperatureCelsius(60 + g % 3).setPowerMilliwatts(690_000 + g * 1000));
        }
        r.apply(sessions.get(n - 1), b.build());
      }
    }
    // n1 was judged before n2's last batch; n2's last batch is judged against all 16
    Node n2 = r.get("n2", false).orElseThrow();
    assertThat(n2.getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(n2.getVerdict().getReasonsList()).singleElement().satisfies(x -> {
      assertThat(x.getCheck()).isEqualTo("straggler");
      assertThat(x.getComponent().getGpuUuid()).isEqualTo("GPU-2-5");
      assertThat(x.getMessage()).contains("SM clock 1100 MHz");
    });
    assertThat(r.get("n1", false).orElseThrow().getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }
}

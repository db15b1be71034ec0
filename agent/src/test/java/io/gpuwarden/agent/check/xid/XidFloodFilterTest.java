package io.gpuwarden.agent.check.xid;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.XidEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class XidFloodFilterTest {
  private final XidEvents events = new XidEvents(XidPolicy.defaults());
  private final GpuInfo gpu = GpuInfo.newBuilder().setUuid("GPU-a").setPciBusId("00000000:18:00.0").build();

  private Event xid(int n, Instant t) {
    return events.event(n, HostSnapshot.gpu(gpu), XidEvent.getDefaultInstance(), t);
  }

  @Test
  void aFloodForwardsOnePerWindowAndCountsTheRest() {
    XidFloodFilter f = new XidFloodFilter(Duration.ofMinutes(1));
    Instant t0 = Instant.parse("2026-11-22T10:00:00Z");
    List<Event> flood = new ArrayList<>(Collections.nCopies(10_000, xid(45, t0)));
    flood.add(xid(79, t0));
    List<Event> out = f.filter(flood, t0);
    assertThat(out).extracting(e -> e.getXid().getXid()).containsExactly(45, 79);

    assertThat(f.filter(List.of(xid(45, t0)), t0.plusSeconds(30))).isEmpty();
    List<Event> later = f.filter(List.of(xid(45, t0)), t0.plusSeconds(61));
    assertThat(later).singleElement().satisfies(e -> assertThat(e.getMessage()).contains("10000 repeats suppressed"));
  }
}

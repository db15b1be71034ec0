package io.gpuwarden.cli.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.gpuwarden.proto.v1.XidEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The patched bytes decode to exactly the template with the node's UUIDs, moved times and the sequence. */
class PatchableBatchTest {
  private static final String GPU0 = "GPU-11111111-2222-3333-4444-555555555555";
  private static final String GPU1 = "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  private static final long T = 1_796_000_000L;

  private static Timestamp at(long seconds, int nanos) {
    return Timestamp.newBuilder().setSeconds(seconds).setNanos(nanos).build();
  }

  private static TelemetryBatch template() {
    return TelemetryBatch.newBuilder()
        .setSequence(99)
        .setSampleTime(at(T, 500_000_000))
        .addGpuSamples(GpuSample.newBuilder().setGpuUuid(GPU0).setTime(at(T - 1, 1)))
        .addGpuSamples(GpuSample.newBuilder().setGpuUuid(GPU1).setTime(at(T, 0)))
        .addCheckResults(CheckResult.newBuilder().setCheck("xid").setState(HealthState.HEALTH_STATE_UNHEALTHY)
            .setTime(at(T - 3, 7)))
        .addEvents(Event.newBuilder().setId("e1").setTime(at(T - 2, 0)).setMessage("Xid 79 on " + GPU1)
            .setXid(XidEvent.newBuilder().setXid(79)))
        .build();
  }

  @Test
  void aPatchedRequestIsTheTemplateAsTheNodeSendsIt() throws Exception {
    PatchableBatch p = PatchableBatch.of(template(), List.of(GPU0, GPU1));
    byte[] bytes = p.request(0x1234, T + 1000, 300);
    IngestRequest r = IngestRequest.parseFrom(bytes);
    assertThat(r.getMessageCase()).isEqualTo(IngestRequest.MessageCase.BATCH);
    String node0 = PatchableBatch.uuidOf(GPU0, 0x1234, 0);
    String node1 = PatchableBatch.uuidOf(GPU1, 0x1234, 1);
    assertThat(node0).isEqualTo("GPU-11111111-2222-3333-4444-000012340000");
    assertThat(node1).isEqualTo("GPU-aaaaaaaa-bbbb-cccc-dddd-000012340001");
    TelemetryBatch expected = TelemetryBatch.newBuilder()
        .setSequence(300)
        .setSampleTime(at(T + 1000, 500_000_000))
        .addGpuSamples(GpuSample.newBuilder().setGpuUuid(node0).setTime(at(T + 999, 1)))
        .addGpuSamples(GpuSample.newBuilder().setGpuUuid(node1).setTime(at(T + 1000, 0)))
        .addCheckResults(CheckResult.newBuilder().setCheck("xid").setState(HealthState.HEALTH_STATE_UNHEALTHY)
            .setTime(at(T + 997, 7)))
        .addEvents(Event.newBuilder().setId("e1").setTime(at(T + 998, 0)).setMessage("Xid 79 on " + node1)
            .setXid(XidEvent.newBuilder().setXid(79)))
        .build();
    assertThat(r.getBatch()).isEqualTo(expected);
    assertThat(p.size()).isEqualTo(template().toBuilder().clearSequence().build().getSerializedSize());
    // large sequences take more varint bytes and still decode
    assertThat(IngestRequest.parseFrom(p.request(7, T, 1L << 40)).getBatch().getSequence()).isEqualTo(1L << 40);
  }

  @Test
  void aTemplateWithATimeOutsideTheFiveByteRangeIsRefused() {
    TelemetryBatch old = TelemetryBatch.newBuilder().setSampleTime(at(1000, 0)).build();
    assertThatThrownBy(() -> PatchableBatch.of(old, List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1000 s since the epoch");
  }
}

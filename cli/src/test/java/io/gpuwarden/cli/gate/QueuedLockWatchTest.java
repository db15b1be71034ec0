package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueuedLockWatchTest {
  private static GateStatus status(String node, GateState state) {
    return GateStatus.newBuilder().setNodeId(node).setState(state).build();
  }

  @Test
  void waitsUntilEveryQueuedNodeIsSeenLocked() {
    QueuedLockWatch watch = new QueuedLockWatch(List.of("gpu-2", "gpu-1"));

    assertThat(watch.granted(status("gpu-1", GateState.GATE_STATE_SERVING))).isFalse();
    assertThat(watch.granted(status("gpu-9", GateState.GATE_STATE_LOCKED))).isFalse();
    assertThat(watch.granted(status("gpu-1", GateState.GATE_STATE_LOCKED))).isTrue();
    assertThat(watch.done()).isFalse();
    assertThat(watch.granted(status("gpu-1", GateState.GATE_STATE_LOCKED))).isFalse();
    assertThat(watch.granted(status("gpu-2", GateState.GATE_STATE_LOCKED))).isTrue();
    assertThat(watch.done()).isTrue();
  }

  @Test
  void namesTheNodesStillQueuedSorted() {
    QueuedLockWatch watch = new QueuedLockWatch(List.of("gpu-3", "gpu-1", "gpu-2"));
    watch.granted(status("gpu-2", GateState.GATE_STATE_LOCKED));

    assertThat(watch.waiting()).containsExactly("gpu-1", "gpu-3");
    assertThat(watch.stillQueued()).startsWith("still queued: gpu-1, gpu-3 (");
  }
}

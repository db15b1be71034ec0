package io.gpuwarden.collector.feed;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.util.List;

/** One change published on the {@link ChangeFeed}. */
public sealed interface Change {
  /** The node the change is about. */
  String nodeId();

  /**
   * A telemetry batch of a node was applied (once; replays of applied batches are not published).
   *
   * @param streamId the agent stream it came on
   * @param sequence its sequence number on that stream
   * @param pool the node's pool
   * @param batch the batch as applied
   * @param notable its events of severity WARNING or above (what the history keeps)
   */
  record BatchApplied(String nodeId, String streamId, long sequence, String pool, TelemetryBatch batch,
      List<Event> notable) implements Change {
    /** Validates and copies. */
    public BatchApplied {
      requireNonNull(nodeId, "nodeId");
      requireNonNull(streamId, "streamId");
      requireNonNull(pool, "pool");
      requireNonNull(batch, "batch");
      notable = List.copyOf(notable);
    }
  }

  /**
   * A node's verdict changed.
   *
   * @param node the node without samples, with its new verdict
   * @param previous the state before (UNSPECIFIED for a node's first verdict)
   */
  record VerdictChanged(Node node, HealthState previous) implements Change {
    /** Validates. */
    public VerdictChanged {
      requireNonNull(node, "node");
      requireNonNull(previous, "previous");
    }

    @Override
    public String nodeId() {
      return node.getNodeId();
    }
  }

  /**
   * A node's gate status changed (state, hold or allocatability).
   *
   * @param status the new status, with allocatability
   * @param previouslyAllocatable what allocatability was before
   */
  record GateChanged(GateStatus status, boolean previouslyAllocatable) implements Change {
    /** Validates. */
    public GateChanged {
      requireNonNull(status, "status");
    }

    @Override
    public String nodeId() {
      return status.getNodeId();
    }
  }
}

package io.gpuwarden.collector.fleet;

import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Verdict;
import java.time.Instant;

/**
 * What the release gate needs of a node, without building a {@link io.gpuwarden.proto.v1.Node}
 * message: identity, boot, freshness and verdict. Accessors are named like the message's.
 *
 * @param nodeId the node id
 * @param pool its pool ("" before its hello)
 * @param bootId its boot id ("" before its hello)
 * @param lastSeenAt when the last batch was applied; null when none was
 * @param verdictOrNull the current verdict; null before the first evaluation
 */
public record NodeSummary(String nodeId, String pool, String bootId, Instant lastSeenAt, Verdict verdictOrNull) {
  /** Returns the node id. */
  public String getNodeId() {
    return nodeId;
  }

  /** Returns the pool. */
  public String getPool() {
    return pool;
  }

  /** Returns the boot id. */
  public String getBootId() {
    return bootId;
  }

  /** Returns true when a batch was ever applied. */
  public boolean hasLastSeen() {
    return lastSeenAt != null;
  }

  /** Returns when the last batch was applied. */
  public com.google.protobuf.Timestamp getLastSeen() {
    return ProtoTime.of(lastSeenAt);
  }

  /** Returns true when the node has a verdict. */
  public boolean hasVerdict() {
    return verdictOrNull != null;
  }

  /** Returns the verdict (the default instance when none). */
  public Verdict getVerdict() {
    return verdictOrNull != null ? verdictOrNull : Verdict.getDefaultInstance();
  }
}

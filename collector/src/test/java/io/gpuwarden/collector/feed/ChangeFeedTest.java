package io.gpuwarden.collector.feed;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Node;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangeFeedTest {
  private static Change verdict(String node) {
    return new Change.VerdictChanged(Node.newBuilder().setNodeId(node).build(), HealthState.HEALTH_STATE_UNSPECIFIED);
  }

  @Test
  void everySubscriberHearsEveryChangeInOrderUntilItCloses() {
    ChangeFeed feed = new ChangeFeed();
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    ChangeFeed.Subscription sa = feed.subscribe(c -> a.add(c.nodeId()));
    feed.subscribe(c -> b.add(c.nodeId()));
    feed.publish(verdict("n1"));
    feed.publish(new Change.GateChanged(GateStatus.newBuilder().setNodeId("n2").build(), false));
    sa.close();
    sa.close();
    feed.publish(verdict("n3"));
    assertThat(a).containsExactly("n1", "n2");
    assertThat(b).containsExactly("n1", "n2", "n3");
    assertThat(feed.subscribers()).isEqualTo(1);
  }

  @Test
  void aFailingSubscriberIsCountedAndTheOthersStillHear() {
    ChangeFeed feed = new ChangeFeed();
    List<String> heard = new ArrayList<>();
    feed.subscribe(c -> {
      throw new IllegalStateException("broken outlet");
    });
    feed.subscribe(c -> heard.add(c.nodeId()));
    feed.publish(verdict("n1"));
    feed.publish(verdict("n2"));
    assertThat(heard).containsExactly("n1", "n2");
    assertThat(feed.subscriberFailures()).isEqualTo(2);
  }
}

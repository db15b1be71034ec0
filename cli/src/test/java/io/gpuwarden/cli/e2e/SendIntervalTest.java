package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Node;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The send interval, end to end: batches sampled between sends reach the collector together; an
 * event goes at once; the interval never exceeds half the collector's stale-after; closing sends
 * what waits; an event behind a backlog is previewed and judged without waiting for it.
 */
class SendIntervalTest {
  @TempDir
  Path tmp;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private CollectorServer collector(Duration staleAfter) throws Exception {
    CollectorServer c = E2eAgents.startCollector(0, staleAfter);
    toClose.add(c);
    return c;
  }

  private Agent agent(String nodeId, CollectorServer c, Duration sendInterval) {
    Agent a = Agent.start(E2eAgents.config(tmp, nodeId, "e2e", "127.0.0.1:" + c.port()).sendInterval(sendInterval).build());
    toClose.add(a);
    return a;
  }

  private static Node node(CollectorServer c, String id) {
    return c.registry().get(id, true).orElse(Node.getDefaultInstance());
  }

  /** Watches the acknowledged sequence for {@code watch}: the distinct values seen and the most batches waiting at once. */
  private static long[] watchAcks(Agent a, Duration watch) throws InterruptedException {
    TreeSet<Long> acked = new TreeSet<>();
    long mostWaiting = 0;
    long end = System.nanoTime() + watch.toNanos();
    while (System.nanoTime() < end) {
      long ack = a.uplink().acknowledgedSequence();
      acked.add(ack);
      mostWaiting = Math.max(mostWaiting, a.uplink().lastSequence() - ack);
      Thread.sleep(10);
    }
    return new long[] {acked.size(), mostWaiting};
  }

  @Test
  void batchesSampledBetweenSendsReachTheCollectorTogether() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(Duration.ofSeconds(30));
    Agent a = agent("send-grouped", c, Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "send-grouped").getGpuSamplesCount() == 8);
    long first = a.uplink().lastSequence();
    long[] seen = watchAcks(a, Duration.ofMillis(3500));
    long sampled = a.uplink().lastSequence() - first;
    // About 35 batches at 100 ms go in 3 or 4 sends of about 10, not one by one (the collector may
    // acknowledge one send in two steps, as its store makes them durable).
    assertThat(sampled).isGreaterThanOrEqualTo(20);
    assertThat(seen[0]).isBetween(2L, 10L);
    assertThat(seen[1]).isGreaterThanOrEqualTo(7);
    assertThat(a.uplink().collectorStaleAfter()).contains(Duration.ofSeconds(30));
  }

  @Test
  void withoutASendIntervalEveryBatchGoesAtOnce() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(Duration.ofSeconds(30));
    Agent a = agent("send-each", c, Duration.ZERO);
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "send-each").getGpuSamplesCount() == 8);
    long[] seen = watchAcks(a, Duration.ofMillis(2000));
    assertThat(seen[0]).isGreaterThanOrEqualTo(10);
    assertThat(seen[1]).isLessThanOrEqualTo(4);
  }

  @Test
  void anXidGoesAtOnceWithoutWaitingForTheSendInterval() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(Duration.ofMinutes(5));
    agent("send-xid", c, Duration.ofSeconds(60));
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "send-xid").getVerdict().getState() == HealthState.HEALTH_STATE_HEALTHY
        && node(c, "send-xid").getGpuSamplesCount() == 8);
    FakeNvmlState healthy = FakeNvml.healthyH100();
    FakeNvml.write(healthy.toBuilder().xid(healthy.nextEventId(), 2, 79).build());
    // 60 s between sends, yet the Xid (an event, and the xid check turning UNHEALTHY) arrives within 2 s.
    await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
        .until(() -> node(c, "send-xid").getVerdict().getState() == HealthState.HEALTH_STATE_UNHEALTHY);
  }

  @Test
  void anXidBehindABacklogIsPreviewedAndJudgedBeforeTheBacklogMoves() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(Duration.ofMinutes(5));
    // The collector falls behind on this node: once told to, it holds the node's next batch as long as the test wants.
    AtomicBoolean stall = new AtomicBoolean();
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong heldBatch = new AtomicLong();
    c.feed().subscribe(change -> {
      if (change instanceof Change.BatchApplied b && b.nodeId().equals("behind") && stall.get()
          && heldBatch.compareAndSet(0, b.sequence())) {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    toClose.add(release::countDown); // never leave the collector's worker waiting
    Agent a = agent("behind", c, Duration.ZERO);
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "behind").getVerdict().getState() == HealthState.HEALTH_STATE_HEALTHY
        && node(c, "behind").getGpuSamplesCount() == 8);
    stall.set(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> heldBatch.get() != 0
        && a.uplink().lastSequence() - a.uplink().acknowledgedSequence() >= 5);

    FakeNvmlState healthy = FakeNvml.healthyH100();
    FakeNvml.write(healthy.toBuilder().xid(healthy.nextEventId(), 2, 79).build());
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
        .until(() -> node(c, "behind").getVerdict().getState() == HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(node(c, "behind").getLastSequence()).as("judged from the preview: no batch after the held one applied")
        .isEqualTo(heldBatch.get());
    assertThat(a.uplink().previewsSent()).isPositive();
    assertThat(c.ingest().previewsHeld()).isPositive();

    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.uplink().acknowledgedSequence() > heldBatch.get() + 5);
    assertThat(node(c, "behind").getVerdict().getState()).as("the Xid's own batch, applied in order, keeps it")
        .isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
  }

  @Test
  void theAgentSendsAtLeastEveryHalfOfTheCollectorsStaleAfter() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(Duration.ofSeconds(2));
    Agent a = agent("send-capped", c, Duration.ofSeconds(60));
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "send-capped").getGpuSamplesCount() == 8);
    long[] seen = watchAcks(a, Duration.ofMillis(4500));
    assertThat(seen[0]).isGreaterThanOrEqualTo(3); // a send about every second, not one a minute
    assertThat(node(c, "send-capped").getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void closingTheAgentSendsTheBatchesStillWaiting() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(Duration.ofMinutes(5));
    Agent a = agent("send-close", c, Duration.ofSeconds(60));
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "send-close").getGpuSamplesCount() == 8);
    await().atMost(Duration.ofSeconds(5)).until(() -> a.uplink().lastSequence() - a.uplink().acknowledgedSequence() >= 5);
    a.close();
    assertThat(a.uplink().acknowledgedSequence()).isEqualTo(a.uplink().lastSequence());
  }
}

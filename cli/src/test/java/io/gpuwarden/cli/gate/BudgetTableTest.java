package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.Budget;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetTableTest {
  @Test
  void percentageLimitShowsTheNumberOfNodesTheCollectorComputes() {
    assertThat(BudgetTable.limit(Budget.newBuilder().setNodesTotal(100).setMaxPercentOut(5).setLimitNodes(5).build()))
        .isEqualTo("5% (5 nodes)");
    assertThat(BudgetTable.limit(Budget.newBuilder().setNodesTotal(10).setMaxPercentOut(2.5).setLimitNodes(1).build()))
        .isEqualTo("2.5% (1 node)");
  }

  @Test
  void absoluteLimitIsANodeCount() {
    assertThat(BudgetTable.limit(Budget.newBuilder().setNodesTotal(100).setMaxNodesOut(3).setLimitNodes(3).build()))
        .isEqualTo("3 nodes");
  }

  @Test
  void bothLimitsAreShownAndNeitherIsNone() {
    assertThat(BudgetTable.limit(Budget.newBuilder().setNodesTotal(100).setMaxPercentOut(10).setMaxNodesOut(4).setLimitNodes(4)
        .build())).isEqualTo("10%, max 4 nodes (4 nodes)");
    assertThat(BudgetTable.limit(Budget.newBuilder().setNodesTotal(100).setLimitNodes(100).build())).isEqualTo("none");
  }

  @Test
  void tableHasEveryColumnAndMarksATrippedBreaker() {
    String[] lines = BudgetTable.render(List.of(
        Budget.newBuilder().setPool("a100").setNodesTotal(16).setNodesOut(2).setMaxNodesOut(2).setQueuedLocks(1)
            .setRefusedLocks(7).setCircuitBreakerOpen(true).setLimitNodes(2).build(),
        Budget.newBuilder().setPool("h100-a").setNodesTotal(100).setNodesOut(1).setMaxPercentOut(5).setLimitNodes(5)
            .setNodesAvailableToTake(4).build())).split("\n");

    assertThat(lines).containsExactly(
        "POOL    TOTAL  OUT  LIMIT         AVAILABLE  QUEUED  REFUSED  BREAKER",
        "a100       16    2  2 nodes               0       1        7  TRIPPED",
        "h100-a    100    1  5% (5 nodes)          4       0        0  armed");
  }
}

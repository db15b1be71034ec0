package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.cli.CommandRun;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.FakeCollector;
import io.gpuwarden.cli.TestCollector;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GetGateResponse;
import io.gpuwarden.proto.v1.NoFlyWindow;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gate commands against a real collector: exit codes, refusals with their reasons, pools, audit, times, JSON. */
class GateCommandsAgainstCollectorTest {
  /** An ISO-8601 UTC instant to the second. */
  private static final String ISO = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z";

  @TempDir
  Path dir;

  private TestCollector collector;

  @BeforeEach
  void start() {
    collector = TestCollector.start(dir.resolve("collector"));
  }

  @AfterEach
  void stop() {
    collector.close();
  }

  /** Runs a command against the collector with its own admin.tokens (the token named admin). */
  private CommandRun admin(String... args) {
    return CommandRun.of(concat(args, "--collector", collector.address(), "--admin-token-file",
        collector.adminTokens().toString()));
  }

  private CommandRun read(String... args) {
    return CommandRun.of(concat(args, "--collector", collector.address()));
  }

  private static String[] concat(String[] args, String... more) {
    String[] all = new String[args.length + more.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return all;
  }

  @Test
  void lockWithinBudgetThenARefusedLockExitsFourWithTheNumbersAndAQueuedOneExitsZero() {
    CommandRun locked = admin("lock", "c-1", "--reason", "swap PSU");
    assertThat(locked.code()).as(locked.err()).isZero();
    assertThat(locked.out()).contains("c-1").contains("APPLIED");
    assertThat(collector.gate().status("c-1").orElseThrow().getState()).isEqualTo(GateState.GATE_STATE_LOCKED);

    CommandRun refused = admin("lock", "c-2", "--reason", "swap PSU");
    assertThat(refused.code()).isEqualTo(ExitCodes.REFUSED);
    assertThat(refused.all()).contains("1 of 4 nodes out of service").contains("REFUSED");

    CommandRun queued = admin("lock", "c-3", "--reason", "swap PSU", "--wait");
    assertThat(queued.code()).isZero();
    assertThat(queued.out()).contains("QUEUED");
  }

  @Test
  void unknownNodesAreThreeForEveryVerbThatNamesNodesAndNothingChanges() {
    assertThat(admin("lock", "c-1", "ghost", "--reason", "r").code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(admin("hold", "ghost", "--reason", "r").code()).isEqualTo(ExitCodes.NOT_FOUND);
    CommandRun gate = read("gate", "ghost");
    assertThat(gate.code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(gate.err()).contains("NOT_FOUND").contains("ghost");
    assertThat(gate.out()).doesNotContain("no nodes");
    assertThat(read("gate", "--pool", "clj").code()).isEqualTo(ExitCodes.NOT_FOUND);
  }

  @Test
  void aWrongTokenIsTheAuthCodeNamingWhereTheTokenCameFromAndNothingChanges() throws Exception {
    Path wrong = Files.writeString(dir.resolve("wrong"), "0000000000000000000000000\n");

    CommandRun run = CommandRun.of("hold", "c-1", "--reason", "x", "--collector", collector.address(),
        "--admin-token-file", wrong.toString());

    assertThat(run.code()).isEqualTo(ExitCodes.AUTH);
    assertThat(run.err()).isEqualTo("gpuwarden hold: UNAUTHENTICATED: unknown admin token (the token from admin token file "
        + wrong + " (--admin-token-file))\n");
    assertThat(collector.gate().status("c-1").orElseThrow().getHeld()).isFalse();
  }

  @Test
  void theCollectorsOwnAdminTokensFileWorksAndAdminNamePicksWhoActs() {
    assertThat(admin("hold", "c-1", "--reason", "RMA 42").code()).isZero();
    CommandRun asAlice = admin("unhold", "c-1", "--reason", "parts arrived", "--admin-name", "alice");
    assertThat(asAlice.code()).as(asAlice.err()).isZero();

    CommandRun history = read("history", "c-1");
    assertThat(history.code()).isZero();
    assertThat(history.out()).containsPattern(ISO + "  transition  hold: RMA 42 \\(by admin\\)")
        .containsPattern(ISO + "  transition  hold lifted: parts arrived \\(by alice\\)")
        .doesNotContain("SERVING -> SERVING");

    CommandRun nobody = admin("hold", "c-1", "--reason", "r", "--admin-name", "bob");
    assertThat(nobody.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(nobody.err()).contains("has no token named bob; names in it: admin, alice");
  }

  @Test
  void historyShowsWhoDidWhatWithIsoTimesAndGateJsonParses() throws Exception {
    admin("lock", "c-4", "--reason", "reseat NIC");
    admin("complete", "c-4");
    CommandRun history = read("history", "c-4");
    assertThat(history.code()).isZero();
    assertThat(history.out()).containsPattern(ISO + "  transition  SERVING -> LOCKED by admin: reseat NIC \\(lock\\)")
        .contains("LOCKED -> VERIFYING by admin");

    CommandRun gate = read("gate");
    assertThat(gate.code()).isZero();
    assertThat(gate.out()).containsPattern("c-4 .*VERIFYING .*" + ISO + " \\(\\d");

    CommandRun json = read("gate", "--json");
    assertThat(json.code()).isZero();
    GetGateResponse.Builder parsed = GetGateResponse.newBuilder();
    JsonFormat.parser().merge(json.out(), parsed);
    assertThat(parsed.getStatusesList()).extracting(s -> s.getNodeId()).containsExactly("c-1", "c-2", "c-3", "c-4");
    assertThat(json.out()).containsPattern("\"since\": \"" + ISO.replace("Z", "") + "(\\.\\d+)?Z\"");

    CommandRun since = read("history", "c-4", "--since", "2030-01-01T00:00:00Z");
    assertThat(since.out()).isEqualTo("no history for c-4 since 2030-01-01T00:00:00Z\n");
  }

  @Test
  void aNoFlyRefusalGivesTheWindowsEndInIso8601() {
    CommandRun added = admin("nfz", "add", "--pool", TestCollector.POOL, "--start", "+0s", "--end", "+1h",
        "--reason", "acme training");
    assertThat(added.code()).as(added.err()).isZero();
    assertThat(added.out()).containsPattern(TestCollector.POOL + " +" + ISO + " +" + ISO + " +acme training");

    CommandRun refused = admin("lock", "c-2", "--reason", "x");
    assertThat(refused.code()).isEqualTo(ExitCodes.REFUSED);
    assertThat(refused.out()).containsPattern("no-fly window nfz-\\w+ \\(acme training\\) until " + ISO);

    CommandRun list = read("nfz", "list");
    assertThat(list.code()).isZero();
    assertThat(list.out()).contains("acme training").containsPattern("START +END").containsPattern(ISO + " +" + ISO);
  }

  @Test
  void aNoFlyWindowForAPoolNoNodeReportedIsRefusedUnlessItIsSaidToBeNew() {
    CommandRun typo = admin("nfz", "add", "--pool", "clj", "--start", "+0s", "--end", "+1h", "--reason", "freeze");
    assertThat(typo.code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(typo.err()).contains("no node has reported pool 'clj'").contains("known pools: cli");
    assertThat(collector.gate().windows("", true)).isEmpty();

    CommandRun intended = admin("nfz", "add", "--pool", "h200-new", "--new-pool", "--start", "+0s", "--end", "+1h",
        "--reason", "freeze");
    assertThat(intended.code()).as(intended.err()).isZero();
    assertThat(collector.gate().windows("", true)).extracting(NoFlyWindow::getPool).containsExactly("h200-new");

    CommandRun all = admin("nfz", "add", "--all-pools", "--start", "+0s", "--end", "+1h", "--reason", "change freeze");
    assertThat(all.code()).as(all.err()).isZero();
    assertThat(all.out()).contains("(all pools)");
    assertThat(collector.gate().windows("", true)).extracting(NoFlyWindow::getPool).contains("");
  }

  @Test
  void aBudgetForAPoolNoNodeReportedIsRefusedUnlessItIsSaidToBeNew() {
    CommandRun typo = admin("budget", "set", "--pool", "clj", "--max-nodes", "2", "--reason", "r");
    assertThat(typo.code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(collector.gate().budgets("clj")).isEmpty();

    CommandRun intended = admin("budget", "set", "--pool", "h200-new", "--new-pool", "--max-nodes", "2", "--reason", "r");
    assertThat(intended.code()).as(intended.err()).isZero();
    assertThat(collector.gate().budgets("h200-new")).hasSize(1);

    assertThat(admin("budget", "reset-breaker", "--pool", "clj", "--reason", "r").code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(read("budget", "--pool", "clj").code()).isEqualTo(ExitCodes.NOT_FOUND);
  }

  @Test
  void theBudgetTableShowsTheLimitTheCollectorComputes() {
    CommandRun set = admin("budget", "set", "--pool", TestCollector.POOL, "--max-percent", "5", "--max-nodes", "0",
        "--reason", "five percent");
    assertThat(set.code()).as(set.err()).isZero();

    CommandRun budget = read("budget");
    assertThat(budget.code()).isZero();
    assertThat(budget.out().lines().filter(l -> l.startsWith(TestCollector.POOL + " ")).findFirst().orElseThrow())
        .matches("cli +4 +0 +5% \\(1 node\\) +1 +0 +0 +armed");
  }

  @Test
  void aQueuedLockWithWaitTimeoutSaysUntilWhenItWaitsAndExitsZeroWhenGranted() throws Exception {
    assertThat(admin("lock", "c-1", "--reason", "first").code()).isZero();
    CompletableFuture<CommandRun> waiting = CompletableFuture.supplyAsync(
        () -> admin("lock", "c-2", "--reason", "second", "--wait", "--wait-timeout", "30s"));
    await().atMost(Duration.ofSeconds(10)).until(() -> collector.gate().queued() == 1);
    collector.gate().release("c-1", true, "done early", "test");

    CommandRun run = waiting.get();
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).containsPattern("waiting until " + ISO + " \\(30s\\) for c-2 \\.\\.\\.")
        .containsPattern("c-2  LOCKED  queued lock granted at " + ISO);
  }

  @Test
  void aQueuedLockNotGrantedInTimeExitsFour() {
    assertThat(admin("lock", "c-1", "--reason", "first").code()).isZero();

    CommandRun run = admin("lock", "c-2", "--reason", "second", "--wait", "--wait-timeout", "1s");

    assertThat(run.code()).isEqualTo(ExitCodes.REFUSED);
    assertThat(run.out()).contains("QUEUED").containsPattern("waiting until " + ISO + " \\(1s\\)");
    assertThat(run.err()).containsPattern("gave up waiting at " + ISO + " after 1s; still queued: c-2");
  }

  @Test
  void aRequestTheCollectorCallsInvalidIsAUsageError() {
    CommandRun run = admin("lock", "", "--reason", "r");

    assertThat(run.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("INVALID_ARGUMENT: name at least one node, and no empty node id");
  }

  @Test
  void failedPreconditionIsARefusalAndPermissionDeniedIsTheAuthCode() {
    try (FakeCollector precondition = FakeCollector.answering(Status.FAILED_PRECONDITION.withDescription("pool frozen"));
        FakeCollector denied = FakeCollector.answering(Status.PERMISSION_DENIED.withDescription("alice may not"))) {
      CommandRun refused = CommandRun.of("hold", "c-1", "--reason", "r", "--collector", precondition.address(),
          "--admin-token-file", collector.adminTokens().toString());
      CommandRun notAllowed = CommandRun.of("hold", "c-1", "--reason", "r", "--collector", denied.address(),
          "--admin-token-file", collector.adminTokens().toString());

      assertThat(refused.code()).isEqualTo(ExitCodes.REFUSED);
      assertThat(refused.err()).isEqualTo("gpuwarden hold: FAILED_PRECONDITION: pool frozen\n");
      assertThat(notAllowed.code()).isEqualTo(ExitCodes.AUTH);
      assertThat(notAllowed.err()).startsWith("gpuwarden hold: PERMISSION_DENIED: alice may not (the token from admin "
          + "token file " + collector.adminTokens() + " (--admin-token-file), name admin)");
    }
  }

  @Test
  void aFileHoldingJustTheTokenStillWorks() throws Exception {
    Path bare = Files.writeString(dir.resolve("token"), TestCollector.ALICE_TOKEN + "\n");
    assertThat(CommandRun.of("hold", "c-1", "--reason", "r", "--collector", collector.address(),
        "--admin-token-file", bare.toString()).code()).isZero();
    assertThat(collector.gate().status("c-1").orElseThrow().getHeld()).isTrue();
    assertThat(collector.journal().history("c-1", Instant.EPOCH, 10)).anySatisfy(e ->
        assertThat(e.getTransition().getActor()).isEqualTo("alice"));
  }
}

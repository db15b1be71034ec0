package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CommandRun;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.GpuwardenMain;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gate commands' command-line handling through {@code GpuwardenMain}: local refusals and usage errors that never
 * reach a collector, and a collector that is not there or does not answer. Calls to a real gate are tested with the
 * server ({@link GateCommandsAgainstCollectorTest}).
 */
class GateCommandLineTest {
  /** Nothing listens on port 1 of loopback; the connection is refused at once. */
  private static final String NO_COLLECTOR = "127.0.0.1:1";

  @TempDir
  Path dir;

  private Path token() throws Exception {
    return Files.writeString(dir.resolve("token"), "a1b2c3d4e5f60718293a4b5c\n");
  }

  @Test
  void releaseWithoutForceIsRefusedLocallyWithExitTwoAndTheReason() throws Exception {
    CommandRun run = CommandRun.of("release", "gpu-001", "--reason", "stuck in verifying", "--collector", NO_COLLECTOR,
        "--admin-token-file", token().toString());

    assertThat(run.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).isEqualTo("gpuwarden release: release without --force is not allowed: the gate releases "
        + "nodes itself when verification passes; --force is an audited admin override\n");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void unreachableCollectorExitsSixNamingTheCommandAndTheAddress() throws Exception {
    CommandRun gate = CommandRun.of("gate", "--collector", NO_COLLECTOR);
    CommandRun release = CommandRun.of("release", "gpu-001", "--force", "--reason", "r", "--collector", NO_COLLECTOR,
        "--admin-token-file", token().toString());

    assertThat(gate.code()).isEqualTo(ExitCodes.UNREACHABLE).isEqualTo(6);
    assertThat(gate.err()).startsWith("gpuwarden gate: cannot reach the collector at 127.0.0.1:1: UNAVAILABLE: ")
        .contains("Connection refused");
    assertThat(release.code()).isEqualTo(ExitCodes.UNREACHABLE);
    assertThat(release.err()).startsWith("gpuwarden release: cannot reach the collector at 127.0.0.1:1");
  }

  @Test
  void aCollectorThatDoesNotAnswerWithinTheTimeoutIsUnreachableToo() throws Exception {
    // A socket that is listened on but never accepted: the TCP connection opens, HTTP/2 never starts.
    try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      String address = "127.0.0.1:" + silent.getLocalPort();
      CommandRun run = CommandRun.of("gate", "--collector", address, "--timeout", "500ms");

      assertThat(run.code()).isEqualTo(ExitCodes.UNREACHABLE);
      assertThat(run.err()).isEqualTo("gpuwarden gate: collector " + address
          + " did not answer within 500ms (DEADLINE_EXCEEDED; see --timeout)\n");
    }
  }

  @Test
  void subcommandErrorsArePrefixedWithTheFullCommandName() throws Exception {
    CommandRun run = CommandRun.of("budget", "reset-breaker", "--pool", "p", "--reason", "r", "--collector", NO_COLLECTOR,
        "--admin-token-file", token().toString());

    assertThat(run.code()).isEqualTo(ExitCodes.UNREACHABLE);
    assertThat(run.err()).startsWith("gpuwarden budget reset-breaker: cannot reach the collector at 127.0.0.1:1");
  }

  @Test
  void unreadableAdminTokenFileIsAUsageErrorBeforeAnyCall() {
    Path missing = dir.resolve("missing");

    CommandRun run = CommandRun.of("hold", "gpu-001", "--reason", "r", "--admin-token-file", missing.toString(),
        "--collector", NO_COLLECTOR);

    assertThat(run.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).isEqualTo("gpuwarden hold: cannot read admin token file " + missing
        + " (--admin-token-file): java.nio.file.NoSuchFileException: " + missing + "\n");
  }

  @Test
  void withoutAnAdminTokenAMutationIsRefusedBeforeAnyCallSayingHowToGiveOneOnce() {
    CommandRun run = CommandRun.of("hold", "gpu-001", "--reason", "r", "--collector", NO_COLLECTOR);

    assertThat(run.code()).isEqualTo(ExitCodes.AUTH).isEqualTo(5);
    assertThat(run.err()).isEqualTo("gpuwarden hold: " + AdminToken.MISSING + "\n");
    assertThat(run.err().split("--admin-token-file", -1)).hasSize(2);
    assertThat(run.err().split("\\$GPUWARDEN_ADMIN_TOKEN ", -1)).hasSize(2);
  }

  @Test
  void anEmptyReasonIsAUsageErrorNamingTheFlagBeforeAnyCall() throws Exception {
    for (String[] args : new String[][] {
        {"lock", "gpu-001", "--reason", ""},
        {"hold", "gpu-001", "--reason", "  "},
        {"quarantine", "gpu-001", "--reason", ""},
        {"release", "gpu-001", "--force", "--reason", ""},
        {"nfz", "add", "--pool", "p", "--start", "+1h", "--end", "+2h", "--reason", ""},
        {"budget", "set", "--pool", "p", "--max-nodes", "1", "--reason", ""},
        {"budget", "reset-breaker", "--pool", "p", "--reason", ""}}) {
      CommandRun run = CommandRun.of(concat(args, "--collector", NO_COLLECTOR, "--admin-token-file", token().toString()));

      assertThat(run.code()).as(String.join(" ", args)).isEqualTo(ExitCodes.USAGE);
      assertThat(run.err()).as(String.join(" ", args))
          .endsWith(": --reason must not be empty: every gate change is recorded with why\n");
    }
  }

  @Test
  void anEmptyOptionalReasonIsAUsageErrorToo() throws Exception {
    for (String[] args : new String[][] {
        {"complete", "gpu-001", "--reason", ""}, {"unhold", "gpu-001", "--reason", ""},
        {"repair-done", "gpu-001", "--reason", ""}, {"nfz", "remove", "nfz-1", "--reason", ""}}) {
      CommandRun run = CommandRun.of(concat(args, "--collector", NO_COLLECTOR, "--admin-token-file", token().toString()));

      assertThat(run.code()).as(String.join(" ", args)).isEqualTo(ExitCodes.USAGE);
      assertThat(run.err()).as(String.join(" ", args)).endsWith(": --reason is empty: say what was done, or leave --reason out\n");
    }
  }

  @Test
  void waitTimeoutWithoutWaitIsAUsageError() throws Exception {
    CommandRun run = CommandRun.of("lock", "gpu-001", "--reason", "r", "--wait-timeout", "10m", "--collector", NO_COLLECTOR,
        "--admin-token-file", token().toString());

    assertThat(run.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).isEqualTo("gpuwarden lock: --wait-timeout needs --wait\n");
  }

  @Test
  void lockNeedsAReason() {
    CommandRun run = CommandRun.of("lock", "gpu-001", "--collector", NO_COLLECTOR);

    assertThat(run.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("Missing required option: '--reason=TEXT'");
  }

  @Test
  void noFlyWindowWithABadTimeIsAUsageErrorNamingTheAcceptedForms() {
    CommandRun run = CommandRun.of("nfz", "add", "--pool", "h100-a", "--start", "tonight", "--end", "+2h", "--reason", "r",
        "--collector", NO_COLLECTOR);

    assertThat(run.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("Invalid value for option '--start': invalid time 'tonight': use +DURATION from now");
  }

  @Test
  void noFlyWindowMustEndAfterItStartsAndSaysSoInIso8601() throws Exception {
    CommandRun run = CommandRun.of("nfz", "add", "--pool", "h100-a", "--start", "2024-05-01T22:00:00Z",
        "--end", "2024-05-01T21:00:00Z", "--reason", "r", "--collector", NO_COLLECTOR, "--admin-token-file", token().toString());

    assertThat(run.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).isEqualTo("gpuwarden nfz add: --end (2024-05-01T21:00:00Z) must be after --start "
        + "(2024-05-01T22:00:00Z)\n");
  }

  @Test
  void noFlyWindowNeedsAPoolOrExplicitlyAllPools() throws Exception {
    String token = token().toString();
    CommandRun neither = CommandRun.of("nfz", "add", "--start", "+1h", "--end", "+2h", "--reason", "r",
        "--collector", NO_COLLECTOR, "--admin-token-file", token);
    CommandRun empty = CommandRun.of("nfz", "add", "--pool", "", "--start", "+1h", "--end", "+2h", "--reason", "r",
        "--collector", NO_COLLECTOR, "--admin-token-file", token);
    CommandRun both = CommandRun.of("nfz", "add", "--pool", "p", "--all-pools", "--start", "+1h", "--end", "+2h",
        "--reason", "r", "--collector", NO_COLLECTOR, "--admin-token-file", token);
    CommandRun newAll = CommandRun.of("nfz", "add", "--all-pools", "--new-pool", "--start", "+1h", "--end", "+2h",
        "--reason", "r", "--collector", NO_COLLECTOR, "--admin-token-file", token);

    assertThat(neither.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(neither.err()).contains("Missing required argument").contains("--pool=NAME").contains("--all-pools");
    assertThat(empty.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(empty.err()).isEqualTo("gpuwarden nfz add: --pool must name a pool; for a window over every pool say "
        + "--all-pools\n");
    assertThat(both.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(both.err()).contains("mutually exclusive");
    assertThat(newAll.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(newAll.err()).isEqualTo("gpuwarden nfz add: --new-pool goes with --pool, not --all-pools\n");
  }

  @Test
  void nfzAloneAsksForASubcommand() {
    CommandRun run = CommandRun.of("nfz");

    assertThat(run.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("gpuwarden nfz: a subcommand is needed: add, list or remove");
  }

  @Test
  void budgetSetNeedsAPoolALimitAndAPlausiblePercentage() throws Exception {
    String token = token().toString();
    CommandRun noLimit = CommandRun.of("budget", "set", "--pool", "p", "--reason", "r", "--collector", NO_COLLECTOR,
        "--admin-token-file", token);
    CommandRun tooMuch = CommandRun.of("budget", "set", "--pool", "p", "--max-percent", "150", "--reason", "r",
        "--collector", NO_COLLECTOR, "--admin-token-file", token);
    CommandRun noPool = CommandRun.of("budget", "set", "--pool", "", "--max-nodes", "1", "--reason", "r",
        "--collector", NO_COLLECTOR, "--admin-token-file", token);

    assertThat(noLimit.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(noLimit.err()).isEqualTo("gpuwarden budget set: give --max-nodes, --max-percent or both (0 removes that limit)\n");
    assertThat(tooMuch.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(tooMuch.err()).isEqualTo("gpuwarden budget set: --max-percent must be between 0 and 100, not 150.0\n");
    assertThat(noPool.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(noPool.err()).isEqualTo("gpuwarden budget set: --pool must name a pool\n");
  }

  @Test
  void historyRejectsANegativeLimitAndABadSince() {
    CommandRun limit = CommandRun.of("history", "gpu-001", "--limit", "-1", "--collector", NO_COLLECTOR);
    CommandRun since = CommandRun.of("history", "gpu-001", "--since", "last week", "--collector", NO_COLLECTOR);

    assertThat(limit.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(limit.err()).isEqualTo("gpuwarden history: --limit must be 0 or more, not -1\n");
    assertThat(since.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(since.err()).contains("Invalid value for option '--since': invalid time 'last week'");
  }

  @Test
  void mutatingCommandsDocumentTheTokenOptionsAndTheAuthCode() {
    for (String cmd : new String[] {"lock", "complete", "hold", "unhold", "quarantine", "repair-done", "release"}) {
      CommandRun help = CommandRun.of(cmd, "--help");

      assertThat(help.code()).isZero();
      assertThat(help.out()).as(cmd).contains("Exit codes:").containsPattern("\\n\\s+3\\s+no such node")
          .containsPattern("\\n\\s+4\\s+refused").containsPattern("\\n\\s+5\\s+not authenticated")
          .contains("--admin-token-file=FILE").contains("--admin-name=NAME");
    }
  }

  @Test
  void everyGateCommandIsRegistered() {
    assertThat(GpuwardenMain.commandLine().getSubcommands()).containsKeys("gate", "lock", "complete", "release", "hold",
        "unhold", "quarantine", "repair-done", "history", "nfz", "budget");
    assertThat(GpuwardenMain.commandLine().getSubcommands().get("budget").getSubcommands()).containsKeys("set", "reset-breaker");
    assertThat(GpuwardenMain.commandLine().getSubcommands().get("nfz").getSubcommands()).containsKeys("add", "list", "remove");
  }

  private static String[] concat(String[] args, String... more) {
    String[] all = new String[args.length + more.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return all;
  }
}

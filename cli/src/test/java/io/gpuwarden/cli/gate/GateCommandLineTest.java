package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.cli.GpuwardenMain;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The gate commands' command-line handling through {@code GpuwardenMain}: local refusals and usage errors that never
 * reach a collector, and a collector that is not there. Calls to a real gate are tested with the server.
 */
class GateCommandLineTest {
  /** Nothing listens on port 1 of loopback; the connection is refused at once. */
  private static final String NO_COLLECTOR = "127.0.0.1:1";

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @TempDir
  Path dir;

  private int run(String... args) {
    CommandLine cl = GpuwardenMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void releaseWithoutForceIsRefusedLocallyWithExitTwoAndTheReason() {
    int code = run("release", "gpu-001", "--reason", "stuck in verifying", "--collector", NO_COLLECTOR);

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("gpuwarden release: release without --force is not allowed: the gate releases "
        + "nodes itself when verification passes; --force is an audited admin override\n");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void releaseWithForceGoesToTheCollector() {
    int code = run("release", "gpu-001", "--force", "--reason", "r", "--collector", NO_COLLECTOR, "--timeout", "5s");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).startsWith("gpuwarden release: UNAVAILABLE").contains("(collector 127.0.0.1:1)");
  }

  @Test
  void unreachableCollectorIsExitOneWithTheCommandNameAndCode() {
    assertThat(run("gate", "--collector", NO_COLLECTOR)).isEqualTo(1);
    assertThat(err.toString()).startsWith("gpuwarden gate: UNAVAILABLE: ");
  }

  @Test
  void subcommandErrorsArePrefixedWithTheFullCommandName() {
    assertThat(run("budget", "reset-breaker", "--pool", "p", "--reason", "r", "--collector", NO_COLLECTOR)).isEqualTo(1);
    assertThat(err.toString()).startsWith("gpuwarden budget reset-breaker: UNAVAILABLE: ");
  }

  @Test
  void unreadableAdminTokenFileIsAUsageErrorBeforeAnyCall() {
    Path missing = dir.resolve("token");

    int code = run("hold", "gpu-001", "--reason", "r", "--admin-token-file", missing.toString(), "--collector", NO_COLLECTOR);

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("gpuwarden hold: cannot read admin token file " + missing
        + " (--admin-token-file): java.nio.file.NoSuchFileException: " + missing + "\n");
  }

  @Test
  void waitTimeoutWithoutWaitIsAUsageError() {
    assertThat(run("lock", "gpu-001", "--reason", "r", "--wait-timeout", "10m", "--collector", NO_COLLECTOR)).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("gpuwarden lock: --wait-timeout needs --wait\n");
  }

  @Test
  void lockNeedsAReason() {
    assertThat(run("lock", "gpu-001", "--collector", NO_COLLECTOR)).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required option: '--reason=TEXT'");
  }

  @Test
  void noFlyWindowWithABadTimeIsAUsageErrorNamingTheAcceptedForms() {
    int code = run("nfz", "add", "--pool", "h100-a", "--start", "tonight", "--end", "+2h", "--reason", "r",
        "--collector", NO_COLLECTOR);

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("Invalid value for option '--start': invalid time 'tonight': use +DURATION from now");
  }

  @Test
  void noFlyWindowMustEndAfterItStarts() {
    int code = run("nfz", "add", "--pool", "h100-a", "--start", "2024-05-01T22:00:00Z", "--end", "2024-05-01T21:00:00Z",
        "--reason", "r", "--collector", NO_COLLECTOR);

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("gpuwarden nfz add: --end (2024-05-01 21:00:00 UTC) must be after --start "
        + "(2024-05-01 22:00:00 UTC)\n");
  }

  @Test
  void nfzAloneAsksForASubcommand() {
    assertThat(run("nfz")).isEqualTo(2);
    assertThat(err.toString()).startsWith("gpuwarden nfz: a subcommand is needed: add, list or remove");
  }

  @Test
  void budgetSetNeedsALimitAndAPlausiblePercentage() {
    assertThat(run("budget", "set", "--pool", "p", "--reason", "r", "--collector", NO_COLLECTOR)).isEqualTo(2);
    assertThat(run("budget", "set", "--pool", "p", "--max-percent", "150", "--reason", "r", "--collector", NO_COLLECTOR))
        .isEqualTo(2);
    assertThat(err.toString()).isEqualTo(
        "gpuwarden budget set: give --max-nodes, --max-percent or both (0 removes that limit)\n"
            + "gpuwarden budget set: --max-percent must be between 0 and 100, not 150.0\n");
  }

  @Test
  void historyRejectsANegativeLimitAndABadSince() {
    assertThat(run("history", "gpu-001", "--limit", "-1", "--collector", NO_COLLECTOR)).isEqualTo(2);
    assertThat(run("history", "gpu-001", "--since", "last week", "--collector", NO_COLLECTOR)).isEqualTo(2);
    assertThat(err.toString()).contains("gpuwarden history: --limit must be 0 or more, not -1")
        .contains("Invalid value for option '--since': invalid time 'last week'");
  }

  @Test
  void mutatingCommandsDocumentExitCodeFourAndTheTokenOption() {
    for (String cmd : new String[] {"lock", "complete", "hold", "unhold", "quarantine", "repair-done", "release"}) {
      StringWriter help = new StringWriter();
      CommandLine cl = GpuwardenMain.commandLine();
      cl.setOut(new PrintWriter(help, true));
      assertThat(cl.execute(cmd, "--help")).isZero();
      assertThat(help.toString()).as(cmd).contains("Exit codes:").containsPattern("\\n\\s+4\\s+refused")
          .contains("--admin-token-file=FILE");
    }
  }

  @Test
  void everyGateCommandIsRegistered() {
    assertThat(GpuwardenMain.commandLine().getSubcommands()).containsKeys("gate", "lock", "complete", "release", "hold",
        "unhold", "quarantine", "repair-done", "history", "nfz", "budget");
    assertThat(GpuwardenMain.commandLine().getSubcommands().get("budget").getSubcommands()).containsKeys("set", "reset-breaker");
    assertThat(GpuwardenMain.commandLine().getSubcommands().get("nfz").getSubcommands()).containsKeys("add", "list", "remove");
  }
}

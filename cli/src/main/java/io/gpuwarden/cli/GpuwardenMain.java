package io.gpuwarden.cli;

import io.gpuwarden.common.Logging;
import io.gpuwarden.collector.CollectorCommand;
import io.gpuwarden.cli.gate.BudgetCommand;
import io.gpuwarden.cli.gate.CompleteCommand;
import io.gpuwarden.cli.gate.GateCommand;
import io.gpuwarden.cli.gate.HistoryCommand;
import io.gpuwarden.cli.gate.HoldCommand;
import io.gpuwarden.cli.gate.LockCommand;
import io.gpuwarden.cli.gate.NfzCommand;
import io.gpuwarden.cli.gate.QuarantineCommand;
import io.gpuwarden.cli.gate.ReleaseCommand;
import io.gpuwarden.cli.gate.RepairDoneCommand;
import io.gpuwarden.cli.gate.UnholdCommand;
import io.gpuwarden.cli.demo.DemoCommand;
import io.gpuwarden.cli.loadgen.LoadGenCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The collector jar's command line: {@code collector}, the operator commands ({@code nodes},
 * {@code node}, and the release gate's {@code gate}, {@code lock}, {@code complete}, {@code history}...) and
 * {@code demo}. The {@code ./gpuwarden} launcher sends {@code agent} to the
 * agent jar and everything else here.
 */
@Command(name = "gpuwarden", mixinStandardHelpOptions = true, versionProvider = GpuwardenMain.VersionProvider.class,
    description = "GPU node health agent and fleet collector.",
    subcommands = {CollectorCommand.class, NodesCommand.class, NodeCommand.class,
        GateCommand.class, LockCommand.class, CompleteCommand.class, ReleaseCommand.class, HoldCommand.class,
        UnholdCommand.class, QuarantineCommand.class, RepairDoneCommand.class, HistoryCommand.class, NfzCommand.class,
        BudgetCommand.class, DemoCommand.class, LoadGenCommand.class, CommandLine.HelpCommand.class})
public final class GpuwardenMain implements Runnable {
  static {
    // Before any class with a Logger loads: the log manager is chosen when logging first initialises.
    Logging.configure();
  }

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** Returns the picocli command line, every client command's exit codes in its help; for tests too. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new GpuwardenMain()).setCaseInsensitiveEnumValuesAllowed(true);
    ExitCodeList.install(cl);
    return cl;
  }

  @Override
  public void run() {
    // No subcommand: show usage, which lists them.
    CommandLine.usage(this, System.out);
  }

  /** Prints the version. */
  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"gpuwarden " + io.gpuwarden.common.Version.get()};
    }
  }
}

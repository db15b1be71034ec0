package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.ClientCommand;
import io.gpuwarden.cli.CollectorSession;
import io.gpuwarden.cli.ExitCodeList;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.AddNoFlyWindowRequest;
import io.gpuwarden.proto.v1.AddNoFlyWindowResponse;
import io.gpuwarden.proto.v1.ListNoFlyWindowsRequest;
import io.gpuwarden.proto.v1.ListNoFlyWindowsResponse;
import io.gpuwarden.proto.v1.RemoveNoFlyWindowRequest;
import io.gpuwarden.proto.v1.RemoveNoFlyWindowResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden nfz add|list|remove}: maintenance no-fly windows, when non-emergency locks are refused in a pool. */
@Command(name = "nfz", mixinStandardHelpOptions = true,
    description = "Manages no-fly windows: spans of time in which a pool's nodes may not be locked except in an emergency.",
    subcommands = {NfzCommand.AddWindow.class, NfzCommand.ListWindows.class, NfzCommand.RemoveWindow.class})
public final class NfzCommand implements Callable<Integer>, ExitCodeList.Source {
  @Spec
  CommandSpec spec;

  @Override
  public ExitCodeList exitCodes() {
    return ExitCodeList.none().with(ExitCodes.USAGE, "no subcommand given, or an invalid command line");
  }

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("gpuwarden nfz: a subcommand is needed: add, list or remove");
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  /** {@code nfz add (--pool P [--new-pool] | --all-pools) --start T --end T --reason R}. */
  @Command(name = "add", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Adds a no-fly window to a pool, or with --all-pools to every pool.",
          "T is an ISO-8601 instant (2026-12-03T14:00:00Z) or a time from now (+10m, +2h, +1d).",
          "A pool no node has reported is refused (exit code 3: a typo would protect nothing) unless --new-pool says "
              + "it is intended."})
  public static final class AddWindow extends AdminCommand {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Scope scope;

    @Option(names = "--new-pool", description = "With --pool: the pool is new, no node has reported it yet, and that is intended.")
    boolean newPool;

    @Option(names = "--start", required = true, paramLabel = "T", converter = TimeArgument.At.class,
        description = "Start: ISO-8601 instant or +DURATION from now.")
    Instant start;

    @Option(names = "--end", required = true, paramLabel = "T", converter = TimeArgument.At.class,
        description = "End: ISO-8601 instant or +DURATION from now; after --start.")
    Instant end;

    @Mixin
    RequiredReason reason;

    /** Which pools the window applies to: one, or explicitly all. */
    static final class Scope {
      @Option(names = "--pool", required = true, paramLabel = "NAME", description = "Pool the window applies to.")
      String pool;

      @Option(names = "--all-pools", required = true, description = "The window applies to every pool.")
      boolean allPools;
    }

    @Override
    protected String done() {
      return "added";
    }

    @Override
    public ExitCodeList exitCodes() {
      return super.exitCodes().with(ExitCodes.NOT_FOUND, BudgetCommand.NO_SUCH_POOL + " (and --new-pool was not given)");
    }

    @Override
    protected void checkCommandLine() {
      if (scope.pool != null && scope.pool.isBlank()) {
        throw usage("--pool must name a pool; for a window over every pool say --all-pools");
      }
      if (newPool && scope.allPools) {
        throw usage("--new-pool goes with --pool, not --all-pools");
      }
      if (!end.isAfter(start)) {
        Times times = Times.forThisProcess();
        throw usage("--end (" + times.format(end) + ") must be after --start ("
            + times.format(start) + ")");
      }
    }

    @Override
    protected int run(CollectorSession session) {
      AddNoFlyWindowResponse r = session.gate().addNoFlyWindow(AddNoFlyWindowRequest.newBuilder()
          .setPool(scope.allPools ? "" : scope.pool).setNewPool(newPool)
          .setStart(GateFormat.timestamp(start)).setEnd(GateFormat.timestamp(end)).setReason(reason.text()).build());
      session.out().print(NoFlyTable.render(List.of(r.getWindow()), session.times()));
      return ExitCodes.OK;
    }
  }

  /** {@code nfz list [--pool P] [--all]}. */
  @Command(name = "list", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Lists current and future no-fly windows (with --all, past ones too).",
          "Times are ISO-8601 UTC (with the local time beside them at a terminal whose zone is not UTC)."})
  public static final class ListWindows extends ClientCommand {
    @Option(names = "--pool", paramLabel = "NAME", description = "Only windows that apply to this pool (its own and all-pool ones).")
    String pool = "";

    @Option(names = "--all", description = "Include windows that already ended.")
    boolean all;

    @Option(names = "--json", description = "Print the ListNoFlyWindowsResponse as JSON (proto3 JSON mapping).")
    boolean json;

    @Override
    protected String done() {
      return "listed";
    }

    @Override
    public ExitCodeList exitCodes() {
      return super.exitCodes().with(ExitCodes.NOT_FOUND, BudgetCommand.NO_SUCH_POOL + ", and no window names it");
    }

    @Override
    protected int run(CollectorSession session) throws IOException {
      ListNoFlyWindowsResponse r = session.gate().listNoFlyWindows(ListNoFlyWindowsRequest.newBuilder().setPool(pool)
          .setIncludePast(all).build());
      if (json) {
        session.printJson(r);
      } else if (r.getWindowsCount() == 0) {
        session.out().println("no no-fly windows" + (pool.isEmpty() ? "" : " in pool " + pool));
      } else {
        session.out().print(NoFlyTable.render(r.getWindowsList(), session.times()));
      }
      return ExitCodes.OK;
    }
  }

  /** {@code nfz remove ID}. */
  @Command(name = "remove", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Removes a no-fly window.")
  public static final class RemoveWindow extends AdminCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "Window id (see 'nfz list').")
    String id;

    @Mixin
    OptionalReason reason;

    @Override
    protected String done() {
      return "removed";
    }

    @Override
    public ExitCodeList exitCodes() {
      return super.exitCodes().with(ExitCodes.NOT_FOUND, "no such window");
    }

    @Override
    protected int run(CollectorSession session) {
      RemoveNoFlyWindowResponse r = session.gate().removeNoFlyWindow(RemoveNoFlyWindowRequest.newBuilder().setId(id)
          .setReason(reason.text()).build());
      session.out().println("removed no-fly window " + id);
      session.out().print(NoFlyTable.render(List.of(r.getWindow()), session.times()));
      return ExitCodes.OK;
    }
  }
}

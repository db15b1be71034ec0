package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.AddNoFlyWindowRequest;
import io.gpuwarden.proto.v1.AddNoFlyWindowResponse;
import io.gpuwarden.proto.v1.ListNoFlyWindowsRequest;
import io.gpuwarden.proto.v1.ListNoFlyWindowsResponse;
import io.gpuwarden.proto.v1.RemoveNoFlyWindowRequest;
import io.gpuwarden.proto.v1.RemoveNoFlyWindowResponse;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden nfz add|list|remove}: maintenance no-fly windows, when non-emergency locks are refused in a pool. */
@Command(name = "nfz", mixinStandardHelpOptions = true,
    description = "Manages no-fly windows: spans of time in which a pool's nodes may not be locked except in an emergency.",
    subcommands = {NfzCommand.AddWindow.class, NfzCommand.ListWindows.class, NfzCommand.RemoveWindow.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"2:no subcommand given"})
public final class NfzCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("gpuwarden nfz: a subcommand is needed: add, list or remove");
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  /** {@code nfz add --pool P --start T --end T --reason R}. */
  @Command(name = "add", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Adds a no-fly window to a pool.",
          "T is an ISO-8601 instant (2024-05-01T22:00:00Z) or a time from now (+10m, +2h, +1d)."},
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:added", "1:collector unreachable or the call failed",
          "2:invalid command line or unreadable admin token", "3:no such pool"})
  public static final class AddWindow implements Callable<Integer> {
    @Mixin
    CollectorAddress collector;

    @Mixin
    AdminToken adminToken;

    @Option(names = "--pool", required = true, paramLabel = "NAME", description = "Pool.")
    String pool;

    @Option(names = "--start", required = true, paramLabel = "T", converter = TimeArgument.At.class,
        description = "Start: ISO-8601 instant or +DURATION from now.")
    Instant start;

    @Option(names = "--end", required = true, paramLabel = "T", converter = TimeArgument.At.class,
        description = "End: ISO-8601 instant or +DURATION from now; after --start.")
    Instant end;

    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why (recorded in the audit history).")
    String reason;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      if (!end.isAfter(start)) {
        spec.commandLine().getErr().println("gpuwarden nfz add: --end (" + GateFormat.TIME.format(end)
            + " UTC) must be after --start (" + GateFormat.TIME.format(start) + " UTC)");
        spec.commandLine().getErr().flush();
        return ExitCodes.USAGE;
      }
      return GateClient.run(spec, collector, adminToken, c -> {
        AddNoFlyWindowResponse r = c.stub().addNoFlyWindow(AddNoFlyWindowRequest.newBuilder().setPool(pool)
            .setStart(GateFormat.timestamp(start)).setEnd(GateFormat.timestamp(end)).setReason(reason).build());
        c.out.print(NoFlyTable.render(List.of(r.getWindow())));
        return ExitCodes.OK;
      });
    }
  }

  /** {@code nfz list [--pool P] [--all]}. */
  @Command(name = "list", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Lists current and future no-fly windows (with --all, past ones too), times in UTC.",
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:listed", "1:collector unreachable or the call failed", "2:invalid command line"})
  public static final class ListWindows implements Callable<Integer> {
    @Mixin
    CollectorAddress collector;

    @Option(names = "--pool", paramLabel = "NAME", description = "Only this pool.")
    String pool = "";

    @Option(names = "--all", description = "Include windows that already ended.")
    boolean all;

    @Option(names = "--json", description = "Print the ListNoFlyWindowsResponse as JSON (proto3 JSON mapping).")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      return GateClient.run(spec, collector, null, c -> {
        ListNoFlyWindowsResponse r = c.stub().listNoFlyWindows(ListNoFlyWindowsRequest.newBuilder().setPool(pool)
            .setIncludePast(all).build());
        if (json) {
          c.printJson(r);
        } else if (r.getWindowsCount() == 0) {
          c.out.println("no no-fly windows" + (pool.isEmpty() ? "" : " in pool " + pool));
        } else {
          c.out.print(NoFlyTable.render(r.getWindowsList()));
        }
        return ExitCodes.OK;
      });
    }
  }

  /** {@code nfz remove ID}. */
  @Command(name = "remove", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Removes a no-fly window.",
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:removed", "1:collector unreachable or the call failed",
          "2:invalid command line or unreadable admin token", "3:no such window"})
  public static final class RemoveWindow implements Callable<Integer> {
    @Mixin
    CollectorAddress collector;

    @Mixin
    AdminToken adminToken;

    @Parameters(index = "0", paramLabel = "ID", description = "Window id (see 'nfz list').")
    String id;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why (recorded in the audit history).")
    String reason = "";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      return GateClient.run(spec, collector, adminToken, c -> {
        RemoveNoFlyWindowResponse r = c.stub().removeNoFlyWindow(RemoveNoFlyWindowRequest.newBuilder().setId(id)
            .setReason(reason).build());
        c.out.println("removed no-fly window " + id);
        c.out.print(NoFlyTable.render(List.of(r.getWindow())));
        return ExitCodes.OK;
      });
    }
  }
}

package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GetBudgetsRequest;
import io.gpuwarden.proto.v1.GetBudgetsResponse;
import io.gpuwarden.proto.v1.ResetCircuitBreakerRequest;
import io.gpuwarden.proto.v1.ResetCircuitBreakerResponse;
import io.gpuwarden.proto.v1.SetBudgetRequest;
import io.gpuwarden.proto.v1.SetBudgetResponse;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpuwarden budget [set|reset-breaker]}: how much of each pool may be out of service at once. */
@Command(name = "budget", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Lists pool availability budgets and their use; 'set' and 'reset-breaker' change them.",
        "Columns: nodes out, the limit, how many may still be taken, queued and refused locks, and the",
        "automatic-quarantine circuit breaker."},
    subcommands = {BudgetCommand.SetBudget.class, BudgetCommand.ResetBreaker.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:listed", "1:collector unreachable or the call failed", "2:invalid command line"})
public final class BudgetCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Option(names = "--pool", paramLabel = "NAME", description = "Only this pool.")
  String pool = "";

  @Option(names = "--json", description = "Print the GetBudgetsResponse as JSON (proto3 JSON mapping).")
  boolean json;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return GateClient.run(spec, collector, null, c -> {
      GetBudgetsResponse r = c.stub().getBudgets(GetBudgetsRequest.newBuilder().setPool(pool).build());
      if (json) {
        c.printJson(r);
      } else if (r.getBudgetsCount() == 0) {
        c.out.println("no pools" + (pool.isEmpty() ? "" : " named " + pool));
      } else {
        c.out.print(BudgetTable.render(r.getBudgetsList()));
      }
      return ExitCodes.OK;
    });
  }

  /** {@code budget set --pool P [--max-nodes N] [--max-percent P] --reason R}. */
  @Command(name = "set", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Sets a pool's budget.",
          "Give --max-nodes, --max-percent or both (0 removes that limit); the stricter applies."},
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:set", "1:collector unreachable or the call failed",
          "2:invalid command line or unreadable admin token", "3:no such pool"})
  public static final class SetBudget implements Callable<Integer> {
    @Mixin
    CollectorAddress collector;

    @Mixin
    AdminToken adminToken;

    @Option(names = "--pool", required = true, paramLabel = "NAME", description = "Pool.")
    String pool;

    @Option(names = "--max-nodes", paramLabel = "N", description = "At most N nodes out at once (0: no absolute limit).")
    Integer maxNodes;

    @Option(names = "--max-percent", paramLabel = "P", description = "At most P% of the pool out at once (0: no percentage limit).")
    Double maxPercent;

    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why (recorded in the audit history).")
    String reason;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      String problem = validate(maxNodes, maxPercent);
      if (problem != null) {
        spec.commandLine().getErr().println("gpuwarden budget set: " + problem);
        spec.commandLine().getErr().flush();
        return ExitCodes.USAGE;
      }
      return GateClient.run(spec, collector, adminToken, c -> {
        SetBudgetResponse r = c.stub().setBudget(SetBudgetRequest.newBuilder().setPool(pool)
            .setMaxNodesOut(maxNodes == null ? 0 : maxNodes).setMaxPercentOut(maxPercent == null ? 0 : maxPercent)
            .setReason(reason).build());
        c.out.print(BudgetTable.render(List.of(r.getBudget())));
        return ExitCodes.OK;
      });
    }

    /** Returns what is wrong with the limits given, or {@code null} when they can be sent. */
    static String validate(Integer maxNodes, Double maxPercent) {
      if (maxNodes == null && maxPercent == null) {
        // Sending neither would silently remove every limit; make the operator say 0 for that.
        return "give --max-nodes, --max-percent or both (0 removes that limit)";
      }
      if (maxNodes != null && maxNodes < 0) {
        return "--max-nodes must be 0 or more, not " + maxNodes;
      }
      if (maxPercent != null && !(maxPercent >= 0 && maxPercent <= 100)) {
        return "--max-percent must be between 0 and 100, not " + maxPercent;
      }
      return null;
    }
  }

  /** {@code budget reset-breaker --pool P --reason R}. */
  @Command(name = "reset-breaker", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Re-arms automatic quarantine in a pool after its circuit breaker tripped.",
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:re-armed", "1:collector unreachable or the call failed",
          "2:invalid command line or unreadable admin token", "3:no such pool"})
  public static final class ResetBreaker implements Callable<Integer> {
    @Mixin
    CollectorAddress collector;

    @Mixin
    AdminToken adminToken;

    @Option(names = "--pool", required = true, paramLabel = "NAME", description = "Pool.")
    String pool;

    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why (recorded in the audit history).")
    String reason;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      return GateClient.run(spec, collector, adminToken, c -> {
        ResetCircuitBreakerResponse r = c.stub().resetCircuitBreaker(ResetCircuitBreakerRequest.newBuilder()
            .setPool(pool).setReason(reason).build());
        c.out.print(BudgetTable.render(List.of(r.getBudget())));
        return ExitCodes.OK;
      });
    }
  }
}

package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.ClientCommand;
import io.gpuwarden.cli.CollectorSession;
import io.gpuwarden.cli.ExitCodeList;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GetBudgetsRequest;
import io.gpuwarden.proto.v1.GetBudgetsResponse;
import io.gpuwarden.proto.v1.ResetCircuitBreakerRequest;
import io.gpuwarden.proto.v1.ResetCircuitBreakerResponse;
import io.gpuwarden.proto.v1.SetBudgetRequest;
import io.gpuwarden.proto.v1.SetBudgetResponse;
import java.io.IOException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gpuwarden budget [set|reset-breaker]}: how much of each pool may be out of service at once. */
@Command(name = "budget", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Lists pool availability budgets and their use; 'set' and 'reset-breaker' change them.",
        "Columns: nodes out, the limit as set with the number of nodes it allows now, how many may still be taken, "
            + "queued and refused locks, and the automatic-quarantine circuit breaker."},
    subcommands = {BudgetCommand.SetBudget.class, BudgetCommand.ResetBreaker.class})
public final class BudgetCommand extends ClientCommand {
  /** What exit code 3 means for the budget commands. */
  static final String NO_SUCH_POOL = "no such pool: no node has reported it";

  @Option(names = "--pool", paramLabel = "NAME", description = "Only this pool.")
  String pool = "";

  @Option(names = "--json", description = "Print the GetBudgetsResponse as JSON (proto3 JSON mapping).")
  boolean json;

  @Override
  protected String done() {
    return "listed";
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.NOT_FOUND, NO_SUCH_POOL);
  }

  @Override
  protected int run(CollectorSession session) throws IOException {
    GetBudgetsResponse r = session.gate().getBudgets(GetBudgetsRequest.newBuilder().setPool(pool).build());
    if (json) {
      session.printJson(r);
    } else if (r.getBudgetsCount() == 0) {
      session.out().println("no pools" + (pool.isEmpty() ? "" : " named " + pool));
    } else {
      session.out().print(BudgetTable.render(r.getBudgetsList()));
    }
    return ExitCodes.OK;
  }

  /** {@code budget set --pool P [--new-pool] [--max-nodes N] [--max-percent P] --reason R}. */
  @Command(name = "set", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Sets a pool's budget.",
          "Give --max-nodes, --max-percent or both (0 removes that limit); the stricter applies, and a percentage "
              + "always allows at least one node.",
          "A pool no node has reported is refused (exit code 3) unless --new-pool says it is intended."})
  public static final class SetBudget extends AdminCommand {
    @Option(names = "--pool", required = true, paramLabel = "NAME", description = "Pool.")
    String pool;

    @Option(names = "--new-pool", description = "The pool is new: no node has reported it yet, and that is intended.")
    boolean newPool;

    @Option(names = "--max-nodes", paramLabel = "N", description = "At most N nodes out at once (0: no absolute limit).")
    Integer maxNodes;

    @Option(names = "--max-percent", paramLabel = "P",
        description = "At most P%% of the pool out at once, 0 to 100 (0: no percentage limit).")
    Double maxPercent;

    @Mixin
    RequiredReason reason;

    @Override
    protected String done() {
      return "set";
    }

    @Override
    public ExitCodeList exitCodes() {
      return super.exitCodes().with(ExitCodes.NOT_FOUND, NO_SUCH_POOL + " (and --new-pool was not given)");
    }

    @Override
    protected void checkCommandLine() {
      if (pool.isBlank()) {
        throw usage("--pool must name a pool");
      }
      String problem = validate(maxNodes, maxPercent);
      if (problem != null) {
        throw usage(problem);
      }
    }

    @Override
    protected int run(CollectorSession session) {
      SetBudgetResponse r = session.gate().setBudget(SetBudgetRequest.newBuilder().setPool(pool).setNewPool(newPool)
          .setMaxNodesOut(maxNodes == null ? 0 : maxNodes).setMaxPercentOut(maxPercent == null ? 0 : maxPercent)
          .setReason(reason.text()).build());
      session.out().print(BudgetTable.render(List.of(r.getBudget())));
      return ExitCodes.OK;
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
      description = "Re-arms automatic quarantine in a pool after its circuit breaker tripped.")
  public static final class ResetBreaker extends AdminCommand {
    @Option(names = "--pool", required = true, paramLabel = "NAME", description = "Pool.")
    String pool;

    @Mixin
    RequiredReason reason;

    @Override
    protected String done() {
      return "re-armed";
    }

    @Override
    public ExitCodeList exitCodes() {
      return super.exitCodes().with(ExitCodes.NOT_FOUND, NO_SUCH_POOL);
    }

    @Override
    protected void checkCommandLine() {
      if (pool.isBlank()) {
        throw usage("--pool must name a pool");
      }
    }

    @Override
    protected int run(CollectorSession session) {
      ResetCircuitBreakerResponse r = session.gate().resetCircuitBreaker(ResetCircuitBreakerRequest.newBuilder()
          .setPool(pool).setReason(reason.text()).build());
      session.out().print(BudgetTable.render(List.of(r.getBudget())));
      return ExitCodes.OK;
    }
  }
}

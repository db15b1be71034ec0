package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.CollectorSession;
import io.gpuwarden.cli.ExitCodeList;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.util.List;

/**
 * A gate mutation of nodes ({@code lock}, {@code hold}, {@code release} ...): it sends one request, prints one line
 * per node result, and exits with what the results amount to (3 for a node the gate never saw, 4 for a refusal).
 */
abstract class NodeAction extends AdminCommand {
  /** Sends this verb's request and returns the collector's results. */
  protected abstract List<NodeActionResult> send(GateServiceBlockingStub gate);

  @Override
  protected int run(CollectorSession session) {
    return report(session, send(session.gate()));
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.NOT_FOUND, "no such node: the gate has never seen it").with(ExitCodes.REFUSED);
  }

  /** Prints one line per node result and returns the exit code they amount to. */
  static int report(CollectorSession session, List<NodeActionResult> results) {
    session.out().print(ActionResults.render(results, session.times()));
    int code = ActionResults.exitCode(results);
    if (code == ExitCodes.CALL_FAILED) {
      session.error(results.isEmpty() ? "the collector answered without a result"
          : "the collector answered with an outcome this client does not know; is it newer?");
    }
    return code;
  }

  /** Returns the result of a one-node call as a list: empty when the collector sent none. */
  static List<NodeActionResult> single(NodeActionResult result) {
    return result.equals(NodeActionResult.getDefaultInstance()) ? List.of() : List.of(result);
  }
}

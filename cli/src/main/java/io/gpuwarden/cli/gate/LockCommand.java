package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.CollectorSession;
import io.gpuwarden.cli.ExitCodeList;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.Times;
import io.gpuwarden.common.cli.DurationConverter;
import io.gpuwarden.proto.v1.GateServiceGrpc.GateServiceBlockingStub;
import io.gpuwarden.proto.v1.LockRequest;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.gpuwarden.proto.v1.WatchGateRequest;
import io.gpuwarden.proto.v1.WatchGateResponse;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gpuwarden lock ID... --reason R}: takes nodes out of service for maintenance. */
@Command(name = "lock", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Locks nodes for maintenance: they stop being allocatable until the work is completed and verified.",
        "The pool's budget and no-fly windows apply; with --wait a lock over budget is queued instead of refused."})
public final class LockCommand extends NodeAction {
  @Parameters(arity = "1..*", paramLabel = "ID", description = "Node ids.")
  List<String> nodeIds;

  @Mixin
  RequiredReason reason;

  @Option(names = "--expect-reboot", description = "Verification will require the node to have rebooted.")
  boolean expectReboot;

  @Option(names = "--wait", description = "Queue the lock when the pool is over budget or in a no-fly window.")
  boolean wait;

  @Option(names = "--wait-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "With --wait: wait this long for queued locks to be granted (default: return once queued).")
  Duration waitTimeout;

  @Override
  protected String done() {
    return "every node locked or queued (with --wait-timeout: locked)";
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.REFUSED, ExitCodes.meaning(ExitCodes.REFUSED)
        + "; or still queued when --wait-timeout passed");
  }

  @Override
  protected void checkCommandLine() {
    if (waitTimeout != null && !wait) {
      throw usage("--wait-timeout needs --wait");
    }
  }

  @Override
  protected List<NodeActionResult> send(GateServiceBlockingStub gate) {
    return gate.lock(LockRequest.newBuilder().addAllNodeIds(nodeIds).setReason(reason.text()).setExpectReboot(expectReboot)
        .setWait(wait).build()).getResultsList();
  }

  @Override
  protected int run(CollectorSession session) {
    List<NodeActionResult> results = send(session.gate());
    int code = report(session, results);
    List<String> queued = results.stream().filter(r -> r.getOutcome() == NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED)
        .map(NodeActionResult::getNodeId).toList();
    if (waitTimeout == null || queued.isEmpty()) {
      return code;
    }
    int waited = awaitGrant(session, queued);
    return code == ExitCodes.OK ? waited : code;
  }

  /** Watches the queued nodes until each is LOCKED or {@code --wait-timeout} passes. */
  private int awaitGrant(CollectorSession session, List<String> queued) {
    QueuedLockWatch watch = new QueuedLockWatch(queued);
    Instant until = Instant.now().plus(waitTimeout);
    session.out().println("waiting until " + session.times().format(until) + " (" + Times.duration(waitTimeout) + ") for "
        + String.join(", ", watch.waiting()) + " ...");
    session.out().flush();
    // The initial statuses cover a lock granted between the Lock answer and the start of the watch.
    WatchGateRequest request = WatchGateRequest.newBuilder().addAllNodeIds(queued).setSendInitial(true).build();
    Context.CancellableContext watching = Context.current().withCancellation();
    Context previous = watching.attach();
    try {
      Iterator<WatchGateResponse> changes = session.gate(waitTimeout).watchGate(request);
      while (!watch.done() && changes.hasNext()) {
        WatchGateResponse change = changes.next();
        if (watch.granted(change.getStatus())) {
          session.out().println(change.getStatus().getNodeId() + "  LOCKED  queued lock granted at "
              + session.times().format(Instant.now()));
          session.out().flush();
        }
      }
      if (watch.done()) {
        return ExitCodes.OK;
      }
      session.error("the collector ended the watch; " + watch.stillQueued());
      return ExitCodes.CALL_FAILED;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED) {
        throw e;
      }
      session.error("gave up waiting at " + session.times().format(Instant.now()) + " after " + Times.duration(waitTimeout)
          + "; " + watch.stillQueued());
      return ExitCodes.REFUSED;
    } finally {
      watching.detach(previous);
      watching.cancel(null);
    }
  }
}

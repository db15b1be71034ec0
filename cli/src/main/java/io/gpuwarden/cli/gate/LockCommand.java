package io.gpuwarden.cli.gate;

import io.gpuwarden.common.cli.DurationConverter;
import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.CollectorAddress;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.proto.v1.LockRequest;
import io.gpuwarden.proto.v1.LockResponse;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.gpuwarden.proto.v1.WatchGateRequest;
import io.gpuwarden.proto.v1.WatchGateResponse;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpuwarden lock ID... --reason R}: takes nodes out of service for maintenance. */
@Command(name = "lock", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Locks nodes for maintenance: they stop being allocatable until the work is completed and verified.",
        "The pool's budget and no-fly windows apply; with --wait a lock over budget is queued instead of refused."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:every node locked or queued", "1:collector unreachable or the call failed",
        "2:invalid command line or unreadable admin token", "3:no such node",
        "4:refused (the message says why), or still queued when --wait-timeout passed"})
public final class LockCommand implements Callable<Integer> {
  @Mixin
  CollectorAddress collector;

  @Mixin
  AdminToken adminToken;

  @Parameters(arity = "1..*", paramLabel = "ID", description = "Node ids.")
  List<String> nodeIds;

  @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why (recorded in the audit history).")
  String reason;

  @Option(names = "--expect-reboot", description = "Verification will require the node to have rebooted.")
  boolean expectReboot;

  @Option(names = "--wait", description = "Queue the lock when the pool is over budget or in a no-fly window.")
  boolean wait;

  @Option(names = "--wait-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "With --wait: wait this long for queued locks to be granted (default: return once queued).")
  Duration waitTimeout;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    if (waitTimeout != null && !wait) {
      spec.commandLine().getErr().println("gpuwarden lock: --wait-timeout needs --wait");
      spec.commandLine().getErr().flush();
      return ExitCodes.USAGE;
    }
    return GateClient.run(spec, collector, adminToken, c -> {
      LockResponse response = c.stub().lock(LockRequest.newBuilder().addAllNodeIds(nodeIds).setReason(reason)
          .setExpectReboot(expectReboot).setWait(wait).build());
      int code = c.report(response.getResultsList());
      List<String> queued = response.getResultsList().stream()
          .filter(r -> r.getOutcome() == NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED)
          .map(NodeActionResult::getNodeId).toList();
      if (waitTimeout == null || queued.isEmpty()) {
        return code;
      }
      int waited = awaitGrant(c, queued);
      return code == ExitCodes.OK ? waited : code;
    });
  }

  /** Watches the queued nodes until each is LOCKED or {@code --wait-timeout} passes. */
  private int awaitGrant(GateClient c, List<String> queued) {
    QueuedLockWatch watch = new QueuedLockWatch(queued);
    c.out.println("waiting up to " + GateFormat.duration(waitTimeout) + " for " + String.join(", ", watch.waiting()) + " ...");
    c.out.flush();
    // The initial statuses cover a lock granted between the Lock answer and the start of the watch.
    WatchGateRequest request = WatchGateRequest.newBuilder().addAllNodeIds(queued).setSendInitial(true).build();
    Context.CancellableContext watching = Context.current().withCancellation();
    Context previous = watching.attach();
    try {
      Iterator<WatchGateResponse> changes = c.stub(waitTimeout).watchGate(request);
      while (!watch.done() && changes.hasNext()) {
        WatchGateResponse change = changes.next();
        if (watch.granted(change.getStatus())) {
          c.out.println(change.getStatus().getNodeId() + "  LOCKED  queued lock granted");
          c.out.flush();
        }
      }
      if (watch.done()) {
        return ExitCodes.OK;
      }
      c.error("the collector ended the watch; " + watch.stillQueued());
      return ExitCodes.CALL_FAILED;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED) {
        throw e;
      }
      c.error("gave up waiting after " + GateFormat.duration(waitTimeout) + "; " + watch.stillQueued());
      return ExitCodes.REFUSED;
    } finally {
      watching.detach(previous);
      watching.cancel(null);
    }
  }
}

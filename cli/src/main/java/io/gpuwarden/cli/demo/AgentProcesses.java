package io.gpuwarden.cli.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Agent processes the demo started, one per simulated node. Each is told the demo's pid
 * ({@code --parent-pid}) so that it exits by itself should the demo die without cleaning up;
 * {@link #stopAll} sends SIGTERM, waits, then kills what is left. {@link #restart} stops one node's
 * agent and starts it again with the same command line, as a reboot of that node would.
 */
final class AgentProcesses {
  private static final long RESTART_GRACE_SECONDS = 10;

  /** What is needed to start a node's agent again: its command line, fake NVML state file and log. */
  private record Launch(List<String> command, Path stateFile, Path log) {}

  private final Map<String, Launch> launches = new LinkedHashMap<>();
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final List<Process> stopped = new ArrayList<>();
  private final Set<String> restarting = new HashSet<>();
  private boolean closed;

  /** Starts node {@code nodeId}'s agent: {@code command} with the fake NVML state file in its environment, output to {@code log}. */
  synchronized Process start(String nodeId, List<String> command, Path stateFile, Path log) throws IOException {
    if (closed) {
      throw new IllegalStateException("agent processes already stopped");
    }
    Launch launch = new Launch(List.copyOf(command), stateFile, log);
    Process p = launch(launch, false);
    launches.put(nodeId, launch);
    processes.put(nodeId, p);
    return p;
  }

  private static Process launch(Launch launch, boolean append) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(launch.command())
        .redirectErrorStream(true)
        .redirectOutput(append ? ProcessBuilder.Redirect.appendTo(launch.log().toFile())
            : ProcessBuilder.Redirect.to(launch.log().toFile()));
    pb.environment().put("GPUWARDEN_FAKE_NVML_STATE", launch.stateFile().toString());
    return pb.start();
  }

  /**
   * Restarts node {@code nodeId}'s agent: SIGTERM, up to 10 s to exit (then SIGKILL), {@code whileStopped}
   * (e.g. a new boot id), then the same command again, its output appended to the same log. Blocks for
   * as long as that takes; the node does not count as {@linkplain #exitedEarly exited early} meanwhile.
   *
   * @return the new process
   * @throws IllegalStateException when the demo is stopping, or the node has no agent
   */
  Process restart(String nodeId, Runnable whileStopped) throws IOException, InterruptedException {
    Process old;
    synchronized (this) {
      old = processes.get(nodeId);
      if (closed || old == null) {
        throw new IllegalStateException(closed ? "agent processes already stopped" : "no agent for " + nodeId);
      }
      restarting.add(nodeId);
    }
    try {
      old.descendants().forEach(ProcessHandle::destroy);
      old.destroy();
      if (!old.waitFor(RESTART_GRACE_SECONDS, TimeUnit.SECONDS)) {
        old.descendants().forEach(ProcessHandle::destroyForcibly);
        old.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      whileStopped.run();
      synchronized (this) {
        if (closed) {
          throw new IllegalStateException("agent processes already stopped");
        }
        Process p = launch(launches.get(nodeId), true);
        stopped.add(old);
        processes.put(nodeId, p);
        return p;
      }
    } finally {
      synchronized (this) {
        restarting.remove(nodeId);
      }
    }
  }

  /** Returns the nodes whose agent is not running though nobody is restarting it. */
  synchronized List<String> exitedEarly() {
    return processes.entrySet().stream()
        .filter(e -> !e.getValue().isAlive() && !restarting.contains(e.getKey()))
        .map(Map.Entry::getKey)
        .toList();
  }

  /** Stops every process: SIGTERM, up to {@code graceSeconds} to exit, then SIGKILL. No process starts afterwards. */
  synchronized void stopAll(long graceSeconds) {
    closed = true;
    List<Process> all = new ArrayList<>(processes.values());
    all.addAll(stopped);
    for (Process p : all) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
    for (Process p : all) {
      try {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}

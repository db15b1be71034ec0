package io.gpuwarden.collector.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Agent processes the demo started. Each is told the demo's pid ({@code --parent-pid}) so that it
 * exits by itself should the demo die without cleaning up; {@link #stopAll} sends SIGTERM, waits,
 * then kills what is left.
 */
final class AgentProcesses {
  private final List<Process> processes = new ArrayList<>();

  /** Starts {@code command} with the fake NVML state file in its environment, output to {@code log}. */
  synchronized Process start(List<String> command, Path stateFile, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("GPUWARDEN_FAKE_NVML_STATE", stateFile.toString());
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  /** Returns the processes still running. */
  synchronized List<Process> alive() {
    return processes.stream().filter(Process::isAlive).toList();
  }

  /** Returns every process started. */
  synchronized List<Process> all() {
    return List.copyOf(processes);
  }

  /** Stops every process: SIGTERM, up to {@code graceSeconds} to exit, then SIGKILL. */
  synchronized void stopAll(long graceSeconds) {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
    for (Process p : processes) {
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

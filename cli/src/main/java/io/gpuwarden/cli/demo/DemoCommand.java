package io.gpuwarden.cli.demo;

import io.gpuwarden.common.cli.DurationConverter;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.FleetTable;
import io.gpuwarden.cli.Times;
import io.gpuwarden.collector.gate.ReleaseGate;
import io.gpuwarden.nvml.EccCounterType;
import io.gpuwarden.nvml.MemoryErrorType;
import io.gpuwarden.nvml.MemoryLocation;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.ListNodesRequest;
import io.gpuwarden.proto.v1.Node;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpuwarden demo}: a collector plus N simulated 8-GPU hosts, each a real agent process
 * reading its own fake NVML library, the fleet and gate tables printed as they change, and a
 * {@linkplain RollingMaintenance rolling maintenance} through the release gate.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Starts a collector on loopback and N simulated H100 hosts (each a real agent process on the fake NVML",
        "library, with a changing load), and prints the fleet and release-gate tables every refresh.",
        "Once the fleet is HEALTHY it runs a rolling maintenance: it locks 25%% of the nodes within the pool's",
        "budget, reboots them one by one (new boot id) and reports each complete; the gate returns each to",
        "SERVING when it passes verification (10 s soak), and quarantines the last one, which comes back with",
        "an injected ECC fault. Gate transitions are printed as they happen. The scenario needs --nodes 4 or",
        "more and about 45-60 s. Stops by itself after --duration, or on Ctrl-C; either way it stops every",
        "process it started and deletes its files."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:ran, every simulated node reported all of its GPUs, and the rolling maintenance (when it ran)"
        + " ended with the healthy nodes SERVING and the faulty one QUARANTINED",
        "1:a node never reported (its agent log is printed), --duration ended before the rolling maintenance"
        + " finished, the maintenance ended otherwise, or the demo could not start",
        "2:invalid command line"})
public final class DemoCommand implements Callable<Integer> {
  /** Held so the level set on it is not lost when the logger would otherwise be collected. */
  private static final java.util.logging.Logger PROJECT_LOGGER = java.util.logging.Logger.getLogger("io.gpuwarden");
  private static final String DEFAULT_AGENT_JAVA_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xms16m -Xmx96m";
  /**
   * The agents' NVML call timeout. The fake never hangs, but N agent JVMs starting at once on a small
   * machine can take longer than the real default (2 s) for their first NVML calls; the agent would
   * then call NVML unusable (retrying only after 30 s) or a GPU unresponsive, which is not what the demo shows.
   */
  private static final String AGENT_NVML_TIMEOUT = "10s";

  /** The GPU the faulty node's injected ECC errors are on. */
  private static final int FAULTY_GPU = 3;

  @Option(names = "--nodes", paramLabel = "N", description = "Simulated hosts (default: ${DEFAULT-VALUE}).")
  int nodes = 8;

  @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Stop after this long, e.g. 75s (default: run until Ctrl-C). The rolling maintenance needs about 45-60 s.")
  Duration duration;

  @Option(names = "--interval", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Agents' sampling interval (default: 1s).")
  Duration interval = Duration.ofSeconds(1);

  @Option(names = "--refresh", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How often the table is printed (default: 2s).")
  Duration refresh = Duration.ofSeconds(2);

  @Option(names = "--port", paramLabel = "PORT",
      description = "Collector port on 127.0.0.1 (default: 0, a free port).")
  int port;

  @Spec
  CommandSpec spec;

  private final AtomicBoolean cleanedUp = new AtomicBoolean();

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (nodes < 1 || nodes > 256) {
      err.println("gpuwarden demo: --nodes must be 1..256, got " + nodes);
      return ExitCodes.USAGE;
    }
    DemoLayout layout;
    try {
      layout = DemoLayout.under(DemoLayout.home());
    } catch (IllegalStateException e) {
      err.println("gpuwarden demo: " + e.getMessage());
      return 1;
    }
    // The table is the demo's output; keep the collector's per-connection log lines out of it.
    PROJECT_LOGGER.setLevel(java.util.logging.Level.WARNING);
    Path work;
    CollectorServer collector;
    try {
      work = Files.createTempDirectory("gpuwarden-demo-");
      // The gate's database lives in the work directory, so it is deleted with the rest at the end.
      collector = CollectorServer.create(
          CollectorConfig.defaults().withListen("127.0.0.1", port).withStaleAfter(Duration.ofSeconds(5))
              .withDataDir(work.resolve("gate")).withGate(RollingMaintenance.gatePolicy(nodes)), Clock.systemUTC())
          .start();
    } catch (IOException | RuntimeException e) {
      err.println("gpuwarden demo: cannot start the collector: " + e.getMessage());
      return 1;
    }
    AgentProcesses agents = new AgentProcesses();
    GateTransitions transitions = new GateTransitions();
    collector.gate().addListener(transitions);
    Map<String, SimulatedHost> byId = new LinkedHashMap<>();
    RollingMaintenance maintenance = new RollingMaintenance(collector.gate(), nodes, simulatedHosts(byId, work, agents),
        Executors.newSingleThreadExecutor(r -> {
          Thread t = new Thread(r, "gpuwarden-demo-maintenance");
          t.setDaemon(true);
          return t;
        }), out, Clock.systemDefaultZone());
    Thread hook = new Thread(() -> cleanUp(maintenance, agents, collector, work), "gpuwarden-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", collector.port()).usePlaintext().build();
    try {
      List<SimulatedHost> hosts = startHosts(layout, work, collector.port(), agents);
      hosts.forEach(h -> byId.put(h.nodeId(), h));
      out.printf(Locale.ROOT, "gpuwarden demo: collector on 127.0.0.1:%d, %d simulated hosts (agent logs in %s)%n",
          collector.port(), nodes, work);
      out.println(maintenance.intro());
      out.flush();
      Instant end = duration == null ? Instant.MAX : Instant.now().plus(duration);
      Instant nextPrint = Instant.now().plus(refresh);
      while (Instant.now().isBefore(end)) {
        for (SimulatedHost h : hosts) {
          h.step();
        }
        // Transitions first, so that what the scenario prints follows the transitions that led to it.
        printTransitions(out, transitions, collector);
        maintenance.poll();
        printTransitions(out, transitions, collector);
        if (!Instant.now().isBefore(nextPrint)) {
          printFleet(out, channel);
          printGate(out, collector);
          // After a slow step (agents starting on a busy machine) skip ahead rather than print tables back to back.
          nextPrint = Instant.now().isAfter(nextPrint.plus(refresh)) ? Instant.now().plus(refresh) : nextPrint.plus(refresh);
        }
        List<String> exited = agents.exitedEarly();
        if (!exited.isEmpty()) {
          err.println("gpuwarden demo: an agent exited early (" + String.join(", ", exited) + "); see its log:");
          printLogs(err, work);
          return 1;
        }
        Duration left = Duration.between(Instant.now(), end);
        Thread.sleep(left.compareTo(interval) < 0 ? Math.max(0, left.toMillis()) : interval.toMillis());
      }
      printTransitions(out, transitions, collector);
      maintenance.poll();
      printTransitions(out, transitions, collector);
      List<Node> fleet = printFleet(out, channel);
      printGate(out, collector);
      int code = verify(fleet, hosts, err, work);
      Optional<String> failure = maintenance.failure();
      if (failure.isPresent()) {
        err.println("gpuwarden demo: " + failure.get());
        return 1;
      }
      return code;
    } catch (IOException | UncheckedIOException e) {
      err.println("gpuwarden demo: " + e.getMessage());
      return 1;
    } finally {
      channel.shutdownNow();
      cleanUp(maintenance, agents, collector, work);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down (Ctrl-C): the hook runs cleanUp, which is idempotent
      }
      out.flush();
      err.flush();
    }
  }

  private List<SimulatedHost> startHosts(DemoLayout layout, Path work, int collectorPort, AgentProcesses agents)
      throws IOException {
    FakeNvmlState template = FakeNvmlState.parse(layout.healthyState());
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String javaOpts = System.getProperty("gpuwarden.agentJavaOpts", DEFAULT_AGENT_JAVA_OPTS);
    List<SimulatedHost> hosts = new ArrayList<>();
    for (int i = 1; i <= nodes; i++) {
      String nodeId = String.format(Locale.ROOT, "demo-node-%02d", i);
      SimulatedHost host = new SimulatedHost(nodeId, i, template, work.resolve(nodeId + ".state"), 1000L + i);
      Path bootId = work.resolve(nodeId + ".boot_id");
      Files.writeString(bootId, String.format(Locale.ROOT, "00000000-0000-4000-8000-%012d%n", i));
      List<String> command = new ArrayList<>();
      command.add(java);
      command.addAll(Arrays.stream(javaOpts.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList());
      command.addAll(List.of("-jar", layout.agentJar().toString(),
          "--collector", "127.0.0.1:" + collectorPort,
          "--node-id", nodeId,
          "--pool", "demo",
          "--label", "rack=r" + ((i - 1) / 4 + 1),
          "--interval", interval.toMillis() + "ms",
          "--nvml-timeout", AGENT_NVML_TIMEOUT,
          "--nvml-lib", layout.fakeNvml().toString(),
          "--boot-id-file", bootId.toString(),
          "--state-dir", work.resolve(nodeId + "-state").toString(),
          "--sysfs-root", DemoInfiniband.write(work.resolve(nodeId + "-sys"), 8, i).toString(),
          "--expected-ib-ports", "8",
          "--expected-ib-rate", "400",
          "--kmsg", Files.writeString(work.resolve(nodeId + ".kmsg"), "").toString(),
          "--parent-pid", Long.toString(ProcessHandle.current().pid())));
      agents.start(nodeId, command, host.stateFile(), work.resolve(nodeId + ".log"));
      hosts.add(host);
    }
    return hosts;
  }

  /** The simulated hosts as the maintenance scenario acts on them: a reboot restarts the agent with a new boot id. */
  private static RollingMaintenance.Hosts simulatedHosts(Map<String, SimulatedHost> byId, Path work, AgentProcesses agents) {
    return new RollingMaintenance.Hosts() {
      @Override
      public String reboot(String nodeId, Runnable whileDown) throws IOException, InterruptedException {
        String bootId = UUID.randomUUID().toString();
        agents.restart(nodeId, () -> {
          try {
            Files.writeString(work.resolve(nodeId + ".boot_id"), bootId + "\n");
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          whileDown.run();
        });
        return bootId;
      }

      @Override
      public String injectFault(String nodeId) {
        SimulatedHost host = byId.get(nodeId);
        host.injectFault(b -> b.gpu(FAULTY_GPU, g -> g
            .eccErrors(EccCounterType.VOLATILE, MemoryErrorType.UNCORRECTED, MemoryLocation.DRAM, 2)
            .eccErrors(EccCounterType.AGGREGATE, MemoryErrorType.UNCORRECTED, MemoryLocation.DRAM, 2)));
        return "GPU " + FAULTY_GPU + " reports 2 volatile uncorrectable ECC errors (HBM)";
      }
    };
  }

  private static void printTransitions(PrintWriter out, GateTransitions transitions, CollectorServer collector) {
    List<String> lines = transitions.drain(collector.journal(), Times.forThisProcess());
    if (!lines.isEmpty()) {
      lines.forEach(out::println);
      out.flush();
    }
  }

  private static void printGate(PrintWriter out, CollectorServer collector) {
    ReleaseGate gate = collector.gate();
    out.printf(Locale.ROOT, "--- release gate ---%n");
    out.print(DemoGateTable.render(gate.budgets(""), gate.statuses(s -> true)));
    out.flush();
  }

  private List<Node> printFleet(PrintWriter out, ManagedChannel channel) {
    try {
      List<Node> fleet = FleetServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
          .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList();
      out.printf(Locale.ROOT, "%n--- fleet at %s: %d nodes, %d GPUs ---%n", Times.forThisProcess().format(Instant.now()),
          fleet.size(), fleet.stream().mapToInt(n -> n.getInventory().getGpusCount()).sum());
      out.print(FleetTable.render(fleet, Instant.now()));
      out.flush();
      return fleet;
    } catch (StatusRuntimeException e) {
      out.println("(fleet not available: " + e.getStatus() + ")");
      out.flush();
      return List.of();
    }
  }

  private int verify(List<Node> fleet, List<SimulatedHost> hosts, PrintWriter err, Path work) {
    List<String> missing = new ArrayList<>();
    for (SimulatedHost h : hosts) {
      boolean ok = fleet.stream().anyMatch(n -> n.getNodeId().equals(h.nodeId())
          && n.getInventory().getGpusCount() == 8 && n.getGpuSamplesCount() == 8);
      if (!ok) {
        missing.add(h.nodeId());
      }
    }
    if (missing.isEmpty()) {
      return ExitCodes.OK;
    }
    err.println("gpuwarden demo: these nodes never reported all 8 GPUs: " + missing);
    printLogs(err, work);
    return 1;
  }

  private static void printLogs(PrintWriter err, Path work) {
    try (Stream<Path> logs = Files.list(work)) {
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).sorted(Comparator.naturalOrder()).toList()) {
        err.println("==> " + log.getFileName() + " <==");
        List<String> lines = Files.readAllLines(log);
        lines.subList(Math.max(0, lines.size() - 20), lines.size()).forEach(err::println);
      }
    } catch (IOException e) {
      err.println("(cannot read agent logs: " + e.getMessage() + ")");
    }
  }

  private void cleanUp(RollingMaintenance maintenance, AgentProcesses agents, CollectorServer collector, Path work) {
    if (!cleanedUp.compareAndSet(false, true)) {
      return;
    }
    maintenance.close();
    agents.stopAll(10);
    collector.close();
    try {
      io.gpuwarden.common.FileTrees.delete(work);
    } catch (IOException e) {
      System.err.println("gpuwarden demo: could not delete " + work + ": " + e.getMessage());
    }
  }
}

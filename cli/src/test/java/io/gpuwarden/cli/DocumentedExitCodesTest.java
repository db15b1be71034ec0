package io.gpuwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.gpuwarden.proto.v1.GateState;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * For every exit code a client command's {@code --help} lists, a run of that command that exits with exactly that code.
 * The (command, code) pairs come from the commands' own help, so a code added to a help without a way here to produce
 * it fails the build.
 */
class DocumentedExitCodesTest {
  /** Commands that are not collector clients; their exit codes are their own and tested with them. */
  private static final List<String> NOT_CLIENTS = List.of("gpuwarden collector", "gpuwarden demo", "gpuwarden loadgen", "gpuwarden help");

  /** Nothing listens on port 1 of loopback; a connection is refused at once. */
  private static final String NO_COLLECTOR = "127.0.0.1:1";

  /** The command line (before --collector and the token) of a run with a given outcome; it may set the gate up first. */
  private interface Scenario extends Function<TestCollector, String[]> {}

  private static String[] args(String... args) {
    return args;
  }

  private static Scenario just(String... args) {
    return c -> args;
  }

  private static final Map<String, Map<Integer, Scenario>> SCENARIOS = Map.ofEntries(
      Map.entry("nodes", Map.of(
          ExitCodes.OK, just("nodes"),
          ExitCodes.NOT_FOUND, just("nodes", "--pool", "typo"))),
      Map.entry("node", Map.of(
          ExitCodes.OK, just("node", "c-1"),
          ExitCodes.NOT_FOUND, just("node", "ghost"))),
      Map.entry("gate", Map.of(
          ExitCodes.OK, just("gate"),
          ExitCodes.NOT_FOUND, just("gate", "ghost"))),
      Map.entry("lock", Map.of(
          ExitCodes.OK, just("lock", "c-1", "--reason", "swap PSU"),
          ExitCodes.NOT_FOUND, just("lock", "ghost", "--reason", "swap PSU"),
          ExitCodes.REFUSED, c -> {
            c.gate().lock(List.of("c-1"), "first", false, false, "test");
            return args("lock", "c-2", "--reason", "over budget");
          })),
      Map.entry("complete", Map.of(
          ExitCodes.OK, c -> {
            c.gate().lock(List.of("c-1"), "work", false, false, "test");
            return args("complete", "c-1");
          },
          ExitCodes.NOT_FOUND, just("complete", "ghost"),
          ExitCodes.REFUSED, just("complete", "c-1"))),
      Map.entry("release", Map.of(
          ExitCodes.OK, c -> {
            c.gate().lock(List.of("c-1"), "work", false, false, "test");
            return args("release", "c-1", "--force", "--reason", "stuck");
          },
          ExitCodes.NOT_FOUND, just("release", "ghost", "--force", "--reason", "stuck"),
          ExitCodes.REFUSED, just("release", "c-1", "--force", "--reason", "already serving"))),
      Map.entry("hold", Map.of(
          ExitCodes.OK, just("hold", "c-1", "--reason", "RMA"),
          ExitCodes.NOT_FOUND, just("hold", "ghost", "--reason", "RMA"),
          ExitCodes.REFUSED, c -> {
            c.gate().hold("c-1", "RMA", "test");
            return args("hold", "c-1", "--reason", "again");
          })),
      Map.entry("unhold", Map.of(
          ExitCodes.OK, c -> {
            c.gate().hold("c-1", "RMA", "test");
            return args("unhold", "c-1");
          },
          ExitCodes.NOT_FOUND, just("unhold", "ghost"),
          ExitCodes.REFUSED, just("unhold", "c-1"))),
      Map.entry("quarantine", Map.of(
          ExitCodes.OK, just("quarantine", "c-1", "--reason", "Xid 79"),
          ExitCodes.NOT_FOUND, just("quarantine", "ghost", "--reason", "Xid 79"),
          ExitCodes.REFUSED, c -> {
            c.gate().quarantine("c-1", "Xid 79", "test");
            return args("quarantine", "c-1", "--reason", "again");
          })),
      Map.entry("repair-done", Map.of(
          ExitCodes.OK, c -> {
            c.gate().quarantine("c-1", "Xid 79", "test");
            return args("repair-done", "c-1", "--reason", "reseated GPU 2");
          },
          ExitCodes.NOT_FOUND, just("repair-done", "ghost"),
          ExitCodes.REFUSED, just("repair-done", "c-1"))),
      Map.entry("history", Map.of(
          ExitCodes.OK, just("history", "c-1"),
          ExitCodes.NOT_FOUND, just("history", "ghost"))),
      Map.entry("nfz", Map.of(
          ExitCodes.USAGE, just("nfz"))),
      Map.entry("nfz add", Map.of(
          ExitCodes.OK, just("nfz", "add", "--pool", TestCollector.POOL, "--start", "+1h", "--end", "+2h", "--reason", "training"),
          ExitCodes.NOT_FOUND, just("nfz", "add", "--pool", "clj", "--start", "+1h", "--end", "+2h", "--reason", "training"))),
      Map.entry("nfz list", Map.of(
          ExitCodes.OK, just("nfz", "list"),
          ExitCodes.NOT_FOUND, just("nfz", "list", "--pool", "typo"))),
      Map.entry("nfz remove", Map.of(
          ExitCodes.OK, c -> {
            Instant now = Instant.now();
            String id = c.gate().addWindow(TestCollector.POOL, now.plus(Duration.ofHours(1)), now.plus(Duration.ofHours(2)),
                "training", "test").getId();
            return args("nfz", "remove", id);
          },
          ExitCodes.NOT_FOUND, just("nfz", "remove", "nfz-nope"))),
      Map.entry("budget", Map.of(
          ExitCodes.OK, just("budget"),
          ExitCodes.NOT_FOUND, just("budget", "--pool", "clj"))),
      Map.entry("budget set", Map.of(
          ExitCodes.OK, just("budget", "set", "--pool", TestCollector.POOL, "--max-nodes", "2", "--reason", "more hands"),
          ExitCodes.NOT_FOUND, just("budget", "set", "--pool", "clj", "--max-nodes", "2", "--reason", "more hands"))),
      Map.entry("budget reset-breaker", Map.of(
          ExitCodes.OK, just("budget", "reset-breaker", "--pool", TestCollector.POOL, "--reason", "rule fixed"),
          ExitCodes.NOT_FOUND, just("budget", "reset-breaker", "--pool", "clj", "--reason", "rule fixed"))));

  @TempDir
  Path dir;

  /** Every (client command, exit code) its help lists. */
  static Stream<Arguments> documentedCodes() {
    List<Arguments> pairs = new ArrayList<>();
    collect(GpuwardenMain.commandLine(), pairs);
    return pairs.stream();
  }

  private static void collect(CommandLine cl, List<Arguments> pairs) {
    String name = cl.getCommandSpec().qualifiedName();
    if (NOT_CLIENTS.contains(name)) {
      return;
    }
    if (cl.getParent() != null) {
      for (String code : cl.getCommandSpec().usageMessage().exitCodeList().keySet()) {
        pairs.add(Arguments.of(name.substring("gpuwarden ".length()), Integer.parseInt(code.strip())));
      }
    }
    cl.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, pairs));
  }

  private static CommandLine command(String verb) {
    CommandLine cl = GpuwardenMain.commandLine();
    for (String word : verb.split(" ")) {
      cl = cl.getSubcommands().get(word);
    }
    return cl;
  }

  @Test
  void everyCommandButTheServerTheDemoAndHelpListsItsExitCodesFromTheTable() {
    List<String> clients = new ArrayList<>();
    documentedCodes().forEach(a -> clients.add((String) a.get()[0]));
    assertThat(clients).containsAll(SCENARIOS.keySet());
    assertThat(SCENARIOS.keySet()).containsAll(clients);
    for (String verb : SCENARIOS.keySet()) {
      assertThat((Object) command(verb).getCommand()).as(verb).isInstanceOf(ExitCodeList.Source.class);
      assertThat(command(verb).getCommandSpec().usageMessage().exitCodeList().values())
          .as(verb).allSatisfy(meaning -> assertThat(meaning).isNotBlank());
    }
  }

  @ParameterizedTest(name = "{0} exits {1}")
  @MethodSource("documentedCodes")
  void exitsWithEveryCodeItsHelpLists(String verb, int code) throws Exception {
    CommandLine cl = command(verb);
    boolean client = cl.getCommand() instanceof ClientCommand;
    boolean admin = cl.getCommandSpec().findOption("--admin-token-file") != null;
    Map<Integer, Scenario> scenarios = SCENARIOS.getOrDefault(verb, Map.of());
    try (TestCollector collector = TestCollector.start(dir.resolve("collector"))) {
      switch (code) {
        case ExitCodes.OK, ExitCodes.NOT_FOUND, ExitCodes.REFUSED -> {
          Scenario s = scenarios.get(code);
          if (s == null) {
            fail("'" + verb + " --help' lists exit code " + code + " but no test here makes it exit so");
          }
          CommandRun run = run(s.apply(collector), collector.address(), admin ? collector.adminTokens() : null);
          assertThat(run.code()).as("%s exit code; out: %s err: %s", verb, run.out(), run.err()).isEqualTo(code);
          if (code == ExitCodes.NOT_FOUND) {
            assertThat(run.all()).contains("NOT_FOUND");
          }
        }
        case ExitCodes.USAGE -> {
          String[] valid = validArgs(verb, collector);
          CommandRun run = client ? run(concat(valid, "--no-such-option"), collector.address(), null)
              : CommandRun.of(valid);
          assertThat(run.code()).as("%s with a bad option; err: %s", verb, run.err()).isEqualTo(ExitCodes.USAGE);
          if (client) {
            assertThat(run.err()).contains("--no-such-option");
            try (FakeCollector fake = FakeCollector.answering(Status.INVALID_ARGUMENT.withDescription("bad request"))) {
              CommandRun invalid = run(valid, fake.address(), admin ? collector.adminTokens() : null);
              assertThat(invalid.code()).as("%s answered INVALID_ARGUMENT; err: %s", verb, invalid.err())
                  .isEqualTo(ExitCodes.USAGE);
              assertThat(invalid.err()).contains("INVALID_ARGUMENT: bad request");
            }
          }
        }
        case ExitCodes.CALL_FAILED -> {
          String[] valid = validArgs(verb, collector);
          try (FakeCollector fake = FakeCollector.answering(
              Status.UNAVAILABLE.withDescription("gate store write failed, nothing changed: disk full"))) {
            CommandRun run = run(valid, fake.address(), admin ? collector.adminTokens() : null);
            assertThat(run.code()).as("%s when the collector's store fails; err: %s", verb, run.err())
                .isEqualTo(ExitCodes.CALL_FAILED);
            assertThat(run.err()).contains("UNAVAILABLE: gate store write failed, nothing changed: disk full");
          }
        }
        case ExitCodes.AUTH -> {
          Path wrong = Files.writeString(dir.resolve("wrong-token"), "0000000000000000000000000\n");
          CommandRun run = run(validArgs(verb, collector), collector.address(), wrong);
          assertThat(run.code()).as("%s with a token the collector does not know; err: %s", verb, run.err())
              .isEqualTo(ExitCodes.AUTH);
          assertThat(run.err()).contains("UNAUTHENTICATED").contains(wrong.toString());
        }
        case ExitCodes.UNREACHABLE -> {
          CommandRun run = run(validArgs(verb, collector), NO_COLLECTOR, admin ? collector.adminTokens() : null);
          assertThat(run.code()).as("%s with no collector; err: %s", verb, run.err()).isEqualTo(ExitCodes.UNREACHABLE);
          assertThat(run.err()).contains("cannot reach the collector at " + NO_COLLECTOR);
        }
        default -> fail("'" + verb + " --help' lists exit code " + code + ", which is not in the ExitCodes table");
      }
    }
  }

  private static String[] validArgs(String verb, TestCollector collector) {
    Scenario s = SCENARIOS.getOrDefault(verb, Map.of()).get(ExitCodes.OK);
    if (s == null) {
      s = SCENARIOS.get(verb).values().iterator().next();
    }
    return s.apply(collector);
  }

  private static CommandRun run(String[] args, String address, Path tokenFile) {
    String[] withAddress = concat(args, "--collector", address);
    return CommandRun.of(tokenFile == null ? withAddress : concat(withAddress, "--admin-token-file", tokenFile.toString()));
  }

  private static String[] concat(String[] args, String... more) {
    String[] all = new String[args.length + more.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return all;
  }

  @Test
  void scenariosReallyChangedTheGateOnlyWhenTheyShould() {
    // A spot check that the runs above act on the collector they name: a lock that exits 0 locks.
    try (TestCollector collector = TestCollector.start(dir.resolve("spot"))) {
      CommandRun run = run(args("lock", "c-3", "--reason", "spot check"), collector.address(), collector.adminTokens());
      assertThat(run.code()).as(run.err()).isZero();
      assertThat(collector.gate().status("c-3").orElseThrow().getState()).isEqualTo(GateState.GATE_STATE_LOCKED);
    }
  }
}

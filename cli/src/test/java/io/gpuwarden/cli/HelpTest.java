package io.gpuwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * {@code --help} of every command and subcommand prints its usage and nothing else: no {@code [picocli WARN]} (a
 * description picocli cannot format) and nothing on standard error, including the JVM's, where picocli's tracer writes.
 */
class HelpTest {
  /** Every command path under {@code gpuwarden}, the top level included (as the empty path). */
  static Stream<String> commands() {
    List<String> paths = new ArrayList<>();
    collect(GpuwardenMain.commandLine(), "", paths);
    return paths.stream();
  }

  private static void collect(CommandLine cl, String path, List<String> paths) {
    paths.add(path);
    cl.getSubcommands().forEach((name, sub) -> {
      if (sub.getCommandName().equals(name)) {
        collect(sub, (path + " " + name).strip(), paths);
      }
    });
  }

  @ParameterizedTest(name = "gpuwarden {0} --help")
  @MethodSource("commands")
  void helpPrintsUsageAndNoWarnings(String path) {
    List<String> args = new ArrayList<>(path.isEmpty() ? List.of() : Arrays.asList(path.split(" ")));
    args.add("--help");
    PrintStream systemErr = System.err;
    ByteArrayOutputStream jvmErr = new ByteArrayOutputStream();
    CommandRun run;
    System.setErr(new PrintStream(jvmErr, true, StandardCharsets.UTF_8));
    try {
      run = CommandRun.of(args.toArray(String[]::new));
    } finally {
      System.setErr(systemErr);
    }

    assertThat(run.code()).isZero();
    assertThat(run.out()).contains("Usage: gpuwarden" + (path.isEmpty() ? "" : " " + path)).doesNotContain("[picocli");
    assertThat(run.err()).isEmpty();
    assertThat(jvmErr.toString(StandardCharsets.UTF_8)).isEmpty();
  }
}

package io.gpuwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The "Commands" section of {@code collector/GATE.md} and the README's exit code line say what the program does:
 * the same exit code table, each command's codes as its {@code --help} lists them (which
 * {@link DocumentedExitCodesTest} proves by running it), flags the command has, and the defaults it uses.
 */
class GateDocTest {
  private static final Pattern ROW = Pattern.compile("^\\| `gpuwarden ([^`]+)` \\| [^|]+ \\| ([0-9, ]+) \\|$");
  private static final Pattern CODE_ROW = Pattern.compile("^\\| (\\d) \\| .+ \\|$");
  private static final Pattern FLAG = Pattern.compile("--[a-z][a-z-]*");

  private static String commands;
  private static String readme;

  @BeforeAll
  static void read() throws Exception {
    Path home = Path.of(System.getProperty("gpuwarden.home", "..")).toAbsolutePath().normalize();
    String gate = Files.readString(home.resolve("collector/GATE.md"));
    int start = gate.indexOf("\n## Commands\n");
    assertThat(start).as("GATE.md has a Commands section").isPositive();
    int end = gate.indexOf("\n## ", start + 1);
    commands = end < 0 ? gate.substring(start) : gate.substring(start, end);
    readme = Files.readString(home.resolve("README.md"));
  }

  @Test
  void theExitCodeTableIsTheProgramsTable() {
    List<Integer> documented = commands.lines().map(CODE_ROW::matcher).filter(Matcher::matches)
        .map(m -> Integer.parseInt(m.group(1))).toList();

    assertThat(documented).containsExactlyElementsOf(ExitCodes.table().keySet());
  }

  @Test
  void everyCommandRowListsTheCodesOfItsHelpAndOnlyFlagsTheCommandHas() {
    Set<String> documented = new LinkedHashSet<>();
    for (String line : commands.lines().toList()) {
      Matcher m = ROW.matcher(line);
      if (!m.matches()) {
        continue;
      }
      List<String> words = List.of(m.group(1).split(" "));
      CommandLine cl = GpuwardenMain.commandLine();
      List<String> path = new ArrayList<>();
      for (String w : words) {
        CommandLine sub = cl.getSubcommands().get(w);
        if (sub == null) {
          break;
        }
        cl = sub;
        path.add(w);
      }
      String verb = String.join(" ", path);
      documented.add(verb);
      Set<Integer> codes = new TreeSet<>();
      for (String c : m.group(2).split(",")) {
        codes.add(Integer.parseInt(c.strip()));
      }
      Set<Integer> help = new TreeSet<>();
      cl.getCommandSpec().usageMessage().exitCodeList().keySet().forEach(k -> help.add(Integer.parseInt(k.strip())));
      assertThat(codes).as("GATE.md exit codes of '%s'", verb).isEqualTo(help);
      Matcher flags = FLAG.matcher(m.group(1));
      while (flags.find()) {
        assertThat(cl.getCommandSpec().findOption(flags.group())).as("'%s' has %s as GATE.md says", verb, flags.group())
            .isNotNull();
      }
    }
    List<String> clients = DocumentedExitCodesTest.documentedCodes().map(a -> (String) a.get()[0]).distinct()
        .filter(v -> !v.equals("nfz")).toList();
    assertThat(documented).as("commands in GATE.md").containsAll(clients);
  }

  @Test
  void theDefaultsTheDocNamesAreTheOnesUsed() {
    assertThat(commands).contains("default `localhost:7700`").contains("default `5s`");
    CommandLine cl = GpuwardenMain.commandLine();
    cl.parseArgs("gate");
    CommandLine gate = cl.getSubcommands().get("gate");
    CollectorAddress address = ((ClientCommand) gate.getCommand()).collector.withEnvironment(Map.<String, String>of()::get);
    assertThat(address.target()).isEqualTo("localhost:7700");
    assertThat(address.timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(address.withEnvironment(Map.of("GPUWARDEN_COLLECTOR", "c:1")::get).target()).isEqualTo("c:1");
  }

  @Test
  void theReadmeListsTheSameExitCodes() {
    int at = readme.indexOf("The client commands share one table:");
    assertThat(at).isPositive();
    String sentence = readme.substring(at, readme.indexOf("([", at));
    List<Integer> codes = new ArrayList<>();
    Matcher m = Pattern.compile("(?<=[:,] |\\n)(\\d) ").matcher(sentence);
    while (m.find()) {
      codes.add(Integer.parseInt(m.group(1)));
    }
    assertThat(codes).containsExactlyElementsOf(ExitCodes.table().keySet());
  }
}

package io.gpuwarden.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.gpuwarden.agent.AgentMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * packaging/agent.yaml, the sample config, can never go stale: it lists every option of every agent
 * command (from picocli's model, so an option added later fails this test until it is documented),
 * each with a comment giving its default, and every line of it is accepted.
 */
class AgentYamlSampleTest {
  /** A key line, set ({@code pool: default}) or shown commented out ({@code # pool: default}). */
  private static final Pattern KEY_LINE = Pattern.compile("^(# )?([a-z][a-z0-9-]*):( .*)?$");

  @TempDir
  Path dir;

  private static Path sample() {
    return Path.of(System.getProperty("gpuwarden.packagingDir", "../packaging"), "agent.yaml");
  }

  /** Every option a file can set, across the daemon and its subcommands, by key. */
  private static Map<String, OptionSpec> options() {
    Map<String, OptionSpec> out = new LinkedHashMap<>();
    CommandSpec root = AgentMain.commandLine().getCommandSpec();
    out.putAll(ConfigKeys.of(root));
    root.subcommands().values().forEach(sub -> ConfigKeys.of(sub.getCommandSpec()).forEach(out::putIfAbsent));
    return out;
  }

  /** Key to the index of its line in the sample. */
  private static Map<String, Integer> keyLines(List<String> lines) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = KEY_LINE.matcher(lines.get(i));
      if (m.matches()) {
        out.put(m.group(2), i);
      }
    }
    return out;
  }

  @Test
  void sampleListsEveryOptionWithItsDefault() throws IOException {
    List<String> lines = Files.readAllLines(sample());
    Map<String, Integer> present = keyLines(lines);
    List<String> missing = new ArrayList<>();
    options().forEach((key, option) -> {
      Integer at = present.get(key);
      if (at == null || !commentAbove(lines, at).contains("Default")) {
        missing.add("# " + String.join(" ", option.description()) + " Default: " + option.defaultValueString() + "\n# "
            + key + ": ...");
      }
    });
    assertThat(missing).as("options missing from %s, or without 'Default:' in the comment above them", sample())
        .isEmpty();
  }

  private static String commentAbove(List<String> lines, int keyLine) {
    StringBuilder s = new StringBuilder();
    for (int i = keyLine - 1; i >= 0 && lines.get(i).startsWith("#") && !KEY_LINE.matcher(lines.get(i)).matches(); i--) {
      s.insert(0, lines.get(i) + "\n");
    }
    return s.toString();
  }

  @Test
  void sampleHasNoKeyTheAgentDoesNotKnow() throws IOException {
    assertThat(options().keySet()).containsAll(keyLines(Files.readAllLines(sample())).keySet());
  }

  @Test
  void sampleAsShippedAndWithEveryLineUncommentedIsAccepted() throws IOException {
    Path uncommented = dir.resolve("agent.yaml");
    Files.write(uncommented, Files.readAllLines(sample()).stream()
        .map(l -> KEY_LINE.matcher(l).matches() && l.startsWith("# ") ? l.substring(2) : l).toList());
    for (Path file : List.of(sample(), uncommented)) {
      assertThatCode(() -> AgentMain.commandLine().parseArgs("--config", file.toString())).doesNotThrowAnyException();
      assertThatCode(() -> AgentMain.commandLine().parseArgs("check", "--config", file.toString()))
          .doesNotThrowAnyException();
    }
    CommandSpec daemon = AgentMain.commandLine().parseArgs("--config", uncommented.toString()).commandSpec();
    assertThat(daemon.findOption("--expected-gpus").<Integer>getValue()).isEqualTo(8);
    assertThat(daemon.findOption("--label").<Map<String, String>>getValue()).containsEntry("rack", "r12");
  }
}

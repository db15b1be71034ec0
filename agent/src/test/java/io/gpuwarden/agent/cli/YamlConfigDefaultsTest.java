package io.gpuwarden.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.agent.AgentMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** {@code --config FILE}: YAML values become option defaults, flags win, and mistakes are refused with the key. */
class YamlConfigDefaultsTest {
  @TempDir
  Path dir;

  private Path yaml(String... lines) throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }

  /** Parses {@code args} with a fresh agent command line; returns the spec of the command that ran. */
  private static CommandSpec parse(String... args) {
    CommandLine.ParseResult r = AgentMain.commandLine().parseArgs(args);
    return (r.hasSubcommand() ? r.subcommand() : r).commandSpec();
  }

  private static Object value(CommandSpec spec, String option) {
    return spec.findOption(option).getValue();
  }

  @Test
  void fileValuesBecomeTheDaemonsDefaults() throws IOException {
    Path f = yaml("collector: collector.example:7700", "node-id: gpu-017", "expected-gpus: 8", "expected-ib-rate: 400",
        "interval: 500ms", "label: {rack: r12, row: 3}", "disable-check: [persistence-mode, nvlink]",
        "syslog: [/var/log/kern.log, /var/log/syslog]", "forward-log-rate: 20");
    CommandSpec spec = parse("--config", f.toString());
    assertThat(value(spec, "--collector")).isEqualTo("collector.example:7700");
    assertThat(value(spec, "--node-id")).isEqualTo("gpu-017");
    assertThat(value(spec, "--expected-gpus")).isEqualTo(8);
    assertThat(value(spec, "--expected-ib-rate")).isEqualTo(400.0);
    assertThat(value(spec, "--interval")).isEqualTo(Duration.ofMillis(500));
    assertThat(value(spec, "--label")).isEqualTo(Map.of("rack", "r12", "row", "3"));
    assertThat(value(spec, "--disable-check")).isEqualTo(List.of("persistence-mode", "nvlink"));
    assertThat(value(spec, "--syslog")).isEqualTo(List.of(Path.of("/var/log/kern.log"), Path.of("/var/log/syslog")));
    assertThat(value(spec, "--forward-log-rate")).isEqualTo(20.0);
  }

  @Test
  void commandLineFlagsWinOverTheFile() throws IOException {
    Path f = yaml("node-id: from-file", "disable-check: [xid]", "label: [rack=r12]", "pool: file-pool");
    CommandSpec spec = parse("--node-id", "from-flag", "--config", f.toString(), "--disable-check", "ecc", "--label", "a=b");
    assertThat(value(spec, "--node-id")).isEqualTo("from-flag");
    assertThat(value(spec, "--disable-check")).isEqualTo(List.of("ecc"));
    assertThat(value(spec, "--label")).isEqualTo(Map.of("a", "b"));
    assertThat(value(spec, "--pool")).isEqualTo("file-pool");
  }

  @Test
  void oneFileServesTheDaemonAndTheCheck() throws IOException {
    Path f = yaml("collector: c:7700", "pool: h100-a", "timeout: 3s", "json: true", "node-id: gpu-017");
    CommandSpec check = parse("check", "--config", f.toString());
    assertThat(value(check, "--timeout")).isEqualTo(Duration.ofSeconds(3));
    assertThat(value(check, "--json")).isEqualTo(true);
    assertThat(value(check, "--node-id")).isEqualTo("gpu-017");
    CommandSpec daemon = parse("--config", f.toString());
    assertThat(value(daemon, "--pool")).isEqualTo("h100-a");
  }

  @Test
  void withoutConfigTheBuiltInDefaultsStay() {
    CommandSpec spec = parse();
    assertThat(value(spec, "--pool")).isEqualTo("default");
    assertThat(value(spec, "--disable-check")).isEqualTo(List.of());
  }

  @Test
  void unknownKeyIsRefusedWithTheFileTheKeyAndTheKnownKeys() throws IOException {
    Path f = yaml("colector: c:7700");
    assertThatThrownBy(() -> parse("--config", f.toString()))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("config " + f)
        .hasMessageContaining("key 'colector': unknown key")
        .hasMessageContaining("known keys: boot-id-file, check-config, classifier-rules, cluster, collector");
  }

  @Test
  void wrongTypesAreRefusedWithTheKey() throws IOException {
    assertThatThrownBy(() -> parse("--config", yaml("expected-gpus: eight").toString()))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("key 'expected-gpus'").hasMessageContaining("'eight' is not an int")
        .hasMessageContaining("known keys:");
    assertThatThrownBy(() -> parse("--config", yaml("node-id: [a, b]").toString()))
        .hasMessageContaining("key 'node-id': expected one value (ID), found a list");
    assertThatThrownBy(() -> parse("--config", yaml("interval: soon").toString()))
        .hasMessageContaining("key 'interval'").hasMessageContaining("invalid duration 'soon'");
    assertThatThrownBy(() -> parse("--config", yaml("label: [rack]").toString()))
        .hasMessageContaining("key 'label'").hasMessageContaining("KEY=VALUE");
    assertThatThrownBy(() -> parse("check", "--config", yaml("timeout: {a: 1}").toString()))
        .hasMessageContaining("key 'timeout': expected one value (DURATION), found a map");
  }

  @Test
  void brokenFilesAreRefusedWithTheFile() throws IOException {
    assertThatThrownBy(() -> parse("--config", yaml("pool: a", "pool: b").toString()))
        .hasMessageContaining("is not valid YAML").hasMessageContaining("duplicate key pool");
    assertThatThrownBy(() -> parse("--config", yaml("- a", "- b").toString()))
        .hasMessageContaining("expected 'key: value' lines at the top level, found a list");
    assertThatThrownBy(() -> parse("--config", dir.resolve("missing.yaml").toString()))
        .hasMessageContaining("cannot read config " + dir.resolve("missing.yaml"));
  }

  @Test
  void emptyFileAndEmptyValuesSetNothing() throws IOException {
    assertThat(value(parse("--config", yaml("").toString()), "--pool")).isEqualTo("default");
    assertThat(value(parse("--config", yaml("pool:", "node-id: x").toString()), "--pool")).isEqualTo("default");
  }

  @Test
  void theCheckExitsWithAUsageErrorNamingTheKey() throws IOException {
    java.io.StringWriter err = new java.io.StringWriter();
    CommandLine cl = AgentMain.commandLine();
    cl.setErr(new java.io.PrintWriter(err, true));
    int code = cl.execute("check", "--config", yaml("expected-gpu: 8").toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("key 'expected-gpu': unknown key").contains("expected-gpus");
  }
}

package io.gpuwarden.cli.e2e;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts the built jars as real processes, the way the launcher does. */
final class Processes {
  private Processes() {}

  static Path home() {
    return Path.of(System.getProperty("gpuwarden.home", "..")).toAbsolutePath().normalize();
  }

  static Path agentJar() {
    return home().resolve("agent/target/gpuwarden-agent.jar");
  }

  static Path collectorJar() {
    return home().resolve("cli/target/gpuwarden-collector.jar");
  }

  static String java() {
    return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /** A java command line running {@code jar} with {@code args}. */
  static List<String> javaJar(Path jar, String... args) {
    return javaJar(List.of("-Xmx96m"), jar, args);
  }

  /** A java command line running {@code jar} with {@code args} and extra JVM options (e.g. a heap cap). */
  static List<String> javaJar(List<String> jvmOptions, Path jar, String... args) {
    List<String> cmd = new ArrayList<>(List.of(java(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    cmd.addAll(jvmOptions);
    cmd.add("-Dgpuwarden.home=" + home());
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(List.of(args));
    return cmd;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

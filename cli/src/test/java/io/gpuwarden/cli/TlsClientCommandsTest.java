package io.gpuwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.cli.GpuwardenMain;
import io.gpuwarden.collector.security.TestPki;
import io.gpuwarden.collector.security.TlsConfig;
import io.gpuwarden.proto.v1.AgentHello;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The operator commands against a collector serving TLS. */
class TlsClientCommandsTest {
  @TempDir
  Path tmp;

  private TestPki pki;
  private CollectorServer server;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws Exception {
    pki = TestPki.create(tmp, "fleet");
    TestPki.Issued cert = pki.server();
    server = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0)
        .withTls(TlsConfig.of(cert.cert(), cert.key())), Clock.systemUTC()).start();
    server.registry().hello(AgentHello.newBuilder().setNodeId("gpu-007").setPool("h100-a").setStreamId("s").setBootId("b").build());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private int run(String... args) {
    CommandLine cl = GpuwardenMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void nodesWorksOverTlsWithTheFleetCa() {
    assertThat(run("nodes", "--collector", "127.0.0.1:" + server.port(), "--tls-ca", pki.caPem().toString())).isZero();
    assertThat(out.toString()).contains("gpu-007");
  }

  @Test
  void nodesWorksWithAServerNameOverride() {
    assertThat(run("nodes", "--collector", "127.0.0.1:" + server.port(), "--tls-ca", pki.caPem().toString(),
        "--tls-server-name", "localhost")).isZero();
    assertThat(out.toString()).contains("gpu-007");
  }

  @Test
  void plaintextToATlsCollectorCannotReachIt() {
    assertThat(run("nodes", "--collector", "127.0.0.1:" + server.port(), "--timeout", "2s")).isEqualTo(ExitCodes.UNREACHABLE);
    assertThat(err.toString()).contains("cannot reach the collector at 127.0.0.1:" + server.port());
    assertThat(out.toString()).doesNotContain("gpu-007");
  }

  @Test
  void anUnreadableCaIsAUsageError() {
    assertThat(run("nodes", "--collector", "127.0.0.1:" + server.port(), "--tls-ca", tmp.resolve("missing.pem").toString()))
        .isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("cannot set up TLS").contains("missing.pem");
  }

  @Test
  void theCaFromTheEnvironmentTurnsTlsOn() {
    CollectorAddress address = new CollectorAddress()
        .withEnvironment(Map.of(CollectorAddress.ENV_TLS_CA, pki.caPem().toString())::get);
    assertThat(address.clientTls()).hasValueSatisfying(t -> assertThat(t.trustCa()).contains(pki.caPem()));
    assertThat(new CollectorAddress().withEnvironment(Map.<String, String>of()::get).clientTls()).isEmpty();
  }
}

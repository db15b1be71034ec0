package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.common.tls.ClientTls;
import io.gpuwarden.agent.tls.UplinkSecurity;
import io.gpuwarden.agent.uplink.IngestUplink;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.security.TestPki;
import io.gpuwarden.collector.security.TlsConfig;
import io.gpuwarden.collector.security.TlsConfig.ClientAuth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real agents (in this JVM, on the fake NVML) against a real collector on loopback with TLS, mTLS
 * and agent tokens: who gets in, who is refused, and with which status the agent learns it.
 */
class TransportSecurityTest {
  @TempDir
  Path tmp;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private TestPki pki;
  private TestPki.Issued server;

  @BeforeEach
  void pki() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    pki = TestPki.create(tmp, "fleet");
    server = pki.server();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private CollectorServer collector(CollectorConfig config) throws Exception {
    CollectorServer c = CollectorServer.create(config.withListen("127.0.0.1", 0), Clock.systemUTC()).start();
    toClose.add(c);
    return c;
  }

  private CollectorServer tlsCollector() throws Exception {
    return collector(CollectorConfig.defaults().withTls(TlsConfig.of(server.cert(), server.key())));
  }

  private CollectorServer mtlsCollector(ClientAuth auth) throws Exception {
    return collector(CollectorConfig.defaults().withTls(TlsConfig.of(server.cert(), server.key()).withClientCa(pki.caPem(), auth)));
  }

  private ClientTls trustingFleetCa() {
    return ClientTls.systemTrust().withTrustCa(pki.caPem());
  }

  private Agent agent(String nodeId, CollectorServer c, UplinkSecurity security) throws Exception {
    Agent a = Agent.start(E2eAgents.config(tmp, nodeId, "tls", "127.0.0.1:" + c.port())
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
        .security(security)
        .build());
    toClose.add(a);
    return a;
  }

  private static UplinkSecurity tls(ClientTls tls) {
    return new UplinkSecurity(Optional.of(tls), Optional.empty());
  }

  private Path tokenFile(String name, String token) throws Exception {
    return Files.writeString(tmp.resolve(name), token + "\n");
  }

  /** Waits until the agent delivered batches that the collector registered under {@code nodeId}. */
  private static void awaitDelivered(CollectorServer c, Agent a, String nodeId) {
    await().atMost(Duration.ofSeconds(10)).until(() -> a.uplink().connected() && a.uplink().acknowledgedSequence() >= 2);
    assertThat(c.registry().get(nodeId, true)).hasValueSatisfying(n -> assertThat(n.getLastSequence()).isPositive());
  }

  /** Waits for a few refused attempts, then checks nothing got through; returns the agent's last error. */
  private static String awaitRefused(CollectorServer c, Agent a, String nodeId) {
    await().atMost(Duration.ofSeconds(10)).until(() -> a.uplink().reconnects() >= 3);
    assertThat(a.uplink().connected()).isFalse();
    assertThat(a.uplink().acknowledgedSequence()).isZero();
    assertThat(c.registry().get(nodeId, true)).isEmpty();
    assertThat(c.registry().list(n -> true, false)).isEmpty();
    return a.uplink().lastError();
  }

  @Test
  void tlsWithServerAuthenticationOnlyConnectsByIpAddressAndDelivers() throws Exception {
    CollectorServer c = tlsCollector();
    Agent a = agent("gpu-001", c, tls(trustingFleetCa()));
    awaitDelivered(c, a, "gpu-001");
  }

  @Test
  void aPkcs1RsaServerKeyWorksAndServerNameOverridesTheHostChecked() throws Exception {
    TestPki.Issued rsa = pki.serverWithPkcs1Key();
    assertThat(Files.readString(rsa.key())).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    CollectorServer c = collector(CollectorConfig.defaults().withTls(TlsConfig.of(rsa.cert(), rsa.key())));
    Agent a = agent("gpu-001", c, tls(trustingFleetCa().withServerName("localhost")));
    awaitDelivered(c, a, "gpu-001");
  }

  @Test
  void aServerNameTheCertificateDoesNotCarryFailsHostnameVerification() throws Exception {
    CollectorServer c = tlsCollector();
    Agent a = agent("gpu-001", c, tls(trustingFleetCa().withServerName("collector.elsewhere.example")));
    assertThat(awaitRefused(c, a, "gpu-001")).startsWith("UNAVAILABLE");
  }

  @Test
  void anAgentTrustingAnotherCaRefusesTheCollector() throws Exception {
    CollectorServer c = tlsCollector();
    TestPki other = TestPki.create(tmp, "other");
    Agent a = agent("gpu-001", c, tls(ClientTls.systemTrust().withTrustCa(other.caPem())));
    assertThat(awaitRefused(c, a, "gpu-001")).startsWith("UNAVAILABLE");
  }

  @Test
  void plaintextAgentCannotTalkToATlsCollector() throws Exception {
    CollectorServer c = tlsCollector();
    Agent a = agent("gpu-001", c, UplinkSecurity.plaintext());
    assertThat(awaitRefused(c, a, "gpu-001")).startsWith("UNAVAILABLE");
  }

  @Test
  void mtlsConnectsAndTakesTheNodeIdentityFromTheCertificate() throws Exception {
    CollectorServer c = mtlsCollector(ClientAuth.REQUIRE);
    TestPki.Issued cert = pki.client("gpu-001");
    Agent a = agent("gpu-001", c, tls(trustingFleetCa().withClientCertificate(cert.cert(), cert.key())));
    awaitDelivered(c, a, "gpu-001");
  }

  @Test
  void theFirstDnsNameOfTheCertificateWinsOverItsCommonName() throws Exception {
    CollectorServer c = mtlsCollector(ClientAuth.REQUIRE);
    TestPki.Issued cert = pki.client("not-the-node", "gpu-002", "gpu-003");
    Agent good = agent("gpu-002", c, tls(trustingFleetCa().withClientCertificate(cert.cert(), cert.key())));
    awaitDelivered(c, good, "gpu-002");
    Agent byCn = agent("not-the-node", c, tls(trustingFleetCa().withClientCertificate(cert.cert(), cert.key())));
    await().atMost(Duration.ofSeconds(10)).until(() -> byCn.uplink().reconnects() >= 2);
    assertThat(byCn.uplink().lastError()).isEqualTo("PERMISSION_DENIED: node id 'not-the-node' does not match certificate "
        + "identity 'gpu-002'");
    assertThat(c.registry().get("not-the-node", true)).isEmpty();
  }

  @Test
  void aClientCertificateFromAnotherCaFailsTheHandshake() throws Exception {
    CollectorServer c = mtlsCollector(ClientAuth.REQUIRE);
    TestPki.Issued rogue = TestPki.create(tmp, "rogue").client("gpu-001");
    Agent a = agent("gpu-001", c, tls(trustingFleetCa().withClientCertificate(rogue.cert(), rogue.key())));
    assertThat(awaitRefused(c, a, "gpu-001")).startsWith("UNAVAILABLE");
  }

  @Test
  void noClientCertificateWhenOneIsRequiredFailsTheHandshake() throws Exception {
    CollectorServer c = mtlsCollector(ClientAuth.REQUIRE);
    Agent a = agent("gpu-001", c, tls(trustingFleetCa()));
    assertThat(awaitRefused(c, a, "gpu-001")).startsWith("UNAVAILABLE");
  }

  @Test
  void noClientCertificateWithOptionalClientAuthIsUnauthenticatedOnTheIngestStream() throws Exception {
    CollectorServer c = mtlsCollector(ClientAuth.OPTIONAL);
    Agent a = agent("gpu-001", c, tls(trustingFleetCa()));
    assertThat(awaitRefused(c, a, "gpu-001")).startsWith("UNAUTHENTICATED: this collector requires agents to authenticate: "
        + "a client certificate");
  }

  @Test
  void aCertifiedAgentReportingAsAnotherNodeIsDeniedLoggedOnceAndRegistersNothing() throws Exception {
    CollectorServer c = mtlsCollector(ClientAuth.REQUIRE);
    TestPki.Issued cert = pki.client("gpu-001");
    List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
          warnings.add(r);
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger uplinkLog = Logger.getLogger(IngestUplink.class.getName());
    uplinkLog.addHandler(capture);
    try {
      Agent spoof = agent("gpu-666", c, tls(trustingFleetCa().withClientCertificate(cert.cert(), cert.key())));
      String error = awaitRefused(c, spoof, "gpu-666");
      assertThat(error).isEqualTo("PERMISSION_DENIED: node id 'gpu-666' does not match certificate identity 'gpu-001'");
      assertThat(warnings).hasSize(1);
      assertThat(warnings.get(0).getMessage()).startsWith("collector refused this agent (PERMISSION_DENIED");
    } finally {
      uplinkLog.removeHandler(capture);
    }
  }

  @Test
  void anAgentWithItsOwnTokenGetsIn() throws Exception {
    Path tokens = Files.writeString(tmp.resolve("agent.tokens"), "# node token\ngpu-001 0123456789abcdef0001\n"
        + "gpu-002 0123456789abcdef0002\n");
    CollectorServer c = collector(CollectorConfig.defaults().withTls(TlsConfig.of(server.cert(), server.key()))
        .withAgentTokens(tokens));
    Agent a = agent("gpu-001", c, new UplinkSecurity(Optional.of(trustingFleetCa()),
        Optional.of(tokenFile("gpu-001.token", "0123456789abcdef0001"))));
    awaitDelivered(c, a, "gpu-001");
  }

  @Test
  void anUnknownTokenIsUnauthenticated() throws Exception {
    Path tokens = Files.writeString(tmp.resolve("agent.tokens"), "gpu-001 0123456789abcdef0001\n");
    CollectorServer c = collector(CollectorConfig.defaults().withTls(TlsConfig.of(server.cert(), server.key()))
        .withAgentTokens(tokens));
    Agent a = agent("gpu-001", c, new UplinkSecurity(Optional.of(trustingFleetCa()),
        Optional.of(tokenFile("wrong.token", "0123456789abcdef9999"))));
    assertThat(awaitRefused(c, a, "gpu-001")).isEqualTo("UNAUTHENTICATED: unknown agent token: it is not in the collector's "
        + "--agent-tokens file");
  }

  @Test
  void noTokenIsUnauthenticatedWhenTheCollectorHasAgentTokens() throws Exception {
    Path tokens = Files.writeString(tmp.resolve("agent.tokens"), "gpu-001 0123456789abcdef0001\n");
    CollectorServer c = collector(CollectorConfig.defaults().withAgentTokens(tokens));
    Agent a = agent("gpu-001", c, UplinkSecurity.plaintext());
    assertThat(awaitRefused(c, a, "gpu-001")).startsWith("UNAUTHENTICATED: this collector requires agents to authenticate: "
        + "'authorization: Bearer TOKEN'");
  }

  @Test
  void anotherNodesTokenIsDeniedAndRegistersNothing() throws Exception {
    Path tokens = Files.writeString(tmp.resolve("agent.tokens"), "gpu-001 0123456789abcdef0001\ngpu-002 0123456789abcdef0002\n");
    CollectorServer c = collector(CollectorConfig.defaults().withTls(TlsConfig.of(server.cert(), server.key()))
        .withAgentTokens(tokens));
    Agent a = agent("gpu-002", c, new UplinkSecurity(Optional.of(trustingFleetCa()),
        Optional.of(tokenFile("gpu-001.token", "0123456789abcdef0001"))));
    assertThat(awaitRefused(c, a, "gpu-002")).isEqualTo("PERMISSION_DENIED: node id 'gpu-002' does not match token identity "
        + "'gpu-001'");
  }
}

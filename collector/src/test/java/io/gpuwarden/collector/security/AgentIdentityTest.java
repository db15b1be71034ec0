package io.gpuwarden.collector.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentIdentityTest {
  @TempDir
  Path tmp;

  @Test
  void theNodeIdIsTheFirstDnsNameElseTheCommonName() throws Exception {
    TestPki pki = TestPki.create(tmp, "ca");
    assertThat(AgentIdentity.fromCertificate(TestPki.read(pki.client("gpu-001"))))
        .contains(new AgentIdentity("gpu-001", "certificate"));
    assertThat(AgentIdentity.fromCertificate(TestPki.read(pki.client("cn-name", "gpu-007", "gpu-008"))))
        .contains(new AgentIdentity("gpu-007", "certificate"));
  }

  @Test
  void agentTokensNameTheirNodeAndRejectShortOrReusedTokens() throws Exception {
    Path file = Files.writeString(tmp.resolve("agent.tokens"), "# comment\n\ngpu-001 0123456789abcdef0001\n"
        + "gpu-001 0123456789abcdef0011\ngpu-002 0123456789abcdef0002\n");
    AgentTokens tokens = AgentTokens.load(file);
    assertThat(tokens.nodeOf("0123456789abcdef0011")).contains("gpu-001");
    assertThat(tokens.nodeOf("0123456789abcdef0002")).contains("gpu-002");
    assertThat(tokens.nodeOf("0123456789abcdef0003")).isEmpty();

    Files.writeString(file, "gpu-001 short\n");
    assertThatThrownBy(() -> AgentTokens.load(file)).hasMessageContaining("line 1").hasMessageContaining("shorter than 16");
    Files.writeString(file, "gpu-001 0123456789abcdef0001\ngpu-002 0123456789abcdef0001\n");
    assertThatThrownBy(() -> AgentTokens.load(file)).hasMessageContaining("line 2").hasMessageContaining("used twice");
  }

  @Test
  void clientAuthWithoutAClientCaIsRefused() {
    assertThatThrownBy(() -> new TlsConfig(tmp.resolve("c"), tmp.resolve("k"), java.util.Optional.empty(),
        TlsConfig.ClientAuth.REQUIRE)).hasMessageContaining("--tls-client-ca");
  }
}

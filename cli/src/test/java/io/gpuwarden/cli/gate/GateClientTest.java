package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

class GateClientTest {
  @Test
  void errorIsCodeThenDescription() {
    assertThat(GateClient.describe(Status.PERMISSION_DENIED.withDescription("bob is not an admin"), "c:7700", false))
        .isEqualTo("PERMISSION_DENIED: bob is not an admin");
    assertThat(GateClient.describe(Status.INTERNAL, "c:7700", false)).isEqualTo("INTERNAL");
  }

  @Test
  void unreachableCollectorIsNamed() {
    assertThat(GateClient.describe(Status.UNAVAILABLE.withDescription("io exception"), "c:7700", false))
        .isEqualTo("UNAVAILABLE: io exception (collector c:7700)");
  }

  @Test
  void unauthenticatedWithoutATokenSaysHowToGiveOne() {
    Status s = Status.UNAUTHENTICATED.withDescription("no admin identity");

    assertThat(GateClient.describe(s, "c:7700", true)).isEqualTo("UNAUTHENTICATED: no admin identity (no admin token: "
        + "use --admin-token-file FILE, or set $GPUWARDEN_ADMIN_TOKEN or $GPUWARDEN_ADMIN_TOKEN_FILE)");
    assertThat(GateClient.describe(s, "c:7700", false)).isEqualTo("UNAUTHENTICATED: no admin identity");
  }
}

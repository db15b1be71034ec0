package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.GetGateRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the admin token comes from, and that it reaches the call's headers. */
class AdminTokenTest {
  @TempDir
  Path dir;

  private ManagedChannel channel;

  @AfterEach
  void close() {
    if (channel != null) {
      channel.shutdownNow();
    }
  }

  private Path file(String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name), text);
  }

  private static Function<String, String> env(Map<String, String> vars) {
    return vars::get;
  }

  @Test
  void tokenFileOptionWinsAndOnlyItsFirstLineTrimmedIsTheToken() throws Exception {
    Path option = file("option", "  from-option \nsecond line\n");
    Path envFile = file("env", "from-env-file\n");

    Optional<String> token = AdminToken.resolve(option,
        env(Map.of(AdminToken.ENV_TOKEN, "from-env", AdminToken.ENV_TOKEN_FILE, envFile.toString())));

    assertThat(token).contains("from-option");
  }

  @Test
  void tokenVariableComesBeforeTheTokenFileVariable() throws Exception {
    Path envFile = file("env", "from-env-file\n");

    assertThat(AdminToken.resolve(null,
        env(Map.of(AdminToken.ENV_TOKEN, "from-env", AdminToken.ENV_TOKEN_FILE, envFile.toString()))))
        .contains("from-env");
    assertThat(AdminToken.resolve(null, env(Map.of(AdminToken.ENV_TOKEN, " ", AdminToken.ENV_TOKEN_FILE, envFile.toString()))))
        .contains("from-env-file");
  }

  @Test
  void noTokenAnywhereIsEmptyRatherThanAnError() {
    assertThat(AdminToken.resolve(null, env(Map.of()))).isEmpty();
  }

  @Test
  void unreadableOrEmptyTokenFilesAreErrorsNamingTheFileAndWhereItCameFrom() throws Exception {
    Path missing = dir.resolve("missing");
    Path empty = file("empty", "\n");

    assertThatThrownBy(() -> AdminToken.resolve(missing, env(Map.of()))).isInstanceOf(AdminToken.Unreadable.class)
        .hasMessageStartingWith("cannot read admin token file " + missing + " (--admin-token-file)");
    assertThatThrownBy(() -> AdminToken.resolve(null, env(Map.of(AdminToken.ENV_TOKEN_FILE, empty.toString()))))
        .isInstanceOf(AdminToken.Unreadable.class)
        .hasMessage("admin token file " + empty + " ($GPUWARDEN_ADMIN_TOKEN_FILE) holds no token");
  }

  @Test
  void theCollectorsAdminTokensFileGivesTheTokenNamedAdminByDefault() throws Exception {
    Path tokens = file("admin.tokens", "# gpuwarden admin tokens: NAME TOKEN per line\nalice  aaaaaaaaaaaaaaaaaaaa\n"
        + "admin bbbbbbbbbbbbbbbbbbbb\n\n");

    assertThat(AdminToken.resolve(tokens, env(Map.of()))).contains("bbbbbbbbbbbbbbbbbbbb");
    assertThat(AdminToken.resolve(tokens, null, env(Map.of()))).hasValueSatisfying(c -> assertThat(c.source())
        .isEqualTo("admin token file " + tokens + " (--admin-token-file), name admin"));
  }

  @Test
  void adminNamePicksATokenAndTheOnlyTokenOfAFileIsTakenWithoutOne() throws Exception {
    Path tokens = file("admin.tokens", "alice aaaaaaaaaaaaaaaaaaaa\nbob bbbbbbbbbbbbbbbbbbbb\n");
    Path one = file("one.tokens", "# just me\nalice aaaaaaaaaaaaaaaaaaaa\n");

    assertThat(AdminToken.resolve(tokens, "bob", env(Map.of()))).map(AdminToken.Credential::token)
        .contains("bbbbbbbbbbbbbbbbbbbb");
    assertThat(AdminToken.resolve(one, env(Map.of()))).contains("aaaaaaaaaaaaaaaaaaaa");
    assertThat(AdminToken.resolve(null, "bob", env(Map.of(AdminToken.ENV_TOKEN_FILE, tokens.toString()))))
        .map(AdminToken.Credential::token).contains("bbbbbbbbbbbbbbbbbbbb");
  }

  @Test
  void anAmbiguousOrUnknownNameIsAnErrorNamingTheNamesPresent() throws Exception {
    Path tokens = file("admin.tokens", "alice aaaaaaaaaaaaaaaaaaaa\nbob bbbbbbbbbbbbbbbbbbbb\n");

    assertThatThrownBy(() -> AdminToken.resolve(tokens, env(Map.of()))).isInstanceOf(AdminToken.Unreadable.class)
        .hasMessage("admin token file " + tokens + " (--admin-token-file) has tokens of alice, bob and none named admin; "
            + "choose one with --admin-name NAME");
    assertThatThrownBy(() -> AdminToken.resolve(tokens, "carol", env(Map.of()))).isInstanceOf(AdminToken.Unreadable.class)
        .hasMessage("admin token file " + tokens + " (--admin-token-file) has no token named carol; names in it: alice, bob");
  }

  @Test
  void malformedLinesAreErrorsNamingTheLine() throws Exception {
    Path tokens = file("admin.tokens", "alice aaaaaaaaaaaaaaaaaaaa\nbob bbbb extra\n");
    Path mixed = file("mixed.tokens", "alice aaaaaaaaaaaaaaaaaaaa\nbare-token-after-pairs\n");

    assertThatThrownBy(() -> AdminToken.resolve(tokens, env(Map.of()))).isInstanceOf(AdminToken.Unreadable.class)
        .hasMessageContaining(tokens + " (--admin-token-file) line 2: expected 'NAME TOKEN'").hasMessageContaining("got 3 fields");
    assertThatThrownBy(() -> AdminToken.resolve(mixed, env(Map.of()))).isInstanceOf(AdminToken.Unreadable.class)
        .hasMessageContaining("line 2: expected 'NAME TOKEN'");
  }

  @Test
  void adminNameNeedsATokenFile() throws Exception {
    Path bare = file("bare", "the-token-itself\n");

    assertThatThrownBy(() -> AdminToken.resolve(bare, "alice", env(Map.of()))).isInstanceOf(AdminToken.Unreadable.class)
        .hasMessage("--admin-name alice: admin token file " + bare + " (--admin-token-file) holds a bare token, not NAME "
            + "TOKEN lines");
    assertThatThrownBy(() -> AdminToken.resolve(null, "alice", env(Map.of(AdminToken.ENV_TOKEN, "t"))))
        .isInstanceOf(AdminToken.Unreadable.class).hasMessageContaining("the token comes from $GPUWARDEN_ADMIN_TOKEN");
    assertThatThrownBy(() -> AdminToken.resolve(null, "alice", env(Map.of())))
        .isInstanceOf(AdminToken.Unreadable.class).hasMessageContaining("--admin-name alice needs a token file");
  }

  @Test
  void tokensThatCannotBeAHeaderValueAreRejectedUpFront() {
    assertThatThrownBy(() -> AdminToken.resolve(null, env(Map.of(AdminToken.ENV_TOKEN, "two words"))))
        .isInstanceOf(AdminToken.Unreadable.class).hasMessageContaining("$GPUWARDEN_ADMIN_TOKEN");
  }

  @Test
  void attachedStubSendsBearerTokenInTheAuthorizationHeader() {
    AtomicReference<Metadata> sent = new AtomicReference<>();
    AdminToken token = new AdminToken().withEnvironment(env(Map.of(AdminToken.ENV_TOKEN, "s3cret")));

    call(token.attach(GateServiceGrpc.newBlockingStub(capturing(sent))));

    assertThat(sent.get().get(AdminToken.AUTHORIZATION)).isEqualTo("Bearer s3cret");
  }

  @Test
  void withoutATokenTheCallIsStillMadeWithoutAnAuthorizationHeader() {
    AtomicReference<Metadata> sent = new AtomicReference<>();
    AdminToken token = new AdminToken().withEnvironment(env(Map.of()));

    call(token.attach(GateServiceGrpc.newBlockingStub(capturing(sent))));

    assertThat(sent.get()).isNotNull();
    assertThat(sent.get().containsKey(AdminToken.AUTHORIZATION)).isFalse();
  }

  @Test
  void tokenFileSetOnTheMixinIsPreferredOverTheEnvironment() throws Exception {
    Path option = file("option", "from-option\n");
    AdminToken token = new AdminToken().withFile(option).withEnvironment(env(Map.of(AdminToken.ENV_TOKEN, "from-env")));

    assertThat(token.token()).contains("from-option");
  }

  /** A channel whose calls record their headers and then fail locally; nothing listens behind it. */
  private Channel capturing(AtomicReference<Metadata> sent) {
    channel = InProcessChannelBuilder.forName("nowhere-" + System.nanoTime()).build();
    ClientInterceptor capture = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ClientCall<>() {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            sent.set(headers);
            listener.onClose(Status.UNIMPLEMENTED.withDescription("captured"), new Metadata());
          }

          @Override
          public void request(int n) {}

          @Override
          public void cancel(String message, Throwable cause) {}

          @Override
          public void halfClose() {}

          @Override
          public void sendMessage(Q message) {}
        };
      }
    };
    return ClientInterceptors.intercept(channel, capture);
  }

  private static void call(GateServiceGrpc.GateServiceBlockingStub stub) {
    assertThatThrownBy(() -> stub.getGate(GetGateRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("captured");
  }
}

package io.gpuwarden.collector.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Authenticates agents on the Ingest service and puts who they are ({@link #IDENTITY}) in the
 * call's {@link Context}; the service then refuses a hello naming another node.
 *
 * <p>An agent proves its node id with a client certificate verified by the TLS handshake
 * ({@link AgentIdentity#fromCertificate}) or with {@code authorization: Bearer TOKEN} from the
 * agent tokens; when it sends both they must name the same node. When authentication is required
 * (the collector asks for client certificates, or has agent tokens) a call proving nothing is
 * UNAUTHENTICATED; otherwise it passes without an identity (trusted networks only).
 */
public final class AgentAuthInterceptor implements ServerInterceptor {
  /** The authenticated agent of the current call; absent when agents are not authenticated. */
  public static final Context.Key<AgentIdentity> IDENTITY = Context.key("gpuwarden-agent");
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final boolean certificates;
  private final Optional<AgentTokens> tokens;

  /**
   * Creates the interceptor.
   *
   * @param certificates whether the collector asks agents for client certificates
   * @param tokens the agents' tokens, when agents may authenticate with one
   */
  public AgentAuthInterceptor(boolean certificates, Optional<AgentTokens> tokens) {
    this.certificates = certificates;
    this.tokens = tokens;
  }

  /** Returns true when agents must prove who they are. */
  public boolean required() {
    return certificates || tokens.isPresent();
  }

  /** Says how agents authenticate, for the start-up log. */
  public String describe() {
    if (!required()) {
      return "agents are NOT authenticated (no --agent-tokens, no client certificates): any client can report as any "
          + "node; run this way only on a trusted network";
    }
    return "agents authenticate with " + expected();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Optional<AgentIdentity> fromCert = certificates ? peerCertificate(call).flatMap(AgentIdentity::fromCertificate) : Optional.empty();
    Optional<AgentIdentity> fromToken = Optional.empty();
    String header = headers.get(AUTHORIZATION);
    if (tokens.isPresent() && header != null) {
      if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return refuse(call, Status.UNAUTHENTICATED.withDescription("malformed authorization header: expected 'Bearer TOKEN'"));
      }
      Optional<String> node = tokens.get().nodeOf(header.substring(7).strip());
      if (node.isEmpty()) {
        return refuse(call, Status.UNAUTHENTICATED.withDescription("unknown agent token: it is not in the collector's "
            + "--agent-tokens file"));
      }
      fromToken = Optional.of(new AgentIdentity(node.get(), "token"));
    }
    if (fromCert.isPresent() && fromToken.isPresent() && !fromCert.get().nodeId().equals(fromToken.get().nodeId())) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription("certificate identity '" + fromCert.get().nodeId()
          + "' and token identity '" + fromToken.get().nodeId() + "' differ"));
    }
    Optional<AgentIdentity> identity = fromCert.isPresent() ? fromCert : fromToken;
    if (identity.isEmpty()) {
      if (required()) {
        return refuse(call, Status.UNAUTHENTICATED.withDescription("this collector requires agents to authenticate: "
            + expected()));
      }
      return next.startCall(call, headers);
    }
    return Contexts.interceptCall(Context.current().withValue(IDENTITY, identity.get()), call, headers, next);
  }

  private String expected() {
    String cert = "a client certificate signed by the collector's client CA whose first DNS name (else CN) is the node id "
        + "(agent: --tls-cert and --tls-key)";
    String token = "'authorization: Bearer TOKEN' with the node's token (agent: --token-file)";
    return certificates && tokens.isPresent() ? cert + ", or " + token : certificates ? cert : token;
  }

  private static Optional<X509Certificate> peerCertificate(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? Optional.of(x) : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty(); // no client certificate
    }
  }

  private static <Q> ServerCall.Listener<Q> refuse(ServerCall<Q, ?> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}

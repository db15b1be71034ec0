package io.gpuwarden.collector.gate;

import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.Set;

/**
 * Lets gate mutations through only with an admin bearer token ({@code authorization: Bearer
 * TOKEN}) and puts the admin's name in the call's {@link Context} ({@link #ACTOR}) for the audit
 * history. Reads (status, history, budgets, windows, watch) need no token.
 */
public final class AdminAuthInterceptor implements ServerInterceptor {
  /** The authenticated admin of the current call. */
  public static final Context.Key<String> ACTOR = Context.key("gpuwarden-admin");
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Set<String> MUTATIONS = Set.of("Lock", "Complete", "Release", "Hold", "Unhold", "Quarantine", "RepairDone",
      "AddNoFlyWindow", "RemoveNoFlyWindow", "SetBudget", "ResetCircuitBreaker");

  private final AdminTokens tokens;

  /** Creates the interceptor over {@code tokens}. */
  public AdminAuthInterceptor(AdminTokens tokens) {
    this.tokens = tokens;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    String service = GateServiceGrpc.SERVICE_NAME + "/";
    if (!method.startsWith(service) || !MUTATIONS.contains(method.substring(service.length()))) {
      return next.startCall(call, headers);
    }
    String header = headers.get(AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      call.close(Status.UNAUTHENTICATED.withDescription("gate changes need an admin token: send 'authorization: Bearer TOKEN' "
          + "(gpuwarden CLI: --admin-token-file FILE or $GPUWARDEN_ADMIN_TOKEN)"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Optional<String> who = tokens.identify(header.substring(7).strip());
    if (who.isEmpty()) {
      call.close(Status.UNAUTHENTICATED.withDescription("unknown admin token"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(ACTOR, who.get()), call, headers, next);
  }
}

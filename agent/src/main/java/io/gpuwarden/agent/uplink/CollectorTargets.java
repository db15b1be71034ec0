package io.gpuwarden.agent.uplink;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Several collector addresses with failover: {@code --collector a:7700,b:7700} becomes one gRPC
 * target whose resolver lists every address of {@code a} first, then of {@code b}. gRPC's default
 * {@code pick_first} policy connects to the first that answers and, when that connection is lost,
 * tries them again in order, so the agent fails over to {@code b} while {@code a} is down and goes
 * back to {@code a} after the next reconnect once it is up. A single address is passed through
 * unchanged.
 *
 * <p>With TLS, the certificate of every collector must carry the name of the first (or set
 * {@code --tls-server-name}).
 */
public final class CollectorTargets {
  /** The resolver scheme of failover targets. */
  public static final String SCHEME = "gpuwarden-failover";
  private static final AtomicBoolean REGISTERED = new AtomicBoolean();

  private CollectorTargets() {}

  /**
   * Returns the gRPC target for {@code collectors} ({@code host:port}, comma-separated).
   *
   * @throws IllegalArgumentException when an address is not {@code host:port}
   */
  public static String channelTarget(String collectors) {
    List<String> addresses = parse(collectors);
    if (addresses.size() == 1) {
      return addresses.get(0);
    }
    if (REGISTERED.compareAndSet(false, true)) {
      NameResolverRegistry.getDefaultRegistry().register(new Provider());
    }
    return SCHEME + ":///" + String.join(",", addresses);
  }

  /** Splits and checks {@code host:port[,host:port...]}. */
  public static List<String> parse(String collectors) {
    List<String> out = new ArrayList<>();
    for (String a : collectors.split(",")) {
      String t = a.strip();
      int colon = t.lastIndexOf(':');
      if (colon <= 0 || colon == t.length() - 1 || !t.substring(colon + 1).chars().allMatch(Character::isDigit)) {
        throw new IllegalArgumentException("collector address '" + t + "' is not HOST:PORT (in '" + collectors + "')");
      }
      out.add(t);
    }
    return out;
  }

  private static final class Provider extends NameResolverProvider {
    @Override
    protected boolean isAvailable() {
      return true;
    }

    @Override
    protected int priority() {
      return 5;
    }

    @Override
    public String getDefaultScheme() {
      return SCHEME;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
      return List.of(InetSocketAddress.class);
    }

    @Override
    public NameResolver newNameResolver(URI uri, NameResolver.Args args) {
      if (!SCHEME.equals(uri.getScheme())) {
        return null;
      }
      return new Resolver(parse(uri.getPath().substring(1)));
    }
  }

  private static final class Resolver extends NameResolver {
    private final List<String> addresses;
    private Listener2 listener;

    Resolver(List<String> addresses) {
      this.addresses = addresses;
    }

    @Override
    public String getServiceAuthority() {
      return addresses.get(0);
    }

    @Override
    public void start(Listener2 listener) {
      this.listener = listener;
      resolve();
    }

    @Override
    public void refresh() {
      resolve();
    }

    private void resolve() {
      List<EquivalentAddressGroup> groups = new ArrayList<>();
      List<String> failed = new ArrayList<>();
      for (String a : addresses) {
        int colon = a.lastIndexOf(':');
        String host = a.substring(0, colon).replace("[", "").replace("]", "");
        int port = Integer.parseInt(a.substring(colon + 1));
        try {
          Arrays.stream(InetAddress.getAllByName(host))
              .forEach(ip -> groups.add(new EquivalentAddressGroup(new InetSocketAddress(ip, port))));
        } catch (UnknownHostException e) {
          failed.add(a);
        }
      }
      if (groups.isEmpty()) {
        listener.onError(Status.UNAVAILABLE.withDescription("cannot resolve any collector address: " + failed));
        return;
      }
      listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(io.grpc.StatusOr.fromValue(groups)).build());
    }

    @Override
    public void shutdown() {}
  }
}

package io.gpuwarden.collector.feed;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one place that says what changed in the collector: a node's batch was applied, its verdict
 * changed, its gate status changed ({@link Change}). The registry and the gate publish; every
 * outlet — the fleet and gate watch streams, the ingest journal, and next the telemetry streams,
 * metrics and scheduler adapters — subscribes here instead of reaching into the registry or the
 * gate.
 *
 * <p>Delivery is synchronous, on the publisher's thread, in publication order per publisher, with
 * no lock of the feed held. A subscriber must not block: it copies what it needs into its own
 * bounded buffer (or coalesces per node) and returns; a slow outlet drops or disconnects itself,
 * never slows ingest. A subscriber that throws is logged and counted, and the others still get
 * the change.
 *
 * <pre>{@code
 * ChangeFeed.Subscription s = feed.subscribe(change -> {
 *   if (change instanceof Change.VerdictChanged v) { stream.offer(v.node().getNodeId(), ...); }
 * });
 * ...
 * s.close();
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class ChangeFeed {
  private static final Logger log = Logger.getLogger(ChangeFeed.class.getName());

  private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
  private final AtomicLong subscriberFailures = new AtomicLong();

  /** Hears every change; called on the publisher's thread, must not block. */
  @FunctionalInterface
  public interface Subscriber {
    /** Takes one change. */
    void on(Change change);
  }

  /** A subscription; closing it stops delivery (idempotent). */
  public interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  /** Adds {@code subscriber}; it hears every change published from now on. */
  public Subscription subscribe(Subscriber subscriber) {
    requireNonNull(subscriber, "subscriber");
    subscribers.add(subscriber);
    return () -> subscribers.remove(subscriber);
  }

  /** Delivers {@code change} to every subscriber. */
  public void publish(Change change) {
    requireNonNull(change, "change");
    for (Subscriber s : subscribers) {
      try {
        s.on(change);
      } catch (RuntimeException e) {
        subscriberFailures.incrementAndGet();
        log.log(Level.WARNING, "a change feed subscriber failed on " + change.getClass().getSimpleName(), e);
      }
    }
  }

  /** Returns how many subscribers there are. */
  public int subscribers() {
    return subscribers.size();
  }

  /** Returns how many deliveries threw since start. */
  public long subscriberFailures() {
    return subscriberFailures.get();
  }
}

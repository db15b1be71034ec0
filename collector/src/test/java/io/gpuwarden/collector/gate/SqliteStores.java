package io.gpuwarden.collector.gate;

/** Test access to the SQLite store's page limit, from other packages' tests: a real SQLITE_FULL on demand. */
public final class SqliteStores {
  private SqliteStores() {}

  /** Caps {@code store} at its current size plus {@code extraPages} pages (raise it again to end the "disk full"). */
  public static void limitPages(SqliteGateStore store, long extraPages) {
    store.limitPagesForTest(extraPages);
  }
}

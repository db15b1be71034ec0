package io.gpuwarden.collector.gate;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.NoFlyWindow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The gate store in an embedded SQLite database, {@code <dataDir>/gate.db}, over one JDBC
 * connection. Each proto is kept whole as a BLOB next to the key columns the queries need.
 *
 * <pre>{@code
 * try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
 *   store.write(new GateWrite().putNode(status));
 * }
 * }</pre>
 *
 * <p>Why {@code journal_mode=WAL} with {@code synchronous=FULL}: WAL keeps a commit to one
 * sequential append to the log (and lets a crash mid-write leave the database file untouched), and
 * FULL makes SQLite fsync the log at every commit, so a write that returned survives a power loss
 * or {@code kill -9}, not only a process crash (WAL with NORMAL may lose the last commits on power
 * loss). The gate answers an API call only after its write committed, so what a client was told is
 * what the collector loads after a restart.
 *
 * <p>Thread-safe: every public method holds the store's lock, so writes are serialized.
 */
public final class SqliteGateStore implements GateStore {
  /** The schema version this code writes and reads ({@code PRAGMA user_version}). */
  static final int SCHEMA_VERSION = 2;
  /** The database file name inside the data directory. */
  static final String FILE_NAME = "gate.db";

  private static final String[] SCHEMA = {
    "CREATE TABLE IF NOT EXISTS gate_node (node_id TEXT PRIMARY KEY, pool TEXT NOT NULL, status BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY AUTOINCREMENT, node_id TEXT NOT NULL,"
        + " time_ms INTEGER NOT NULL, entry BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS history_by_node_time ON history (node_id, time_ms, id)",
    "CREATE TABLE IF NOT EXISTS lock_queue (sequence INTEGER PRIMARY KEY, node_id TEXT NOT NULL UNIQUE,"
        + " pool TEXT NOT NULL, lock BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS no_fly (id TEXT PRIMARY KEY, pool TEXT NOT NULL, window BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS budget (pool TEXT PRIMARY KEY, budget BLOB NOT NULL)",
    // version 2: the highest batch sequence applied durably per agent stream
    "CREATE TABLE IF NOT EXISTS ingest_applied (node_id TEXT NOT NULL, stream_id TEXT NOT NULL, sequence INTEGER NOT NULL,"
        + " PRIMARY KEY (node_id, stream_id))",
  };

  private final Path file;
  private Connection connection;

  private SqliteGateStore(Path file, Connection connection) {
    this.file = file;
    this.connection = connection;
  }

  /**
   * Opens (creating it and {@code dataDir} when missing) the store {@code dataDir/gate.db}.
   *
   * @throws GateStoreException when the directory cannot be created, the file is not a SQLite
   *     database, or its schema is newer than this code knows
   */
  public static SqliteGateStore open(Path dataDir) {
    requireNonNull(dataDir, "dataDir");
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new GateStoreException("gate store: cannot create data directory " + dataDir + ": " + e, e);
    }
    Path file = dataDir.resolve(FILE_NAME).toAbsolutePath();
    Connection connection;
    try {
      connection = DriverManager.getConnection("jdbc:sqlite:" + file);
    } catch (SQLException e) {
      throw new GateStoreException("gate store " + file + ": cannot open: " + e.getMessage(), e);
    }
    try {
      prepare(file, connection, true);
      return new SqliteGateStore(file, connection);
    } catch (SQLException e) {
      closeAfterFailedOpen(connection, e);
      throw new GateStoreException("gate store " + file + ": cannot open (not a SQLite database, or damaged?): "
          + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeAfterFailedOpen(connection, e);
      throw e;
    }
  }

  /**
   * Opens a store that lives in memory only: same schema and code, nothing survives the process.
   * For a collector run without {@code --data-dir} (tests, experiments); it says so in its log.
   */
  public static SqliteGateStore inMemory() {
    Path file = Path.of(":memory:");
    try {
      Connection connection = DriverManager.getConnection("jdbc:sqlite::memory:");
      prepare(file, connection, false);
      return new SqliteGateStore(file, connection);
    } catch (SQLException e) {
      throw new GateStoreException("in-memory gate store: " + e.getMessage(), e);
    }
  }

  /** Sets the pragmas and creates or checks the schema. */
  private static void prepare(Path file, Connection connection, boolean durable) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA busy_timeout = 5000");
      // Read the version before anything changes the file: a newer file must stay as it is.
      int version = queryInt(statement, "PRAGMA user_version");
      if (version > SCHEMA_VERSION) {
        throw new GateStoreException("gate store " + file + " has schema version " + version
            + ", newer than version " + SCHEMA_VERSION + " that this gpuwarden knows; run a newer gpuwarden", null);
      }
      try (ResultSet mode = statement.executeQuery(durable ? "PRAGMA journal_mode = WAL" : "PRAGMA journal_mode")) {
        String journalMode = mode.next() ? mode.getString(1) : "";
        if (durable && !"wal".equalsIgnoreCase(journalMode)) {
          throw new GateStoreException("gate store " + file + ": cannot use journal_mode WAL (got '"
              + journalMode + "'); the file system may not support it", null);
        }
      }
      statement.execute("PRAGMA synchronous = FULL");
      statement.execute("PRAGMA foreign_keys = ON");
      if (version < SCHEMA_VERSION) {
        // Every statement is CREATE ... IF NOT EXISTS: creating from scratch and upgrading are the same.
        inTransaction(connection, "BEGIN IMMEDIATE", c -> {
          for (String ddl : SCHEMA) {
            statement.execute(ddl);
          }
          statement.execute("PRAGMA user_version = " + SCHEMA_VERSION);
          return null;
        });
      }
    }
  }

  private static void closeAfterFailedOpen(Connection connection, Exception failure) {
    try {
      connection.close();
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  @Override
  public synchronized Snapshot load() {
    Connection connection = openConnection();
    try {
      // One read transaction: a consistent snapshot of all tables.
      return inTransaction(connection, "BEGIN", c -> new Snapshot(
          readBlobs(c, "SELECT node_id, status FROM gate_node ORDER BY node_id", "gate_node", GateStatus::parseFrom),
          readQueue(c),
          readBlobs(c, "SELECT id, window FROM no_fly ORDER BY id", "no_fly", NoFlyWindow::parseFrom),
          readBlobs(c, "SELECT pool, budget FROM budget ORDER BY pool", "budget", Budget::parseFrom),
          readApplied(c)));
    } catch (SQLException e) {
      throw new GateStoreException("gate store " + file + ": cannot load: " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void write(GateWrite write) {
    requireNonNull(write, "write");
    Connection connection = openConnection();
    if (write.isEmpty()) {
      return;
    }
    try {
      inTransaction(connection, "BEGIN IMMEDIATE", c -> {
        SqliteWrites.apply(c, write);
        return null;
      });
    } catch (SQLException e) {
      throw new GateStoreException("gate store " + file + ": cannot write " + SqliteWrites.describe(write) + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Runs {@code work} in one transaction and commits it; rolls back when anything fails.
   *
   * <p>The connection stays in JDBC auto-commit mode and the transaction is explicit SQL, not
   * {@code setAutoCommit(false)}: after SQLITE_FULL (or IOERR, NOMEM) SQLite has already rolled the
   * whole transaction back, and sqlite-jdbc then fails to restore auto-commit ("cannot commit - no
   * transaction is active"), which hid the real error; worse, restoring auto-commit is a COMMIT, which
   * could commit half a write if the rollback had failed. A ROLLBACK that finds no transaction is
   * harmless. {@code BEGIN IMMEDIATE} takes the write lock up front, where busy_timeout applies.
   */
  private static <T> T inTransaction(Connection c, String begin, SqlWork<T> work) throws SQLException {
    try (Statement control = c.createStatement()) {
      control.execute(begin);
      try {
        T result = work.run(c);
        control.execute("COMMIT");
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          control.execute("ROLLBACK");
        } catch (SQLException rollbackFailure) {
          e.addSuppressed(rollbackFailure);
        }
        throw e;
      }
    }
  }

  private static List<GateStore.AppliedSequence> readApplied(Connection c) throws SQLException {
    List<GateStore.AppliedSequence> out = new java.util.ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT node_id, stream_id, sequence FROM ingest_applied ORDER BY node_id, stream_id")) {
      while (r.next()) {
        out.add(new GateStore.AppliedSequence(r.getString(1), r.getString(2), r.getLong(3)));
      }
    }
    return out;
  }

  @Override
  public synchronized List<HistoryEntry> history(String nodeId, Instant since, int limit) {
    requireNonNull(nodeId, "nodeId");
    requireNonNull(since, "since");
    Connection c = openConnection();
    // Newest first so that reading can stop at the limit; time_ms is whole milliseconds, so rows in
    // since's millisecond are compared exactly after parsing.
    List<HistoryEntry> newestFirst = new ArrayList<>();
    try (PreparedStatement query = c.prepareStatement(
        "SELECT id, entry FROM history WHERE node_id = ? AND time_ms >= ? ORDER BY time_ms DESC, id DESC")) {
      query.setString(1, nodeId);
      query.setLong(2, SqliteWrites.toMillis(since));
      try (ResultSet rows = query.executeQuery()) {
        while ((limit <= 0 || newestFirst.size() < limit) && rows.next()) {
          HistoryEntry entry = parse(rows, "history", HistoryEntry::parseFrom);
          if (!toInstant(entry.getTime()).isBefore(since)) {
            newestFirst.add(entry);
          }
        }
      }
    } catch (SQLException e) {
      throw new GateStoreException("gate store " + file + ": cannot read the history of " + nodeId + ": "
          + e.getMessage(), e);
    }
    Collections.reverse(newestFirst);
    return newestFirst;
  }

  /** Closes the connection; later calls throw {@link GateStoreException}. Closing twice does nothing. */
  @Override
  public synchronized void close() {
    if (connection == null) {
      return;
    }
    Connection c = connection;
    connection = null;
    try {
      c.close();
    } catch (SQLException e) {
      throw new GateStoreException("gate store " + file + ": cannot close: " + e.getMessage(), e);
    }
  }

  /** The database file. */
  public Path file() {
    return file;
  }

  /**
   * Test hook: caps the database at its current size plus {@code extraPages} pages for this
   * connection, so that a test can provoke a real SQLITE_FULL.
   */
  synchronized void limitPagesForTest(long extraPages) {
    Connection c = openConnection();
    try (Statement statement = c.createStatement()) {
      long pages = queryInt(statement, "PRAGMA page_count");
      statement.execute("PRAGMA max_page_count = " + (pages + extraPages));
    } catch (SQLException e) {
      throw new GateStoreException("gate store " + file + ": cannot limit pages: " + e.getMessage(), e);
    }
  }

  private Connection openConnection() {
    if (connection == null) {
      throw new GateStoreException("gate store " + file + " is closed", null);
    }
    return connection;
  }

  private List<QueuedLock> readQueue(Connection c) throws SQLException {
    List<QueuedLock> queue = new ArrayList<>();
    try (Statement statement = c.createStatement();
        ResultSet rows = statement.executeQuery("SELECT sequence, node_id, pool, lock FROM lock_queue ORDER BY sequence")) {
      while (rows.next()) {
        queue.add(new QueuedLock(rows.getLong(1), rows.getString(2), rows.getString(3),
            parse(rows, 4, "lock_queue", LockInfo::parseFrom)));
      }
    }
    return queue;
  }

  /** Reads rows of (key, blob) and parses each blob. */
  private <T> List<T> readBlobs(Connection c, String sql, String table, ProtoParser<T> parser) throws SQLException {
    List<T> result = new ArrayList<>();
    try (Statement statement = c.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
      while (rows.next()) {
        result.add(parse(rows, table, parser));
      }
    }
    return result;
  }

  /** Parses column 2 of a (key, blob) row. */
  private <T> T parse(ResultSet row, String table, ProtoParser<T> parser) throws SQLException {
    return parse(row, 2, table, parser);
  }

  private <T> T parse(ResultSet row, int column, String table, ProtoParser<T> parser) throws SQLException {
    try {
      return parser.parse(row.getBytes(column));
    } catch (InvalidProtocolBufferException e) {
      throw new GateStoreException("gate store " + file + ": corrupt row " + row.getString(1) + " in table "
          + table + ": " + e.getMessage(), e);
    }
  }

  private static int queryInt(Statement statement, String sql) throws SQLException {
    try (ResultSet rows = statement.executeQuery(sql)) {
      if (!rows.next()) {
        throw new SQLException(sql + " returned no row");
      }
      return rows.getInt(1);
    }
  }

  private static Instant toInstant(Timestamp time) {
    return Instant.ofEpochSecond(time.getSeconds(), time.getNanos());
  }

  /** Work inside a transaction. */
  @FunctionalInterface
  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** Parses one stored proto. */
  @FunctionalInterface
  private interface ProtoParser<T> {
    T parse(byte[] bytes) throws InvalidProtocolBufferException;
  }
}

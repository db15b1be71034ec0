package io.gpuwarden.collector.gate;

/** A gate store read or write failed (disk full, database locked or corrupt); nothing of a failed write applied. */
public final class GateStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public GateStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

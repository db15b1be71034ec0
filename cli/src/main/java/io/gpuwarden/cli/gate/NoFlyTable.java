package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.TextTable;
import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.NoFlyWindow;
import java.util.List;

/** Renders no-fly windows as the {@code nfz list} table: ID POOL START END REASON BY REFUSED, times ISO-8601 UTC. */
final class NoFlyTable {
  private NoFlyTable() {}

  /** Renders one row per window, in the order given (the collector orders them by start); an all-pools window says so. */
  static String render(List<NoFlyWindow> windows, Times times) {
    TextTable t = new TextTable("ID", "POOL", "START", "END", "REASON", "BY", "REFUSED").rightAlign(6);
    for (NoFlyWindow w : windows) {
      t.row(w.getId(), w.getPool().isEmpty() ? "(all pools)" : w.getPool(), times.format(w.getStart()), times.format(w.getEnd()), w.getReason(),
          w.getActor().isEmpty() ? "-" : w.getActor(), Long.toUnsignedString(w.getRefusedLocks()));
    }
    return t.render();
  }
}

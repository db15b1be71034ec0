package io.gpuwarden.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A table printed with aligned columns, two spaces apart. Numeric columns can be right-aligned.
 *
 * <pre>{@code
 * TextTable t = new TextTable("NODE", "GPUS"); t.rightAlign(1); t.row("gpu-001", "8"); t.render();
 * }</pre>
 */
public final class TextTable {
  private final String[] header;
  private final boolean[] right;
  private final List<String[]> rows = new ArrayList<>();

  /** Creates a table with these column headings. */
  public TextTable(String... header) {
    this.header = header.clone();
    this.right = new boolean[header.length];
  }

  /** Right-aligns the given columns. */
  public TextTable rightAlign(int... columns) {
    for (int c : columns) {
      right[c] = true;
    }
    return this;
  }

  /** Adds a row; it must have one cell per column. */
  public TextTable row(String... cells) {
    if (cells.length != header.length) {
      throw new IllegalArgumentException("row has " + cells.length + " cells, table has " + header.length + " columns");
    }
    rows.add(cells.clone());
    return this;
  }

  /** Renders the table, one line per row, each ending in a newline. */
  public String render() {
    int[] width = new int[header.length];
    for (int c = 0; c < header.length; c++) {
      width[c] = header[c].length();
    }
    for (String[] r : rows) {
      for (int c = 0; c < r.length; c++) {
        width[c] = Math.max(width[c], r[c].length());
      }
    }
    StringBuilder out = new StringBuilder();
    line(out, header, width);
    for (String[] r : rows) {
      line(out, r, width);
    }
    return out.toString();
  }

  private void line(StringBuilder out, String[] cells, int[] width) {
    StringBuilder l = new StringBuilder();
    for (int c = 0; c < cells.length; c++) {
      if (c > 0) {
        l.append("  ");
      }
      String pad = " ".repeat(width[c] - cells[c].length());
      l.append(right[c] ? pad + cells[c] : cells[c] + (c == cells.length - 1 ? "" : pad));
    }
    out.append(l.toString().stripTrailing()).append('\n');
  }

  @Override
  public String toString() {
    return "TextTable" + Arrays.toString(header) + " with " + rows.size() + " rows";
  }
}

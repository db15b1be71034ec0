package io.gpuwarden.cli.gate;

import picocli.CommandLine.Option;

/** {@code [--reason TEXT]}: a note for the audit history; when given, not empty. */
final class OptionalReason {
  @Option(names = "--reason", paramLabel = "TEXT",
      description = "What was done, or why (recorded in the audit history; optional, not empty when given).")
  String text;

  /** Returns the note, or the empty string when none was given. */
  String text() {
    return text == null ? "" : text;
  }
}

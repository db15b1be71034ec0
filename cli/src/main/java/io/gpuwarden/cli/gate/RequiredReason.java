package io.gpuwarden.cli.gate;

import picocli.CommandLine.Option;

/** {@code --reason TEXT}, required and not empty: why, for the audit history. */
final class RequiredReason {
  @Option(names = "--reason", required = true, paramLabel = "TEXT",
      description = "Why (recorded in the audit history; must not be empty).")
  String text;

  /** Returns the reason. */
  String text() {
    return text;
  }
}

package io.gpuwarden.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine;

/**
 * The exit codes one command can return, each with its meaning for that command (the {@link ExitCodes} table's
 * unless the command says it more precisely); {@link #install} puts them in every command's {@code --help}.
 *
 * <pre>{@code
 * ExitCodeList.of("held").with(ExitCodes.NOT_FOUND, "no such node").with(ExitCodes.REFUSED)
 * }</pre>
 */
public final class ExitCodeList {
  /** A command whose {@code --help} lists the exit codes it says it can return. */
  public interface Source {
    /** Returns the codes this command can return. */
    ExitCodeList exitCodes();
  }

  private final TreeMap<Integer, String> meanings = new TreeMap<>();

  private ExitCodeList() {}

  /** Returns an empty list. */
  public static ExitCodeList none() {
    return new ExitCodeList();
  }

  /**
   * Returns the codes every command that calls the collector can return: 0 with {@code done} as its meaning, 1 the call
   * failed, 2 invalid command line, 6 collector unreachable.
   */
  public static ExitCodeList of(String done) {
    return none().with(ExitCodes.OK, done).with(ExitCodes.CALL_FAILED).with(ExitCodes.USAGE).with(ExitCodes.UNREACHABLE);
  }

  /** Adds (or replaces) {@code code} with the table's meaning. */
  public ExitCodeList with(int code) {
    return with(code, ExitCodes.meaning(code));
  }

  /**
   * Adds (or replaces) {@code code} with the meaning it has for this command.
   *
   * @throws IllegalArgumentException when {@code code} is not in the {@link ExitCodes} table
   */
  public ExitCodeList with(int code, String meaning) {
    ExitCodes.meaning(code);
    if (meaning.contains("%")) {
      // picocli formats help text; a stray % would print a warning instead of the text
      throw new IllegalArgumentException("exit code meanings must not contain '%': " + meaning);
    }
    meanings.put(code, meaning);
    return this;
  }

  /** Returns the codes, in numeric order. */
  public Set<Integer> codes() {
    return meanings.keySet();
  }

  /** Returns the meaning of {@code code} for this command, or {@code null} when it is not listed. */
  public String meaning(int code) {
    return meanings.get(code);
  }

  /** Returns the list as picocli's {@code exitCodeList}: code to meaning, in numeric order. */
  public Map<String, String> help() {
    Map<String, String> m = new LinkedHashMap<>();
    meanings.forEach((code, meaning) -> m.put(Integer.toString(code), meaning));
    return m;
  }

  /** Puts the exit codes of every {@link Source} command under {@code root} (itself included) in its help. */
  public static void install(CommandLine root) {
    if (root.getCommand() instanceof Source source) {
      root.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(source.exitCodes().help());
    }
    root.getSubcommands().values().forEach(ExitCodeList::install);
  }
}

package io.gpuwarden.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One run of the {@code gpuwarden} command line in this JVM: its exit code and what it printed. */
public record CommandRun(int code, String out, String err) {
  /** Runs {@code args} through {@link GpuwardenMain#commandLine()}. */
  public static CommandRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = GpuwardenMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new CommandRun(code, out.toString(), err.toString());
  }

  /** Returns standard output and standard error together, for messages that may go to either. */
  public String all() {
    return out + err;
  }
}

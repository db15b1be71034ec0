package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.AdminToken;
import io.gpuwarden.cli.ClientCommand;
import io.gpuwarden.cli.ExitCodeList;
import io.gpuwarden.cli.ExitCodes;
import java.util.Optional;
import picocli.CommandLine.Mixin;

/**
 * A command that changes the gate: it needs an admin token ({@code --admin-token-file}, {@code --admin-name} or the
 * environment) and refuses to call without one (exit code 5), and an unusable token file is a usage error.
 */
abstract class AdminCommand extends ClientCommand {
  /** What exit code 2 means for a command that changes the gate. */
  static final String USAGE = "invalid command line: a bad or missing option or value, an empty --reason, an unreadable "
      + "admin token file, or a request the collector rejects as invalid";

  /** Whose change this is. */
  @Mixin
  AdminToken adminToken;

  @Override
  protected final Optional<AdminToken.Credential> credential() {
    try {
      return Optional.of(adminToken.credential().orElseThrow(() -> new Failure(ExitCodes.AUTH, AdminToken.MISSING)));
    } catch (AdminToken.Unreadable e) {
      throw usage(e.getMessage());
    }
  }

  @Override
  public ExitCodeList exitCodes() {
    return super.exitCodes().with(ExitCodes.USAGE, USAGE).with(ExitCodes.AUTH);
  }
}

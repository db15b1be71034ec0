package io.gpuwarden.collector.security;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Bearer tokens of agents: a node id per token, from a file of {@code NODE_ID TOKEN} lines (the
 * format of {@link TokenFile}). A node may have several tokens (rotation); a token names one node.
 *
 * <pre>{@code
 * AgentTokens tokens = AgentTokens.load(Path.of("/etc/gpuwarden/agent.tokens"));
 * }</pre>
 */
public final class AgentTokens {
  private final TokenFile tokens;

  private AgentTokens(TokenFile tokens) {
    this.tokens = tokens;
  }

  /**
   * Loads {@code file}.
   *
   * @throws IllegalArgumentException naming the file and line when it is unreadable or malformed
   */
  public static AgentTokens load(Path file) {
    return new AgentTokens(TokenFile.load(file, "agent tokens"));
  }

  /** Returns tokens from a map of token to node id (tests). */
  public static AgentTokens of(Map<String, String> nodeByToken) {
    return new AgentTokens(TokenFile.of(nodeByToken));
  }

  /** Returns the node {@code token} belongs to, when it is one of these. */
  public Optional<String> nodeOf(String token) {
    return tokens.identify(token);
  }
}

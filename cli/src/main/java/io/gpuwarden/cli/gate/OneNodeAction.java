package io.gpuwarden.cli.gate;

import picocli.CommandLine.Parameters;

/** A gate mutation of one node, named by the command's one argument. */
abstract class OneNodeAction extends NodeAction {
  /** The node. */
  @Parameters(index = "0", paramLabel = "ID", description = "Node id.")
  String nodeId;
}

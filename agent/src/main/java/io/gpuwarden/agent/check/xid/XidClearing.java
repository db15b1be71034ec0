package io.gpuwarden.agent.check.xid;

/** What makes an Xid's condition go away. */
public enum XidClearing {
  /** Nothing lasting: the Xid is reported as an event and the GPU stays as it was. */
  EVENT_ONLY,
  /** A reset of that GPU, or a reboot. */
  GPU_RESET,
  /** Only a reboot (a new boot id). */
  REBOOT
}

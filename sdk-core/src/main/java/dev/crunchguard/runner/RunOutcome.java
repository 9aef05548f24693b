package dev.crunchguard.runner;

/** How {@link RunnerContext#runCommand} ended. */
public enum RunOutcome {
  /** The command exited and the container was set Complete with its exit code. */
  COMPLETED,
  /**
   * The container's priority fell to 0 or it was cancelled; the command was stopped and the
   * container set Cancelled (when this epoch still could).
   */
  CANCELLED,
  /**
   * The epoch ended without this runner (unlocked, re-locked, or finished by someone else); the
   * command was stopped and nothing more was written.
   */
  LOST,
  /**
   * The command could not be started; the container was set Cancelled with the error in {@code
   * runtime_status}.
   */
  FAILED_TO_START
}

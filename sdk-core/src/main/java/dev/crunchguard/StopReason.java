package dev.crunchguard;

/** Why a dispatcher tells a runner to stop. */
public enum StopReason {
  /** The container was cancelled. */
  CANCELLED,
  /** The container's priority fell to 0: nobody wants it run now. */
  PRIORITY_ZERO,
  /** The container was unlocked (returned to the queue) by someone else. */
  UNLOCKED,
  /**
   * The container was locked again, by another token or by another process with this token: a new
   * epoch owns it.
   */
  RELOCKED,
  /** The container finished (Complete or Cancelled) while the runner was still running. */
  FINISHED,
  /** The lock was lost: a write or a verification found the epoch ended. */
  LOST,
  /** The dispatcher is shutting down. */
  SHUTDOWN
}

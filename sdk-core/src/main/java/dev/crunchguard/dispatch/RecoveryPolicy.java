package dev.crunchguard.dispatch;

/**
 * What a {@link Dispatcher} does with containers locked by its own token that it is not tracking
 * (left over from a crashed or restarted dispatcher, a lock whose answer was lost, or held by
 * another process that shares the token).
 */
public enum RecoveryPolicy {
  /**
   * Unlock Locked ones that stay Locked in one epoch for the dispatcher's orphan grace period
   * (guarded, in the epoch observed), from the first poll on, and leave Running ones alone. The
   * default: safe when other processes share the token, whose fresh locks are moved to Running by
   * their runners well within the grace period.
   */
  UNLOCK,
  /**
   * Adopt them on the first poll: hand Locked ones to the runner, and track Running ones until they
   * end (without a runner). <strong>Unsafe when any other process uses this token</strong>: a
   * sibling's fresh lock would get a second runner. Only for a token this process uses alone. Later
   * orphans are swept as with {@link #UNLOCK}.
   */
  ADOPT,
  /** Leave them as they are, also later: the operator recovers orphaned locks. */
  IGNORE
}

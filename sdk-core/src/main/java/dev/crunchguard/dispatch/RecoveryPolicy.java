package dev.crunchguard.dispatch;

/**
 * What a starting {@link Dispatcher} does with containers locked by its own token that it is not
 * tracking (left over from a crashed or restarted dispatcher, or held by another process that shares
 * the token).
 */
public enum RecoveryPolicy {
  /**
   * Unlock Locked ones (guarded, with the epoch read at start-up) and leave Running ones alone. The
   * default, since another process may share the token and be running them.
   */
  UNLOCK,
  /**
   * Adopt them: hand Locked ones to the runner, and track Running ones until they end (without a
   * runner). Only when no other process uses this token.
   */
  ADOPT,
  /** Leave them as they are. */
  IGNORE
}

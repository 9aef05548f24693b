package dev.crunchguard;

/**
 * What {@link Containers#lock(String)} does when a lock request's response was lost and the retry
 * was refused because the container is already Locked, and the read-back shows it locked by this
 * client's own token (and, when the caller knew the previous {@code lock_count}, locked exactly
 * once since).
 *
 * <p>That evidence cannot tell this process's lost lock from a lock taken by another process that
 * uses the same token: both show the same {@code locked_by_uuid}, and the rival's lock advanced
 * {@code lock_count} by one just as this process's would have. Clusters commonly run every
 * dispatcher with one token (the SystemRootToken), so the default refuses.
 */
public enum AmbiguousLockPolicy {
  /**
   * Throw {@link LockConflictException} and leave the container locked (the default). Safe when
   * several processes share the token. If the lock was in fact this process's, nobody runs that
   * epoch: the container stays Locked until an orphan sweep unlocks it (the {@link
   * dev.crunchguard.dispatch.Dispatcher} does, after its orphan grace period), which uses up one of
   * the container's {@code MaxDispatchAttempts}.
   */
  REFUSE,
  /**
   * Treat the lock as this process's and return a {@link ContainerLock} for the epoch that was read
   * back. Faster recovery, but <strong>unsafe when any other process uses this token</strong>: if
   * the lock was a rival's, two processes then hold one epoch, the guard cannot tell their writes
   * apart, and both may start a runner for the container. Choose it only when this token is used by
   * this process alone.
   */
  ADOPT
}

package dev.crunchguard;

/**
 * What {@link Containers#lock(String)} does when a lock request's response was lost and the retry
 * was refused because the container is already Locked, and the read-back shows it locked by this
 * client's own token (and, when the caller knew the previous {@code lock_count}, locked exactly
 * once since).
 *
 * <p>That evidence cannot tell this process's lost lock from a lock taken by another process that
 * uses the same token: both show the same {@code locked_by_uuid}. Choose by how your tokens are
 * shared.
 */
public enum AmbiguousLockPolicy {
  /**
   * Treat the lock as this process's and return a {@link ContainerLock} for the epoch that was read
   * back. Right when no other process uses this token (the default).
   */
  ADOPT,
  /**
   * Throw {@link LockConflictException} and leave the container locked. Right when several
   * processes share the token; the container's lock must then be recovered (unlocked) by whoever
   * owns that decision, for example a dispatcher's start-up recovery.
   */
  REFUSE
}

package dev.crunchguard;

import org.jspecify.annotations.Nullable;

/**
 * A lock was refused: the container was not Queued (someone else locked it first, or it is already
 * running or finished) or its priority is 0. You never held this lock. For a dispatcher this is a
 * normal outcome of racing other dispatchers, not an error to alarm about.
 *
 * <p>When the SDK read the container back to resolve an ambiguous outcome, {@link #observedState()}
 * says what it saw.
 */
public final class LockConflictException extends ArvadosServiceException {
  private static final long serialVersionUID = 1L;

  /** The container that could not be locked. */
  private final String containerUuid;

  /** The state read back, or null. */
  private final @Nullable ContainerState observedState;

  /** Whether the refusal was for priority 0. */
  private final boolean priorityZero;

  LockConflictException(
      ErrorDetails details, String containerUuid, @Nullable ContainerState observedState) {
    super(details);
    this.priorityZero = Refusal.of(details) == Refusal.PRIORITY_ZERO;
    this.containerUuid = containerUuid;
    this.observedState = observedState;
  }

  /**
   * The container that could not be locked.
   *
   * @return its uuid
   */
  public String containerUuid() {
    return containerUuid;
  }

  /**
   * The container's state as read back after the refusal, or null when no read-back was needed.
   *
   * @return the observed state or null
   */
  public @Nullable ContainerState observedState() {
    return observedState;
  }

  /**
   * Whether the server refused because the container's priority is 0 (nobody wants it run now).
   *
   * @return true for a {@code cannot lock when priority<=0} refusal
   */
  public boolean isPriorityZero() {
    return priorityZero;
  }
}

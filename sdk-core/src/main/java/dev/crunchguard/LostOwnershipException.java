package dev.crunchguard;

import org.jspecify.annotations.Nullable;

/**
 * This process held a lock epoch of a container and the server says it no longer does: the
 * container was unlocked (and perhaps locked again, possibly by the same token), cancelled,
 * finished, or the container token this runner writes with has expired.
 *
 * <p>Never retried: stop working on the container. The exception carries the container uuid, the
 * {@code auth_uuid} of the epoch that was held, and what the SDK observed when it read the
 * container back: its state, whether {@code auth_uuid} changed, and {@code locked_by_uuid}. Any of
 * the observed values is null when the SDK could not read the container back. It carries no secret.
 */
public final class LostOwnershipException extends ArvadosException {
  private static final long serialVersionUID = 1L;

  private final String containerUuid;
  private final @Nullable String heldAuthUuid;
  private final @Nullable ContainerState observedState;
  private final @Nullable String observedAuthUuid;
  private final @Nullable Boolean authUuidChanged;
  private final @Nullable String observedLockedByUuid;

  LostOwnershipException(
      String containerUuid,
      @Nullable String heldAuthUuid,
      @Nullable Container observed,
      String reason,
      @Nullable Throwable cause) {
    super(describe(containerUuid, heldAuthUuid, observed, reason), cause);
    this.containerUuid = containerUuid;
    this.heldAuthUuid = heldAuthUuid;
    this.observedState = observed == null ? null : observed.state();
    this.observedAuthUuid = observed == null ? null : observed.authUuid();
    this.authUuidChanged =
        observed == null || !observed.has("auth_uuid")
            ? null
            : !java.util.Objects.equals(observed.authUuid(), heldAuthUuid);
    this.observedLockedByUuid = observed == null ? null : observed.lockedByUuid();
  }

  /** A fresh exception for a call made after the loss was already known (fail fast). */
  LostOwnershipException(LostOwnershipException first) {
    super("lock on " + first.containerUuid + " was already lost: " + first.getMessage(), first);
    this.containerUuid = first.containerUuid;
    this.heldAuthUuid = first.heldAuthUuid;
    this.observedState = first.observedState;
    this.observedAuthUuid = first.observedAuthUuid;
    this.authUuidChanged = first.authUuidChanged;
    this.observedLockedByUuid = first.observedLockedByUuid;
  }

  private static String describe(
      String uuid, @Nullable String held, @Nullable Container observed, String reason) {
    StringBuilder sb = new StringBuilder("lost ownership of ").append(uuid);
    sb.append(" (held auth_uuid ").append(held).append("): ").append(reason);
    if (observed != null) {
      sb.append("; observed state=").append(observed.state() == null ? "?" : observed.state().wireName());
      if (observed.has("auth_uuid")) {
        sb.append(", auth_uuid=").append(observed.authUuid());
      }
      if (observed.has("locked_by_uuid")) {
        sb.append(", locked_by_uuid=").append(observed.lockedByUuid());
      }
    }
    return sb.toString();
  }

  /**
   * The container whose lock was lost.
   *
   * @return the container uuid
   */
  public String containerUuid() {
    return containerUuid;
  }

  /**
   * The {@code auth_uuid} of the epoch this process held; null for an unfenced lock (a container
   * with a {@code runtime_token}).
   *
   * @return the held auth_uuid or null
   */
  public @Nullable String heldAuthUuid() {
    return heldAuthUuid;
  }

  /**
   * The container's state when read back, or null if it was not read back.
   *
   * @return the observed state or null
   */
  public @Nullable ContainerState observedState() {
    return observedState;
  }

  /**
   * The container's {@code auth_uuid} when read back (null when it has none, or when not read).
   *
   * @return the observed auth_uuid or null
   */
  public @Nullable String observedAuthUuid() {
    return observedAuthUuid;
  }

  /**
   * Whether the read-back {@code auth_uuid} differs from the held one; null when not read back.
   *
   * @return TRUE if the epoch changed, FALSE if not, null if unknown
   */
  public @Nullable Boolean authUuidChanged() {
    return authUuidChanged;
  }

  /**
   * The container's {@code locked_by_uuid} when read back (the token uuid of the current locker),
   * or null.
   *
   * @return the observed locked_by_uuid or null
   */
  public @Nullable String observedLockedByUuid() {
    return observedLockedByUuid;
  }
}

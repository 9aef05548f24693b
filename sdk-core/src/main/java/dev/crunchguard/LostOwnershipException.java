package dev.crunchguard;

import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * This process held a lock epoch of a container and the server says it no longer does: the
 * container was unlocked (and perhaps locked again, possibly by the same token), cancelled,
 * finished, or the container token this runner writes with was revoked.
 *
 * <p>Never retried: stop working on the container. The exception carries the epoch that was held
 * ({@link #heldEpoch()}), how the loss was detected ({@link #detection()}), and the container
 * record the SDK read when it checked, if it read one ({@link #observed()}). It carries no secret.
 *
 * <pre>{@code
 * try {
 *   lock.complete(exit, output);
 * } catch (LostOwnershipException e) {
 *   log.warn("fenced off {} ({}): now {}", e.containerUuid(), e.detection(),
 *       e.observed().map(Container::state).orElse(null));
 * }
 * }</pre>
 */
public final class LostOwnershipException extends ArvadosException {
  private static final long serialVersionUID = 1L;

  /** How the SDK learned that the epoch had ended. */
  public enum Detection {
    /** The server refused a write because it carried a stale {@code auth_uuid}. */
    STALE_EPOCH_REFUSED,
    /** A read of the container showed another epoch, or a state outside Locked/Running. */
    EPOCH_ENDED,
    /** The container's own token was refused (401): the server revokes it when the epoch ends. */
    TOKEN_REVOKED,
    /** The container no longer exists or is no longer readable with this token (404). */
    CONTAINER_GONE,
    /**
     * The loss was already known: a call on a lost lock fails at once, without a request. The first
     * detection is the {@linkplain #getCause() cause}.
     */
    ALREADY_LOST
  }

  /** The epoch that was held. */
  private final LockEpoch heldEpoch;

  /** How the loss was detected. */
  private final Detection detection;

  private final transient @Nullable Container observed;

  LostOwnershipException(
      LockEpoch heldEpoch,
      Detection detection,
      @Nullable Container observed,
      String reason,
      @Nullable Throwable cause) {
    super(describe(heldEpoch, observed, reason), cause);
    this.heldEpoch = Objects.requireNonNull(heldEpoch, "heldEpoch");
    this.detection = Objects.requireNonNull(detection, "detection");
    this.observed = observed;
  }

  /** A fail-fast exception for a call made after the loss {@code first} was recorded. */
  static LostOwnershipException alreadyLost(LostOwnershipException first) {
    return new LostOwnershipException(
        first.heldEpoch,
        Detection.ALREADY_LOST,
        null,
        "already lost (" + first.detection.name().toLowerCase(java.util.Locale.ROOT) + ")",
        first);
  }

  private static String describe(LockEpoch held, @Nullable Container observed, String reason) {
    StringBuilder sb = new StringBuilder("lost ownership of ").append(held.containerUuid());
    sb.append(" (held auth_uuid ").append(held.authUuid()).append("): ").append(reason);
    if (observed != null) {
      sb.append("; observed state=")
          .append(observed.state() == null ? "?" : observed.state().wireName());
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
    return heldEpoch.containerUuid();
  }

  /**
   * The epoch this process held.
   *
   * @return the held epoch
   */
  public LockEpoch heldEpoch() {
    return heldEpoch;
  }

  /**
   * How the loss was detected.
   *
   * @return the detection
   */
  public Detection detection() {
    return detection;
  }

  /**
   * The container as the SDK read it when it judged the loss: its state, its current {@code
   * auth_uuid} and {@code locked_by_uuid}. Empty when no read was made or it failed.
   *
   * @return the observed record, if any
   */
  public Optional<Container> observed() {
    return Optional.ofNullable(observed);
  }
}

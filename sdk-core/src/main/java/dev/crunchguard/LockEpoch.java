package dev.crunchguard;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One lock epoch of one container: what a lock holder knows about the lock it holds, and the one
 * rule that says whether a container record still shows that epoch. Immutable and thread-safe;
 * nothing in it is secret.
 *
 * <p>Every lock gives the container a fresh {@code auth_uuid}, which names the epoch: the server
 * refuses writes that carry another value. A container with a {@code runtime_token} gets no {@code
 * auth_uuid}; its epoch is <em>unfenced</em> and named by {@code locked_by_uuid} and {@code
 * lock_count} instead.
 *
 * <p>The epoch is also what a dispatcher hands to a runner process, through the environment ({@link
 * #toEnvironment()} / {@link #fromEnvironment()}); the runner authenticates with its own {@code
 * ARVADOS_API_TOKEN}.
 *
 * <pre>{@code
 * // dispatcher
 * ContainerLock lock = client.containers().lock(uuid);
 * ProcessBuilder pb = new ProcessBuilder("my-runner");
 * pb.environment().putAll(lock.epoch().toEnvironment());
 *
 * // runner
 * ContainerLock lock = client.containers().resume(LockEpoch.fromEnvironment());
 * lock.verify();
 * lock.markRunning();
 * }</pre>
 */
public final class LockEpoch {
  /** Environment variable holding the container uuid. */
  public static final String ENV_CONTAINER_UUID = "CRUNCHGUARD_CONTAINER_UUID";

  /** Environment variable holding the epoch's auth_uuid; absent for an unfenced lock. */
  public static final String ENV_AUTH_UUID = "CRUNCHGUARD_AUTH_UUID";

  /** Environment variable holding the locker's token uuid. */
  public static final String ENV_LOCKED_BY_UUID = "CRUNCHGUARD_LOCKED_BY_UUID";

  /** Environment variable holding the lock_count of the epoch, when known. */
  public static final String ENV_LOCK_COUNT = "CRUNCHGUARD_LOCK_COUNT";

  private final String containerUuid;
  private final @Nullable String authUuid;
  private final @Nullable String lockedByUuid;
  private final @Nullable Long lockCount;

  private LockEpoch(
      String containerUuid,
      @Nullable String authUuid,
      @Nullable String lockedByUuid,
      @Nullable Long lockCount) {
    this.containerUuid = Uuids.container(containerUuid);
    this.authUuid = Uuids.tokenOrNull(authUuid, "auth_uuid");
    this.lockedByUuid = Uuids.tokenOrNull(lockedByUuid, "locked_by_uuid");
    if (lockCount != null && lockCount < 1) {
      throw new IllegalArgumentException(
          "lock_count of a held lock must be >= 1, got " + lockCount);
    }
    this.lockCount = lockCount;
    if (authUuid == null && lockedByUuid == null) {
      throw new IllegalArgumentException(
          "an unfenced epoch (no auth_uuid) needs at least locked_by_uuid for " + containerUuid);
    }
  }

  /**
   * An epoch with the given identity.
   *
   * @param containerUuid the container
   * @param authUuid the epoch's auth_uuid, or null for an unfenced container (then {@code
   *     lockedByUuid} is required, and {@code lockCount} makes the check stronger)
   * @param lockedByUuid the token uuid that locked the container, or null if unknown
   * @param lockCount the container's lock_count in this epoch (at least 1), or null if unknown
   * @return the epoch
   * @throws IllegalArgumentException if a uuid is malformed, or neither auth_uuid nor
   *     locked_by_uuid is given
   */
  public static LockEpoch of(
      String containerUuid,
      @Nullable String authUuid,
      @Nullable String lockedByUuid,
      @Nullable Long lockCount) {
    return new LockEpoch(containerUuid, authUuid, lockedByUuid, lockCount);
  }

  /**
   * The epoch a Locked or Running record shows.
   *
   * @param record a container record with its uuid, {@code auth_uuid} and {@code locked_by_uuid}
   *     (and {@code lock_count} when known)
   * @return the epoch
   * @throws IllegalArgumentException if the record names no epoch (neither auth_uuid nor
   *     locked_by_uuid)
   */
  public static LockEpoch of(Container record) {
    return new LockEpoch(
        record.uuid(), record.authUuid(), record.lockedByUuid(), record.lockCount());
  }

  /**
   * The epoch handed to this process by a dispatcher, from {@link System#getenv()}.
   *
   * @return the epoch
   * @throws IllegalArgumentException if the variables are missing or malformed
   */
  public static LockEpoch fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /**
   * The epoch described by the given environment variables.
   *
   * @param env the environment, as {@link #toEnvironment()} wrote it
   * @return the epoch
   * @throws IllegalArgumentException if the variables are missing or malformed
   */
  public static LockEpoch fromEnvironment(Map<String, String> env) {
    String uuid = blankToNull(env.get(ENV_CONTAINER_UUID));
    if (uuid == null) {
      throw new IllegalArgumentException(
          ENV_CONTAINER_UUID + " is not set: this process was not handed a lock");
    }
    String count = blankToNull(env.get(ENV_LOCK_COUNT));
    Long lockCount = null;
    if (count != null) {
      try {
        lockCount = Long.parseLong(count);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(ENV_LOCK_COUNT + " is not an integer: " + count);
      }
    }
    return new LockEpoch(
        uuid,
        blankToNull(env.get(ENV_AUTH_UUID)),
        blankToNull(env.get(ENV_LOCKED_BY_UUID)),
        lockCount);
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  /**
   * The variables a runner process needs to write in this epoch.
   *
   * @return an unmodifiable map of {@code CRUNCHGUARD_*} variables
   */
  public Map<String, String> toEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(ENV_CONTAINER_UUID, containerUuid);
    if (authUuid != null) {
      env.put(ENV_AUTH_UUID, authUuid);
    }
    if (lockedByUuid != null) {
      env.put(ENV_LOCKED_BY_UUID, lockedByUuid);
    }
    if (lockCount != null) {
      env.put(ENV_LOCK_COUNT, Long.toString(lockCount));
    }
    return Map.copyOf(env);
  }

  /**
   * Whether a record still shows this epoch: the container is Locked or Running and, for a fenced
   * epoch, carries the same {@code auth_uuid}; for an unfenced one, still has no {@code auth_uuid},
   * the same {@code locked_by_uuid} and, when both sides know it, the same {@code lock_count}. A
   * field the record does not carry is no evidence either way, except the state and {@code
   * auth_uuid} that a fenced judgement needs.
   *
   * @param record the container as read from the server
   * @return true if the epoch is still current in that record
   * @throws IllegalArgumentException if the record is of another container
   */
  public boolean isCurrentIn(Container record) {
    Objects.requireNonNull(record, "record");
    if (!containerUuid.equals(record.uuid())) {
      throw new IllegalArgumentException(
          "record of " + record.uuid() + " judged against the epoch of " + containerUuid);
    }
    ContainerState s = record.state();
    if (s != ContainerState.LOCKED && s != ContainerState.RUNNING) {
      return false;
    }
    if (authUuid != null) {
      return authUuid.equals(record.authUuid());
    }
    if (record.authUuid() != null) {
      return false;
    }
    if (lockedByUuid != null
        && record.has("locked_by_uuid")
        && !lockedByUuid.equals(record.lockedByUuid())) {
      return false;
    }
    return lockCount == null || record.lockCount() == null || lockCount.equals(record.lockCount());
  }

  /**
   * @return the container's uuid
   */
  public String containerUuid() {
    return containerUuid;
  }

  /**
   * @return the epoch's {@code auth_uuid} (the fencing token), or null for an unfenced epoch
   */
  public @Nullable String authUuid() {
    return authUuid;
  }

  /**
   * @return the token uuid that locked the container, or null if unknown
   */
  public @Nullable String lockedByUuid() {
    return lockedByUuid;
  }

  /**
   * @return the container's {@code lock_count} in this epoch, or null if unknown
   */
  public @Nullable Long lockCount() {
    return lockCount;
  }

  /**
   * Whether the server itself fences this epoch's writes ({@code auth_uuid} is known).
   *
   * @return true if fenced
   */
  public boolean isFenced() {
    return authUuid != null;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof LockEpoch)) {
      return false;
    }
    LockEpoch e = (LockEpoch) o;
    return containerUuid.equals(e.containerUuid)
        && Objects.equals(authUuid, e.authUuid)
        && Objects.equals(lockedByUuid, e.lockedByUuid)
        && Objects.equals(lockCount, e.lockCount);
  }

  @Override
  public int hashCode() {
    return Objects.hash(containerUuid, authUuid, lockedByUuid, lockCount);
  }

  @Override
  public String toString() {
    return "LockEpoch{container="
        + containerUuid
        + ", auth_uuid="
        + authUuid
        + ", locked_by_uuid="
        + lockedByUuid
        + ", lock_count="
        + lockCount
        + '}';
  }
}

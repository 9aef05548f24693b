package dev.crunchguard;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a dispatcher passes to a runner process so that the runner writes in the dispatcher's lock
 * epoch: the container uuid and the epoch's {@code auth_uuid} (and, for unfenced containers, the
 * {@code locked_by_uuid} and {@code lock_count} used instead). Nothing in it is secret; the runner
 * authenticates with its own {@code ARVADOS_API_TOKEN}.
 *
 * <pre>{@code
 * // dispatcher
 * ContainerLock lock = client.containers().lock(uuid);
 * ProcessBuilder pb = new ProcessBuilder("my-runner");
 * pb.environment().putAll(lock.handoff().toEnvironment());
 *
 * // runner
 * ContainerLock lock = client.containers().resume(LockHandoff.fromEnvironment());
 * lock.verify();
 * lock.markRunning();
 * }</pre>
 */
public final class LockHandoff {
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

  private LockHandoff(String containerUuid, @Nullable String authUuid, @Nullable String lockedByUuid, @Nullable Long lockCount) {
    this.containerUuid = Uuids.container(containerUuid);
    this.authUuid = Uuids.tokenOrNull(authUuid, "auth_uuid");
    this.lockedByUuid = Uuids.tokenOrNull(lockedByUuid, "locked_by_uuid");
    if (lockCount != null && lockCount < 1) {
      throw new IllegalArgumentException("lock_count of a held lock must be >= 1, got " + lockCount);
    }
    this.lockCount = lockCount;
    if (authUuid == null && lockedByUuid == null) {
      throw new IllegalArgumentException(
          "an unfenced handoff (no auth_uuid) needs at least locked_by_uuid for " + containerUuid);
    }
  }

  /**
   * A handoff for the given epoch.
   *
   * @param containerUuid the container
   * @param authUuid the epoch's auth_uuid, or null for an unfenced container (then
   *     {@code lockedByUuid} is required, and {@code lockCount} makes the check stronger)
   * @param lockedByUuid the locker's token uuid, or null if unknown
   * @param lockCount the container's lock_count in this epoch, or null if unknown
   * @return the handoff
   */
  public static LockHandoff of(String containerUuid, @Nullable String authUuid, @Nullable String lockedByUuid, @Nullable Long lockCount) {
    return new LockHandoff(containerUuid, authUuid, lockedByUuid, lockCount);
  }

  /**
   * Reads a handoff from this process's environment.
   *
   * @return the handoff
   * @throws IllegalArgumentException if a variable is missing or malformed
   */
  public static LockHandoff fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /**
   * Reads a handoff from the given environment map.
   *
   * @param env variables, as from {@link #toEnvironment()}
   * @return the handoff
   * @throws IllegalArgumentException if a variable is missing or malformed
   */
  public static LockHandoff fromEnvironment(Map<String, String> env) {
    String uuid = blankToNull(env.get(ENV_CONTAINER_UUID));
    if (uuid == null) {
      throw new IllegalArgumentException(ENV_CONTAINER_UUID + " is not set: this process was not handed a lock");
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
    return new LockHandoff(uuid, blankToNull(env.get(ENV_AUTH_UUID)), blankToNull(env.get(ENV_LOCKED_BY_UUID)), lockCount);
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  /**
   * The variables that {@link #fromEnvironment()} reads; absent values are left out.
   *
   * @return an unmodifiable map
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

  /** @return the container uuid */
  public String containerUuid() {
    return containerUuid;
  }

  /** @return the epoch's auth_uuid, or null for an unfenced lock */
  public @Nullable String authUuid() {
    return authUuid;
  }

  /** @return the locker's token uuid, or null if unknown */
  public @Nullable String lockedByUuid() {
    return lockedByUuid;
  }

  /** @return the epoch's lock_count, or null if unknown */
  public @Nullable Long lockCount() {
    return lockCount;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof LockHandoff)) {
      return false;
    }
    LockHandoff h = (LockHandoff) o;
    return containerUuid.equals(h.containerUuid) && Objects.equals(authUuid, h.authUuid)
        && Objects.equals(lockedByUuid, h.lockedByUuid) && Objects.equals(lockCount, h.lockCount);
  }

  @Override
  public int hashCode() {
    return Objects.hash(containerUuid, authUuid, lockedByUuid, lockCount);
  }

  @Override
  public String toString() {
    return "LockHandoff{container=" + containerUuid + ", auth_uuid=" + authUuid
        + ", locked_by_uuid=" + lockedByUuid + ", lock_count=" + lockCount + '}';
  }
}

package dev.crunchguard.testkit;

import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One recorded container write attempt: every accepted create/lock/unlock/update/delete (including
 * accepted no-op updates) and every rejected one. Immutable. Never contains a token secret.
 *
 * @param sequence global order of recording (events of one container are recorded under its lock,
 *     so their sequence order is their application order)
 * @param monotonicNanos {@link System#nanoTime()} at recording
 * @param containerUuid the container
 * @param action what was attempted
 * @param requestId the request id ({@code X-Request-Id} or generated)
 * @param tokenUuid the caller's token uuid (null for direct Java API writes)
 * @param clientIdentity {@code X-Crunch-Guard-Client} header, else {@code User-Agent}, else {@code
 *     "unknown"}
 * @param appliedEpoch the container's {@code auth_uuid} at the moment the write was applied (or
 *     rejected)
 * @param epochAfter the container's {@code auth_uuid} after the write
 * @param claimSource where {@link #claimedEpoch} came from
 * @param claimedEpoch the epoch the writer claimed (may be null: a claim of "no epoch")
 * @param accepted whether the write was accepted (HTTP 200)
 * @param status the HTTP status of the answer
 * @param staleEpochRejection whether the rejection carried {@code Auth uuid is readonly}
 * @param requestedState the {@code state} the request asked for (lock: Locked, unlock: Queued)
 * @param stateBefore the state at application time
 * @param stateAfter the state after the write (equal to stateBefore when rejected)
 * @param lockCountBefore {@code lock_count} at application time
 * @param fields the container attributes the request carried
 * @param errors the error messages of a rejection (without request-id suffix)
 */
public record HistoryEvent(
    long sequence,
    long monotonicNanos,
    String containerUuid,
    WriteAction action,
    String requestId,
    @Nullable String tokenUuid,
    String clientIdentity,
    @Nullable String appliedEpoch,
    @Nullable String epochAfter,
    ClaimSource claimSource,
    @Nullable String claimedEpoch,
    boolean accepted,
    int status,
    boolean staleEpochRejection,
    @Nullable String requestedState,
    @Nullable String stateBefore,
    @Nullable String stateAfter,
    long lockCountBefore,
    Set<String> fields,
    List<String> errors) {

  /**
   * Copies the collections so the event is immutable.
   *
   * @param sequence global order of recording
   * @param monotonicNanos {@link System#nanoTime()} at recording
   * @param containerUuid the container's uuid
   * @param action what was attempted
   * @param requestId the request id ({@code X-Request-Id} or generated)
   * @param tokenUuid the caller's token uuid, null for direct Java API writes
   * @param clientIdentity {@code X-Crunch-Guard-Client} header, else {@code User-Agent}, else
   *     {@code "unknown"}
   * @param appliedEpoch the container's {@code auth_uuid} when the write was applied or rejected,
   *     or null
   * @param epochAfter the container's {@code auth_uuid} after the write, or null
   * @param claimSource where {@code claimedEpoch} came from
   * @param claimedEpoch the epoch the writer claimed, or null for a claim of "no epoch"
   * @param accepted whether the write was accepted (HTTP 200)
   * @param status the HTTP status of the answer
   * @param staleEpochRejection whether the rejection carried {@code Auth uuid is readonly}
   * @param requestedState the {@code state} the request asked for, or null
   * @param stateBefore the state at application time, or null
   * @param stateAfter the state after the write (equal to stateBefore when rejected), or null
   * @param lockCountBefore {@code lock_count} at application time
   * @param fields the container attributes the request carried; copied, must not be null
   * @param errors the error messages of a rejection; copied, must not be null
   */
  public HistoryEvent {
    fields = Set.copyOf(fields);
    errors = List.copyOf(errors);
  }

  /**
   * Whether the writer claimed an epoch at all.
   *
   * @return true unless {@link #claimSource} is {@link ClaimSource#NONE}
   */
  public boolean claimed() {
    return claimSource != ClaimSource.NONE;
  }

  /**
   * The epoch key used by the checker: {@link #appliedEpoch} when set, else {@code lock#N} with N =
   * {@link #lockCountBefore} (runtime_token containers never get an auth_uuid).
   *
   * @return the {@code auth_uuid} the write was applied under, or {@code lock#N}; never null
   */
  public String epochKey() {
    return appliedEpoch != null ? appliedEpoch : "lock#" + lockCountBefore;
  }
}

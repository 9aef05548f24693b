package dev.crunchguard.testkit;

import java.util.List;

/**
 * One violated safety property.
 *
 * @param property the property
 * @param containerUuid the container
 * @param epoch the epoch key ({@link HistoryEvent#epochKey()}) the violation happened in
 * @param description a readable explanation
 * @param eventSequences the {@link HistoryEvent#sequence()} numbers involved
 */
public record SafetyViolation(
    Property property,
    String containerUuid,
    String epoch,
    String description,
    List<Long> eventSequences) {

  /** The checked properties. */
  public enum Property {
    /** P1: no write is accepted from a stale epoch. */
    STALE_EPOCH_WRITE,
    /** P2: at most one client identity per (container, epoch) has accepted runner writes. */
    MULTIPLE_RUNNERS_PER_EPOCH,
    /** P3: a container reaches Running at most once per epoch. */
    RUNNING_MORE_THAN_ONCE_PER_EPOCH,
    /**
     * P4: an epoch is unlocked or cancelled by a dispatcher only if that dispatcher locked it or
     * ran in it.
     */
    EPOCH_ENDED_BY_STRANGER
  }

  /**
   * Copies the list.
   *
   * @param property the violated property
   * @param containerUuid the uuid of the container the violation is about
   * @param epoch the epoch key ({@link HistoryEvent#epochKey()}) the violation happened in
   * @param description a readable explanation
   * @param eventSequences the {@link HistoryEvent#sequence()} numbers involved; copied, must not be
   *     null
   */
  public SafetyViolation {
    eventSequences = List.copyOf(eventSequences);
  }

  @Override
  public String toString() {
    return property
        + " on "
        + containerUuid
        + " in epoch "
        + epoch
        + ": "
        + description
        + " (events "
        + eventSequences
        + ")";
  }
}

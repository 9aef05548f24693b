package dev.crunchguard;

/**
 * The state of an Arvados container.
 *
 * <p>The server allows these transitions: Queued to Locked or Cancelled; Locked to Queued, Running
 * or Cancelled; Running to Complete or Cancelled; Complete to Cancelled. {@link #UNKNOWN} stands
 * for any state a newer server may add; the SDK never sends it.
 */
public enum ContainerState {
  /** Waiting for a dispatcher to lock it. */
  QUEUED("Queued"),
  /** Locked by a dispatcher; no runner has reported Running yet. */
  LOCKED("Locked"),
  /** A runner has started the container's process. */
  RUNNING("Running"),
  /** Finished; {@code exit_code} tells how. */
  COMPLETE("Complete"),
  /** Cancelled; final. */
  CANCELLED("Cancelled"),
  /** A state this version of the SDK does not know. */
  UNKNOWN("");

  private final String wireName;

  ContainerState(String wireName) {
    this.wireName = wireName;
  }

  /**
   * The name the API uses, for example {@code "Locked"}; empty for {@link #UNKNOWN}.
   *
   * @return the wire name
   */
  public String wireName() {
    return wireName;
  }

  /**
   * Whether no further state change can undo this one (Complete or Cancelled).
   *
   * @return true for {@link #COMPLETE} and {@link #CANCELLED}
   */
  public boolean isFinal() {
    return this == COMPLETE || this == CANCELLED;
  }

  /** values() clones its array on every call; decoding reads this one. */
  private static final ContainerState[] VALUES = values();

  /**
   * Parses an API state name.
   *
   * @param wireName the state as the API spells it, for example {@code "Running"}
   * @return the state, or {@link #UNKNOWN} for a name this SDK does not know
   */
  public static ContainerState fromWire(String wireName) {
    for (ContainerState s : VALUES) {
      if (s != UNKNOWN && s.wireName.equals(wireName)) {
        return s;
      }
    }
    return UNKNOWN;
  }
}

package dev.crunchguard.testkit.internal.model;

import java.util.EnumSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Container states and the transition table of spec §4.2. */
public enum State {
  QUEUED("Queued"),
  LOCKED("Locked"),
  RUNNING("Running"),
  COMPLETE("Complete"),
  CANCELLED("Cancelled");

  final String wire;

  State(String wire) {
    this.wire = wire;
  }

  /** Returns the state for a wire name, or null for anything else (including null). */
  static @Nullable State parse(@Nullable String s) {
    if (s == null) {
      return null;
    }
    for (State st : values()) {
      if (st.wire.equals(s)) {
        return st;
      }
    }
    return null;
  }

  Set<State> allowedNext() {
    switch (this) {
      case QUEUED:
        return EnumSet.of(LOCKED, CANCELLED);
      case LOCKED:
        return EnumSet.of(QUEUED, RUNNING, CANCELLED);
      case RUNNING:
        return EnumSet.of(COMPLETE, CANCELLED);
      case COMPLETE:
        return EnumSet.of(CANCELLED);
      default:
        return EnumSet.noneOf(State.class);
    }
  }

  boolean isFinal() {
    return this == COMPLETE || this == CANCELLED;
  }

  boolean holdsLock() {
    return this == LOCKED || this == RUNNING;
  }
}

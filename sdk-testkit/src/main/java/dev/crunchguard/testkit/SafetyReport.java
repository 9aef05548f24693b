package dev.crunchguard.testkit;

import java.util.List;

/** The result of {@link SafetyChecker#check}: the violations found, if any. */
public final class SafetyReport {
  private final List<SafetyViolation> violations;
  private final int eventsChecked;

  SafetyReport(List<SafetyViolation> violations, int eventsChecked) {
    this.violations = List.copyOf(violations);
    this.eventsChecked = eventsChecked;
  }

  /**
   * All violations, grouped by property then in history order.
   *
   * @return an immutable list of every violation found, empty when the history is safe
   */
  public List<SafetyViolation> violations() {
    return violations;
  }

  /**
   * The violations of one property.
   *
   * @param p the property to filter on
   * @return an immutable list of the violations of {@code p} in report order, empty when there are
   *     none
   */
  public List<SafetyViolation> violations(SafetyViolation.Property p) {
    return violations.stream().filter(v -> v.property() == p).toList();
  }

  /**
   * Whether no property was violated.
   *
   * @return true when {@link #violations()} is empty
   */
  public boolean isSafe() {
    return violations.isEmpty();
  }

  /**
   * How many history events were examined.
   *
   * @return the number of {@link HistoryEvent}s the checker read
   */
  public int eventsChecked() {
    return eventsChecked;
  }

  /**
   * Throws when a property was violated.
   *
   * @throws AssertionError with one line per violation
   */
  public void assertSafe() {
    if (!isSafe()) {
      throw new AssertionError(summary());
    }
  }

  /**
   * A readable multi-line summary.
   *
   * @return {@code "safe: N history events, no violations"}, or a header line with the violation
   *     and event counts followed by one {@code " - "} line per violation
   */
  public String summary() {
    if (isSafe()) {
      return "safe: " + eventsChecked + " history events, no violations";
    }
    StringBuilder sb = new StringBuilder();
    sb.append(violations.size())
        .append(" safety violation(s) in ")
        .append(eventsChecked)
        .append(" history events:");
    for (SafetyViolation v : violations) {
      sb.append("\n  - ").append(v);
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return summary();
  }
}

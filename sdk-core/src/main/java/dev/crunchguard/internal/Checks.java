package dev.crunchguard.internal;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Argument checks and the one exponential back-off rule, shared by the SDK's builders and loops.
 * Not API.
 */
public final class Checks {
  private Checks() {}

  /**
   * {@code d}, if it is a positive duration.
   *
   * @param d the value
   * @param name the setting's name, for the message
   * @return {@code d}
   * @throws IllegalArgumentException if {@code d} is null, zero or negative
   */
  public static Duration positive(@Nullable Duration d, String name) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be a positive duration, got " + d);
    }
    return d;
  }

  /**
   * The exponential back-off before attempt {@code n + 1}: {@code base} after the first failure,
   * doubled after each further one, never above {@code cap} (and never overflowing).
   *
   * @param baseNanos the first wait, positive
   * @param capNanos the largest wait, at least {@code baseNanos}
   * @param n how many failures so far, at least 1
   * @return the wait in nanoseconds
   */
  public static long exponentialNanos(long baseNanos, long capNanos, int n) {
    long bound = Math.min(baseNanos, capNanos);
    for (int i = 1; i < n && bound < capNanos; i++) {
      bound = bound > capNanos / 2 ? capNanos : bound * 2;
    }
    return Math.min(bound, capNanos);
  }
}

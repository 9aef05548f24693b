package dev.crunchguard.examples.cli;

import java.time.Duration;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations on the command line and in reports: {@code 250ms}, {@code 5s}, {@code 1.5s}, {@code
 * 2m}, or plain milliseconds.
 */
public final class Durations {
  private Durations() {}

  /**
   * Parses a positive duration.
   *
   * @param text {@code 250ms}, {@code 5s}, {@code 1.5s}, {@code 2m}, or plain milliseconds
   * @return the duration
   * @throws TypeConversionException if {@code text} is not a positive duration
   */
  public static Duration parse(String text) {
    Duration d;
    try {
      if (text.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
      } else if (text.endsWith("s")) {
        d =
            Duration.ofMillis(
                Math.round(Double.parseDouble(text.substring(0, text.length() - 1)) * 1000));
      } else if (text.endsWith("m")) {
        d = Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
      } else {
        d = Duration.ofMillis(Long.parseLong(text));
      }
    } catch (NumberFormatException e) {
      throw new TypeConversionException(
          "'" + text + "' is not a duration like 500ms, 5s, 1.5s or 2m");
    }
    if (d.isNegative() || d.isZero()) {
      throw new TypeConversionException("must be positive, got " + text);
    }
    return d;
  }

  /**
   * A duration for reports and log lines: whole seconds as {@code "2 s"}, else milliseconds.
   *
   * @param d the duration
   * @return its text
   */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 1000 == 0) {
      return ms / 1000 + " s";
    }
    return ms + " ms";
  }
}

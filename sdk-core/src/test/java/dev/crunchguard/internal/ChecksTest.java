package dev.crunchguard.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChecksTest {
  @Test
  void positive_acceptsPositiveDurations_andNamesTheSettingOtherwise() {
    assertThat(Checks.positive(Duration.ofMillis(1), "x")).isEqualTo(Duration.ofMillis(1));
    assertThatThrownBy(() -> Checks.positive(Duration.ZERO, "pollInterval"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pollInterval must be a positive duration, got PT0S");
    assertThatThrownBy(() -> Checks.positive(Duration.ofSeconds(-1), "a"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Checks.positive(null, "b"))
        .hasMessage("b must be a positive duration, got null");
  }

  @Test
  void exponential_doublesFromTheBase_andStopsAtTheCap() {
    assertThat(Checks.exponentialNanos(10, 100, 1)).isEqualTo(10);
    assertThat(Checks.exponentialNanos(10, 100, 2)).isEqualTo(20);
    assertThat(Checks.exponentialNanos(10, 100, 4)).isEqualTo(80);
    assertThat(Checks.exponentialNanos(10, 100, 5)).isEqualTo(100);
    assertThat(Checks.exponentialNanos(10, 100, 1_000_000)).isEqualTo(100);
    assertThat(Checks.exponentialNanos(500, 100, 1)).as("a base above the cap").isEqualTo(100);
  }

  @Test
  void exponential_neverOverflows() {
    assertThat(Checks.exponentialNanos(Long.MAX_VALUE / 3, Long.MAX_VALUE, 64))
        .isEqualTo(Long.MAX_VALUE);
  }
}

package dev.crunchguard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The wire names of container states (services/api/app/models/container.rb States, line 114) and
 * the UNKNOWN fallback.
 */
class ContainerStateTest {

  @ParameterizedTest
  @EnumSource(value = ContainerState.class, names = "UNKNOWN", mode = EnumSource.Mode.EXCLUDE)
  void everyKnownState_roundTripsThroughItsWireName(ContainerState s) {
    assertThat(ContainerState.fromWire(s.wireName())).isSameAs(s);
    assertThat(s.wireName())
        .isEqualTo(s.name().charAt(0) + s.name().substring(1).toLowerCase(Locale.ROOT));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "queued", "QUEUED", "Paused", " Running"})
  void anythingElse_isUnknown(String wire) {
    assertThat(ContainerState.fromWire(wire)).isSameAs(ContainerState.UNKNOWN);
  }

  @Test
  void onlyCompleteAndCancelledAreFinal() {
    for (ContainerState s : ContainerState.values()) {
      assertThat(s.isFinal())
          .as(s.name())
          .isEqualTo(s == ContainerState.COMPLETE || s == ContainerState.CANCELLED);
    }
    assertThat(ContainerState.UNKNOWN.wireName()).isEmpty();
  }
}

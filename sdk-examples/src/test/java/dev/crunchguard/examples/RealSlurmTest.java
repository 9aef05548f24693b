package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** When the real-Slurm tests run, skip, or fail. */
class RealSlurmTest {
  @Test
  void withoutSlurmConfigured_theTestsAreSkipped_withTheWayToStartOne() {
    var r = RealSlurm.evaluate(Map.of());
    assertThat(r.isDisabled()).isTrue();
    assertThat(r.getReason())
        .hasValueSatisfying(
            s -> assertThat(s).contains("CRUNCHGUARD_SLURM=1", "src/ci/slurm.sh start"));
  }

  @Test
  void whenSlurmIsRequiredButNotConfigured_theTestsFail() {
    assertThatThrownBy(() -> RealSlurm.evaluate(Map.of("CRUNCHGUARD_REQUIRE", "arvados, slurm")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CRUNCHGUARD_REQUIRE names slurm");
    assertThat(RealSlurm.evaluate(Map.of("CRUNCHGUARD_REQUIRE", "arvados,slurmish")).isDisabled())
        .isTrue();
  }
}

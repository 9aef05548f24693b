package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.RegisterExtension;

class ExtensionPerMethodTest {
  @RegisterExtension
  static final ArvadosSimulatorExtension EXT = new ArvadosSimulatorExtension().perMethod();

  private static final List<ArvadosSimulator> seen = new ArrayList<>();

  @RepeatedTest(2)
  void eachMethodGetsAFreshSimulatorWithDefaultTokens(ArvadosSimulator sim) {
    assertThat(seen).doesNotContain(sim);
    seen.add(sim);
    assertThat(sim.containers()).isEmpty();
    sim.createContainer();
    Http.Res r =
        new Http(sim)
            .get("arvados/v1/containers")
            .token(ArvadosSimulatorExtension.DEFAULT_USER_TOKEN)
            .send();
    assertThat(r.status()).isEqualTo(200);
  }

  @AfterAll
  static void previousSimulatorsAreClosed() {
    assertThat(seen).hasSize(2);
    // The first method's simulator was closed by afterEach: its port no longer answers.
    assertThatThrownBy(() -> new Http(seen.get(0)).get("arvados/v1/containers").send())
        .isInstanceOfAny(UncheckedIOException.class, IllegalStateException.class);
  }
}

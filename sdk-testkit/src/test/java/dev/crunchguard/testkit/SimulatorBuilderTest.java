package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SimulatorBuilderTest {
  private static final String FIRST_ADMIN = "first-admin-secret-0123456789";
  private static final String LATER_ADMIN = "later-admin-secret-0123456789";

  @Test
  void changingTheBuilderAfterBuildDoesNotChangeTheBuiltSimulator() {
    ArvadosSimulator.Builder builder =
        ArvadosSimulator.builder()
            .clusterId("aaaaa")
            .adminToken(FIRST_ADMIN)
            .maxDispatchAttempts(3);
    try (ArvadosSimulator sim = builder.build()) {
      builder
          .clusterId("bbbbb")
          .adminToken(LATER_ADMIN)
          .maxDispatchAttempts(7)
          .disableApi(Endpoint.LOCK)
          .threads(1)
          .updateRaceWindow(Duration.ofSeconds(5))
          .enableControlEndpoints(true);
      sim.start();

      assertThat(sim.clusterId()).isEqualTo("aaaaa");
      assertThat(sim.maxDispatchAttempts()).isEqualTo(3);
      assertThatThrownBy(() -> sim.tokenUuid(LATER_ADMIN))
          .isInstanceOf(IllegalArgumentException.class);
      String uuid = sim.createContainer();
      assertThat(uuid).startsWith("aaaaa-dz642-");
      Http http = new Http(sim);
      assertThat(http.lock(uuid, LATER_ADMIN).status()).isEqualTo(401);
      assertThat(http.lock(uuid, FIRST_ADMIN).status()).isEqualTo(200);
      assertThat(http.get("_simulator/history").send().status()).isEqualTo(404);
    }
  }

  @Test
  void oneBuilderBuildsIndependentSimulators() {
    ArvadosSimulator.Builder builder = ArvadosSimulator.builder().adminToken(FIRST_ADMIN);
    try (ArvadosSimulator first = builder.build().start();
        ArvadosSimulator second = builder.clusterId("ccccc").adminToken(LATER_ADMIN).build()) {
      second.start();
      assertThat(first.clusterId()).isEqualTo(ArvadosSimulator.DEFAULT_CLUSTER_ID);
      assertThat(second.clusterId()).isEqualTo("ccccc");
      assertThatThrownBy(() -> first.tokenUuid(LATER_ADMIN))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(second.tokenUuid(LATER_ADMIN)).startsWith("ccccc-gj3su-");
      assertThat(first.port()).isNotEqualTo(second.port());
    }
  }

  @Test
  void aJvmWithoutNoDelayIsToldWhatItCostsAndHowToFixIt() {
    assertThat(ArvadosSimulator.nodelayAdvice(null))
        .contains("sun.net.httpserver.nodelay")
        .contains("40 ms")
        .contains("-Dsun.net.httpserver.nodelay=true");
    assertThat(ArvadosSimulator.nodelayAdvice("false")).isNotNull();
    assertThat(ArvadosSimulator.nodelayAdvice("true")).isNull();
    assertThat(ArvadosSimulator.nodelayAdvice("TRUE")).isNull();
  }
}

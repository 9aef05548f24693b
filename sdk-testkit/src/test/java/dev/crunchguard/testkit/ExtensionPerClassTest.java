package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExtensionPerClassTest {
  @RegisterExtension
  static final ArvadosSimulatorExtension EXT =
      new ArvadosSimulatorExtension(
          () -> ArvadosSimulator.builder().clusterId("abcde").adminToken("ext-admin"));

  private static ArvadosSimulator first;
  private final ArvadosSimulator injectedInConstructor;

  ExtensionPerClassTest(ArvadosSimulator sim) {
    this.injectedInConstructor = sim;
  }

  @Test
  @Order(1)
  void injectsARunningSimulatorIntoConstructorAndMethod(ArvadosSimulator sim) {
    first = sim;
    assertThat(sim).isSameAs(injectedInConstructor);
    assertThat(sim.clusterId()).isEqualTo("abcde");
    Http.Res r =
        new Http(sim).get("arvados/v1/api_client_authorizations/current").token("ext-admin").send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("uuid")).isEqualTo(sim.tokenUuid("ext-admin"));
  }

  @Test
  @Order(2)
  void sharesOneSimulatorAcrossTheClass(ArvadosSimulator sim) {
    assertThat(sim).isSameAs(first);
  }

  @AfterAll
  static void closedAfterTheClass() {
    // afterAll of the extension runs after this method; the simulator must still be up here.
    assertThat(new Http(first).get("arvados/v1/containers").send().status()).isEqualTo(401);
  }
}

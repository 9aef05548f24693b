package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ArvadosSimulatorExtension.class)
class ExtensionExtendWithTest {
  @Test
  void defaultConfigurationServesTheDefaultAdminToken(ArvadosSimulator sim) {
    String u = sim.createContainer();
    Http.Res r = new Http(sim).lock(u, ArvadosSimulatorExtension.DEFAULT_ADMIN_TOKEN);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.str("locked_by_uuid"))
        .isEqualTo(sim.tokenUuid(ArvadosSimulatorExtension.DEFAULT_ADMIN_TOKEN));
  }
}

package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import org.junit.jupiter.api.Test;

class HttpsTest {
  @Test
  void httpsModeServesWithASelfSignedCertificateThatClientsCanTrust() {
    try (ArvadosSimulator sim = Fixtures.builder().https(true).build().start()) {
      assertThat(sim.baseUrl()).startsWith("https://127.0.0.1:");
      assertThat(sim.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----");
      HttpClient trusting = HttpClient.newBuilder().sslContext(sim.clientSslContext()).build();
      Http http = new Http(sim.baseUrl(), trusting);
      String u = sim.createContainer();
      assertThat(http.lock(u, Fixtures.SYSTEM_ROOT).status()).isEqualTo(200);
      Http untrusting = new Http(sim.baseUrl(), HttpClient.newHttpClient());
      assertThatThrownBy(() -> untrusting.show(u, Fixtures.SYSTEM_ROOT))
          .isInstanceOf(UncheckedIOException.class);
    }
  }

  @Test
  void httpModeHasNoTlsMaterial() {
    try (ArvadosSimulator sim = Fixtures.builder().build().start()) {
      assertThat(sim.isHttps()).isFalse();
      assertThatThrownBy(sim::clientSslContext).isInstanceOf(IllegalStateException.class);
    }
  }
}

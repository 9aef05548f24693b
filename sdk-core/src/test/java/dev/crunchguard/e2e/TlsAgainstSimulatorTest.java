package dev.crunchguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosTransportException;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import java.net.URI;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS against the simulator's self-signed HTTPS: verification on by default, a clear error, opt-in
 * insecure mode.
 */
class TlsAgainstSimulatorTest {
  static final String TOKEN = "tlstesttoken0123456789abcdef";
  static ArvadosSimulator sim;
  static String hostAndPort;

  @BeforeAll
  static void start() {
    sim = ArvadosSimulator.builder().https(true).adminToken(TOKEN).build().start();
    URI u = URI.create(sim.baseUrl());
    hostAndPort = u.getHost() + ":" + u.getPort();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @Test
  void selfSignedCertificate_isRefusedByDefault_withAClearTlsError_andNoRetryStorm() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    sim.resetRequestCounts();
    try (ArvadosClient client = ArvadosClient.builder().apiHost(hostAndPort).token(TOKEN).build()) {
      assertThatThrownBy(() -> client.containers().get(uuid))
          .isInstanceOf(ArvadosTransportException.class)
          .hasMessageContaining("TLS")
          .satisfies(e -> assertThat(((ArvadosTransportException) e).attempts()).isEqualTo(1))
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(TOKEN));
    }
    assertThat(sim.requestCount(Endpoint.GET)).as("no request got through").isZero();
  }

  @Test
  void insecureTls_optIn_talksToTheSelfSignedServer() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    try (ArvadosClient client =
        ArvadosClient.builder().apiHost(hostAndPort).token(TOKEN).insecureTls(true).build()) {
      ContainerLock lock = client.containers().lock(uuid);
      lock.markRunning();
      lock.complete(0, null);
    }
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
  }

  @Test
  void verificationOn_withTheServersCertificateTrusted_works() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    OkHttpClient trusting =
        new OkHttpClient.Builder()
            .sslSocketFactory(sim.clientSslContext().getSocketFactory(), sim.clientTrustManager())
            .build();
    try (ArvadosClient client =
        ArvadosClient.builder().apiHost(hostAndPort).token(TOKEN).okHttpClient(trusting).build()) {
      assertThat(client.containers().get(uuid).uuid()).isEqualTo(uuid);
    } finally {
      trusting.dispatcher().executorService().shutdown();
      trusting.connectionPool().evictAll();
    }
  }
}

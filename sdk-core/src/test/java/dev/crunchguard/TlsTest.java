package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import java.nio.file.Path;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** TLS verification is on by default; insecureTls (or ARVADOS_API_HOST_INSECURE) turns it off. */
class TlsTest {
  @RegisterExtension
  static WireMockExtension wm =
      WireMockExtension.newInstance()
          .options(wireMockConfig().dynamicPort().dynamicHttpsPort())
          .build();

  private final Fixtures.FakeTime time = new Fixtures.FakeTime();

  private String httpsUrl() {
    return "https://localhost:" + wm.getHttpsPort() + "/";
  }

  private ArvadosClient.Builder builder() {
    return ArvadosClient.builder().token(Fixtures.DISPATCHER_TOKEN).sleeper(time).nanoClock(time);
  }

  @BeforeEach
  void stub() {
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/containers/" + CONTAINER))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0))));
  }

  @Test
  void byDefault_aSelfSignedCertificate_isATlsTransportFailure_notRetried() {
    try (ArvadosClient c = builder().baseUrl(httpsUrl()).build()) {
      ArvadosTransportException e =
          expect(ArvadosTransportException.class, () -> c.containers().get(CONTAINER));

      assertThat(e.getMessage()).contains("TLS");
      assertThat(e.attempts()).isEqualTo(1);
      assertThat(e.getCause()).isInstanceOf(SSLException.class);
    }
    assertThat(time.sleeps).as("no retry storm").isEmpty();
    assertThat(wm.getAllServeEvents()).as("no request got through").isEmpty();
  }

  @Test
  void apiHost_isHttps_andVerifiesCertificates() {
    try (ArvadosClient c = builder().apiHost("localhost:" + wm.getHttpsPort()).build()) {
      assertThat(c.baseUrl()).isEqualTo(httpsUrl());
      assertThat(expect(ArvadosTransportException.class, () -> c.containers().get(CONTAINER)))
          .hasMessageContaining("TLS");
    }
  }

  @Test
  void insecureTls_acceptsTheSelfSignedCertificate_andWarnsOnce() {
    try (CapturedLogs logs = new CapturedLogs();
        ArvadosClient c = builder().baseUrl(httpsUrl()).insecureTls(true).build()) {
      assertThat(c.containers().get(CONTAINER).uuid()).isEqualTo(CONTAINER);
      assertThat(c.toString()).contains("insecureTls");
      assertThat(logs.events())
          .filteredOn(
              e ->
                  e.getLevel() == Level.WARN
                      && e.getFormattedMessage().contains("TLS certificate verification is OFF"))
          .hasSize(1);
    }
  }

  @Test
  void insecureSetting_fromTheEnvironment_acceptsTheSelfSignedCertificate() {
    Map<String, String> env =
        Map.of(
            ArvadosClient.ENV_API_HOST,
            "localhost:" + wm.getHttpsPort(),
            ArvadosClient.ENV_API_TOKEN,
            Fixtures.DISPATCHER_TOKEN,
            ArvadosClient.ENV_API_HOST_INSECURE,
            "yes");
    try (ArvadosClient c =
        ArvadosClient.builderFromEnvironment(env, Path.of("/nonexistent/settings.conf"))
            .sleeper(time)
            .nanoClock(time)
            .build()) {
      assertThat(c.containers().get(CONTAINER).uuid()).isEqualTo(CONTAINER);
    }
  }

  @Test
  void newBuilder_keepsTheTlsMode() {
    try (ArvadosClient strict = builder().baseUrl(httpsUrl()).build();
        ArvadosClient lax = builder().baseUrl(httpsUrl()).insecureTls(true).build();
        ArvadosClient strictCopy = strict.newBuilder().build();
        ArvadosClient laxCopy = lax.newBuilder().build()) {
      assertThat(laxCopy.containers().get(CONTAINER).uuid()).isEqualTo(CONTAINER);
      assertThat(
              expect(ArvadosTransportException.class, () -> strictCopy.containers().get(CONTAINER)))
          .hasMessageContaining("TLS");
    }
  }
}

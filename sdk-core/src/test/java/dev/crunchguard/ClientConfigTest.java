package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.crunchguard.ArvadosClient.ENV_API_HOST;
import static dev.crunchguard.ArvadosClient.ENV_API_HOST_INSECURE;
import static dev.crunchguard.ArvadosClient.ENV_API_TOKEN;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Configuration like Arvados' own tools (environment, settings.conf), derivation, sharing and
 * closing.
 */
class ClientConfigTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final Path NO_SETTINGS = Path.of("/nonexistent/arvados/settings.conf");

  @TempDir Path dir;

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private Path settings(String... lines) throws IOException {
    Path p = dir.resolve("settings.conf");
    Files.write(p, List.of(lines), StandardCharsets.UTF_8);
    return p;
  }

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static String built(ArvadosClient.Builder b) {
    try (ArvadosClient c = b.build()) {
      return c.baseUrl() + " " + c;
    }
  }

  @Test
  void environment_winsOverSettingsConf() throws IOException {
    Path conf =
        settings(
            ENV_API_HOST + "=settings.example.org",
            ENV_API_TOKEN + "=fromsettings",
            ENV_API_HOST_INSECURE + "=true");
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/containers/" + CONTAINER))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0))));

    ArvadosClient.Builder b =
        ArvadosClient.builderFromEnvironment(
            env(
                ENV_API_HOST,
                wm.baseUrl(),
                ENV_API_TOKEN,
                DISPATCHER_TOKEN,
                ENV_API_HOST_INSECURE,
                "false"),
            conf);
    try (ArvadosClient c = b.sleeper(time).nanoClock(time).build()) {
      assertThat(c.baseUrl()).isEqualTo(wm.baseUrl() + "/");
      assertThat(c.toString()).doesNotContain("insecureTls");
      c.containers().get(CONTAINER);
    }
    assertThat(allRequests().get(0).getHeader("Authorization"))
        .isEqualTo("Bearer " + DISPATCHER_TOKEN);
  }

  @Test
  void settingsConf_isUsedForWhatTheEnvironmentLacks() throws IOException {
    Path conf =
        settings(
            "# written by arv-user-setup",
            "",
            "  " + ENV_API_HOST + " = zzzzz.example.org:8443  ",
            "not a setting line",
            "=orphan value",
            ENV_API_TOKEN + "=v1tokenwith=equalsign",
            ENV_API_HOST_INSECURE + "=1");

    ArvadosClient.Builder b = ArvadosClient.builderFromEnvironment(env(ENV_API_TOKEN, "   "), conf);

    assertThat(built(b)).startsWith("https://zzzzz.example.org:8443/ ").contains("insecureTls");
    assertThat(b.toString()).contains("token=" + Redactor.MASK);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://127.0.0.1:8000",
        "HTTP://127.0.0.1:8000/",
        "https://zzzzz.example.org/",
        "https://zzzzz.example.org:443"
      })
  void hostWithScheme_isTakenAsTheBaseUrl(String host) {
    String url =
        built(
            ArvadosClient.builderFromEnvironment(
                env(ENV_API_HOST, host, ENV_API_TOKEN, "t"), NO_SETTINGS));
    String expected = host.toLowerCase(Locale.ROOT).replace(":443", "");
    assertThat(url).startsWith(expected.endsWith("/") ? expected : expected + "/");
  }

  @ParameterizedTest
  @ValueSource(strings = {"zzzzz.example.org", "zzzzz.example.org:8443", "127.0.0.1:9000"})
  void hostWithoutScheme_isHttps(String host) {
    assertThat(
            built(
                ArvadosClient.builderFromEnvironment(
                    env(ENV_API_HOST, "  " + host + " ", ENV_API_TOKEN, "t"), NO_SETTINGS)))
        .startsWith("https://" + host + "/ ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "t", "true", "TRUE", "y", "yes", " Yes ", "on", "On"})
  void insecureTrueWords_turnVerificationOff(String word) {
    assertThat(
            built(
                ArvadosClient.builderFromEnvironment(
                    env(
                        ENV_API_HOST,
                        "h.example.org",
                        ENV_API_TOKEN,
                        "t",
                        ENV_API_HOST_INSECURE,
                        word),
                    NO_SETTINGS)))
        .contains("insecureTls");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "f", "false", "no", "off", "maybe", "2"})
  void otherInsecureValues_keepVerificationOn(String word) {
    assertThat(
            built(
                ArvadosClient.builderFromEnvironment(
                    env(
                        ENV_API_HOST,
                        "h.example.org",
                        ENV_API_TOKEN,
                        "t",
                        ENV_API_HOST_INSECURE,
                        word),
                    NO_SETTINGS)))
        .doesNotContain("insecureTls");
  }

  @Test
  void missingHost_isIllegalState_namingTheVariableAndTheSettingsFile() throws IOException {
    Path conf = settings(ENV_API_TOKEN + "=t");
    assertThatThrownBy(() -> ArvadosClient.builderFromEnvironment(env(ENV_API_TOKEN, "t"), conf))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(ENV_API_HOST)
        .hasMessageContaining(conf.toString());
  }

  @Test
  void missingToken_isIllegalState_namingTheVariable() {
    assertThatThrownBy(
            () ->
                ArvadosClient.builderFromEnvironment(
                    env(ENV_API_HOST, "h.example.org", ENV_API_TOKEN, ""), NO_SETTINGS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(ENV_API_TOKEN);
  }

  @Test
  void settingsPathThatIsADirectory_isIgnored() {
    assertThat(
            built(
                ArvadosClient.builderFromEnvironment(
                    env(ENV_API_HOST, "h.example.org", ENV_API_TOKEN, "t"), dir)))
        .startsWith("https://h.example.org/");
  }

  @Test
  void builderDefaults_areAsDocumented() {
    try (ArvadosClient c =
        ArvadosClient.builder().apiHost("zzzzz.example.org").token("t").build()) {
      assertThat(c.okHttp().connectTimeoutMillis()).isEqualTo(10_000);
      assertThat(c.okHttp().readTimeoutMillis()).isEqualTo(60_000);
      assertThat(c.okHttp().writeTimeoutMillis()).isEqualTo(60_000);
      assertThat(c.okHttp().retryOnConnectionFailure())
          .as("retries are the SDK's, with one request id")
          .isFalse();
      assertThat(c.toString()).doesNotContain("insecureTls");
    }
  }

  @Test
  void timeouts_areApplied_evenOverASharedClient() {
    OkHttpClient shared =
        new OkHttpClient.Builder()
            .readTimeout(java.time.Duration.ofMinutes(9))
            .retryOnConnectionFailure(true)
            .build();
    try (ArvadosClient c =
        builder()
            .okHttpClient(shared)
            .connectTimeout(java.time.Duration.ofMillis(1500))
            .readTimeout(java.time.Duration.ofSeconds(7))
            .writeTimeout(java.time.Duration.ofSeconds(8))
            .build()) {
      assertThat(c.okHttp().connectTimeoutMillis()).isEqualTo(1500);
      assertThat(c.okHttp().readTimeoutMillis()).isEqualTo(7000);
      assertThat(c.okHttp().writeTimeoutMillis()).isEqualTo(8000);
      assertThat(c.okHttp().retryOnConnectionFailure()).isFalse();
    }
    assertThat(shared.readTimeoutMillis())
        .as("the shared client itself is untouched")
        .isEqualTo(9 * 60_000);
  }

  @Test
  void close_isIdempotent_andReleasesOwnThreads() {
    ArvadosClient c = builder().build();
    c.close();
    c.close();
    assertThat(c.okHttp().dispatcher().executorService().isShutdown()).isTrue();
  }

  @Test
  void close_leavesASharedOkHttpClientAlone() throws IOException {
    OkHttpClient shared = new OkHttpClient();
    wm.stubFor(get(urlPathEqualTo("/ping")).willReturn(okJson("{}")));
    try {
      ArvadosClient c = builder().okHttpClient(shared).build();
      assertThat(c.okHttp().connectionPool())
          .as("the pool is shared")
          .isSameAs(shared.connectionPool());
      assertThat(c.okHttp().dispatcher()).isSameAs(shared.dispatcher());
      c.close();

      assertThat(shared.dispatcher().executorService().isShutdown()).isFalse();
      try (Response r =
          shared.newCall(new Request.Builder().url(wm.baseUrl() + "/ping").build()).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(allRequests().get(0).getHeader("Authorization"))
          .as("the shared client is not modified")
          .isNull();
    } finally {
      shared.dispatcher().executorService().shutdown();
      shared.connectionPool().evictAll();
    }
  }

  @Test
  void newBuilder_keepsEverySetting() {
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/containers/" + CONTAINER))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0))));
    try (ArvadosClient original =
            builder()
                .userAgent("dispatcher/9")
                .clientId("node-3")
                .retryPolicy(RetryPolicy.none())
                .ambiguousLockPolicy(AmbiguousLockPolicy.REFUSE)
                .build();
        ArvadosClient derived = original.newBuilder().build();
        ArvadosClient otherToken = original.newBuilder().token(Fixtures.CONTAINER_TOKEN).build()) {
      original.containers().get(CONTAINER);
      derived.containers().get(CONTAINER);
      otherToken.containers().get(CONTAINER);
      assertThat(derived.baseUrl()).isEqualTo(original.baseUrl());
    }
    assertThat(allRequests())
        .extracting(r -> r.getHeader("User-Agent"))
        .containsOnly("dispatcher/9");
    assertThat(allRequests())
        .extracting(r -> r.getHeader(ArvadosClient.CLIENT_ID_HEADER))
        .containsOnly("node-3");
    assertThat(allRequests())
        .extracting(r -> r.getHeader("Authorization"))
        .containsExactly(
            "Bearer " + DISPATCHER_TOKEN,
            "Bearer " + DISPATCHER_TOKEN,
            "Bearer " + Fixtures.CONTAINER_TOKEN);
  }

  @Test
  void oneClient_isSafeToShareBetweenThreads() throws Exception {
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/containers/" + CONTAINER))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0))));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    Set<String> uuids = ConcurrentHashMap.newKeySet();
    try {
      List<Future<?>> fs = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        fs.add(pool.submit(() -> uuids.add(client.containers().get(CONTAINER).uuid())));
      }
      for (Future<?> f : fs) {
        f.get(20, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(uuids).containsExactly(CONTAINER);
    assertThat(allRequests())
        .hasSize(40)
        .extracting(r -> r.getHeader("X-Request-Id"))
        .doesNotHaveDuplicates();
  }
}

package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.AUTH_B;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.CONTAINER_SECRET;
import static dev.crunchguard.Fixtures.CONTAINER_TOKEN;
import static dev.crunchguard.Fixtures.DISPATCHER_SECRET;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * No API token and no container token secret in any log line (captured at TRACE), exception
 * (message, causes, suppressed, stack trace) or toString, whatever the server sends back.
 */
class SecretsTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;
  private static final List<String> SECRETS =
      List.of(DISPATCHER_TOKEN, DISPATCHER_SECRET, CONTAINER_TOKEN, CONTAINER_SECRET);

  private CapturedLogs logs;

  /** Every exception and toString a scenario produced; all are checked after the test. */
  private final List<Throwable> thrown = new ArrayList<>();

  private final List<String> texts = new ArrayList<>();

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  @BeforeEach
  void captureLogs() {
    assertThat(LoggerFactory.getLogger(Http.class).isTraceEnabled())
        .as("logback-test.xml sets dev.crunchguard to TRACE")
        .isTrue();
    logs = new CapturedLogs();
  }

  @AfterEach
  void nothingLeaked() {
    logs.close();
    List<String> lines = logs.rendered();
    for (String line : lines) {
      assertNoSecret(line, "log line");
    }
    for (Throwable t : thrown) {
      assertNoSecret(stackTrace(t), "exception " + t.getClass().getSimpleName());
      walk(t, 0);
    }
    for (String s : texts) {
      assertNoSecret(s, "toString");
    }
  }

  private void walk(Throwable t, int depth) {
    if (t == null || depth > 20) {
      return;
    }
    assertNoSecret(String.valueOf(t.getMessage()), "message of " + t.getClass().getName());
    assertNoSecret(t.toString(), "toString of " + t.getClass().getName());
    if (t instanceof ArvadosServiceException) {
      ArvadosServiceException a = (ArvadosServiceException) t;
      assertNoSecret(String.valueOf(a.bodyExcerpt()), "bodyExcerpt");
      a.errors().forEach(m -> assertNoSecret(m, "errors()"));
    }
    for (Throwable s : t.getSuppressed()) {
      walk(s, depth + 1);
    }
    walk(t.getCause(), depth + 1);
  }

  private static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }

  /**
   * Neither a token nor any 16-character piece of a token's secret part: a cut-off excerpt still
   * leaks. (Token uuids are not secret and may appear.)
   */
  static void assertNoSecret(String text, String where) {
    for (String token : SECRETS) {
      if (text.contains(token)) {
        fail("%s contains a token: %s", where, text);
      }
    }
    for (String secret : List.of(DISPATCHER_SECRET, CONTAINER_SECRET)) {
      for (int i = 0; i + 16 <= secret.length(); i++) {
        if (text.contains(secret.substring(i, i + 16))) {
          fail("%s contains part of a secret: %s", where, text);
        }
      }
    }
  }

  private Throwable run(ThrowingCallable call) {
    Throwable t = catchThrowable(call);
    assertThat(t).as("the scenario should fail").isNotNull();
    thrown.add(t);
    return t;
  }

  private static ResponseDefinitionBuilder json(int status, String body) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(body);
  }

  private boolean logged(String text) {
    return logs.rendered().stream().anyMatch(l -> l.contains(text));
  }

  @Test
  void successRetriesAndCompletion_logNoToken() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .inScenario("s")
            .whenScenarioStateIs(STARTED)
            .willReturn(json(503, Fixtures.envelope("Service Unavailable")))
            .willSetStateTo("up"));
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .inScenario("s")
            .whenScenarioStateIs("up")
            .willReturn(
                okJson(
                    Fixtures.lockFields(CONTAINER, "Locked", 1, AUTH_A, DISPATCHER_TOKEN_UUID))));
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 1))));

    ContainerLock lock = containers().lock(CONTAINER);
    lock.markRunning();
    lock.complete(0, Fixtures.OUTPUT_PDH);
    texts.add(lock.toString());
    texts.add(lock.epoch().toString());
    texts.add(lock.epoch().toEnvironment().toString());

    assertThat(logged("will retry after HTTP 503")).as("capture works: retry was logged").isTrue();
    assertThat(logged("locked " + CONTAINER)).isTrue();
  }

  @Test
  void errorEnvelopesEchoingTheToken_areRedacted() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                json(
                    422,
                    Fixtures.envelope(
                        "Invalid token " + DISPATCHER_TOKEN + " for request",
                        "secret part " + DISPATCHER_SECRET + " rejected"))));
    ArvadosServiceException e = (ArvadosServiceException) run(() -> containers().get(CONTAINER));
    assertThat(e.errors()).hasSize(2).allMatch(m -> m.contains(Redactor.MASK));
  }

  @Test
  void unauthorized_withBodyEchoingTheAuthorizationHeader_isRedacted() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(401)
                    .withHeader("Content-Type", "text/plain")
                    .withBody(
                        "401 Unauthorized\nAuthorization: Bearer "
                            + DISPATCHER_TOKEN
                            + "\nNot logged in")));
    Throwable e = run(() -> containers().get(CONTAINER));
    assertThat(e).isInstanceOf(UnauthorizedException.class);
    assertThat(((ArvadosServiceException) e).bodyExcerpt()).contains("Bearer " + Redactor.MASK);
  }

  @Test
  void gatewayPagesEchoingTheToken_afterRetries_areRedacted() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(502)
                    .withHeader("Content-Type", "text/html")
                    .withBody(
                        "<html><body><h1>502 Bad Gateway</h1><pre>GET "
                            + CONTAINER_PATH
                            + "?api_token="
                            + DISPATCHER_TOKEN
                            + "\nAuthorization: OAuth2 "
                            + DISPATCHER_SECRET
                            + "</pre></body></html>")));
    run(() -> containers().get(CONTAINER));
  }

  @Test
  void malformedSuccessBodiesEmbeddingTheToken_areRedacted() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(200)
                    .withHeader("Content-Type", "text/html")
                    .withBody(
                        "<html><body>Your request: Authorization: Bearer "
                            + DISPATCHER_TOKEN
                            + "</body></html>")));
    run(() -> containers().get(CONTAINER));

    JsonObject tokenInTimestamp =
        Fixtures.record(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 1);
    tokenInTimestamp.addProperty("created_at", DISPATCHER_SECRET);
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH)).willReturn(okJson(Json.GSON.toJson(tokenInTimestamp))));
    run(() -> containers().get(CONTAINER));

    JsonObject tokenInNumber =
        Fixtures.record(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 1);
    tokenInNumber.addProperty("lock_count", DISPATCHER_TOKEN);
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH)).willReturn(okJson(Json.GSON.toJson(tokenInNumber))));
    run(() -> containers().get(CONTAINER));

    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson("{\"uuid\":\"" + CONTAINER + "\",\"log\":\"" + DISPATCHER_TOKEN)));
    run(() -> containers().get(CONTAINER));
  }

  @Test
  void auth_theContainerTokenSecretIsNeverShown() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH + "/auth"))
            .willReturn(okJson(Fixtures.authRecord(AUTH_A, CONTAINER_SECRET))));
    ContainerToken t = containers().auth(CONTAINER);
    assertThat(t.secret()).isEqualTo(CONTAINER_SECRET);
    texts.add(t.toString());
    assertThat(t.toString()).contains(AUTH_A).contains(Redactor.MASK);
  }

  @Test
  void auth_malformedAnswersCarryingTheSecret_areRedacted() {
    String wrongType =
        Fixtures.authRecord(AUTH_A, CONTAINER_SECRET)
            .replace("\"scopes\":[\"all\"]", "\"scopes\":\"all\"");
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH + "/auth")).willReturn(okJson(wrongType)));
    run(() -> containers().auth(CONTAINER));

    String truncated = Fixtures.authRecord(AUTH_A, CONTAINER_SECRET);
    truncated = truncated.substring(0, truncated.indexOf(CONTAINER_SECRET) + 30);
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH + "/auth")).willReturn(okJson(truncated)));
    run(() -> containers().auth(CONTAINER));

    String badExpiry =
        Fixtures.authRecord(AUTH_A, CONTAINER_SECRET)
            .replace(
                "\"expires_at\":\"2026-08-02T10:05:00.000000000Z\"", "\"expires_at\":\"tomorrow\"");
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH + "/auth")).willReturn(okJson(badExpiry)));
    run(() -> containers().auth(CONTAINER));

    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH + "/auth"))
            .willReturn(
                json(
                    403,
                    Fixtures.envelope(
                        "#<ArvadosModel::PermissionDeniedError: Invalid runtime_token v2/"
                            + AUTH_A
                            + "/"
                            + CONTAINER_SECRET
                            + ">"))));
    run(() -> containers().auth(CONTAINER));
  }

  @Test
  void runnerWithTheContainerToken_losingItsLock_logsNoSecret() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(json(401, Fixtures.envelope(Fixtures.NOT_LOGGED_IN))));
    try (ArvadosClient runner = builder().token(CONTAINER_TOKEN + "/" + CONTAINER).build()) {
      texts.add(runner.toString());
      ContainerLock lock = runner.containers().resume(LockEpoch.of(CONTAINER, AUTH_A, null, null));
      lock.onLost(e -> texts.add(e.getMessage()));
      run(lock::markRunning);
      run(lock::verify);
      texts.add(lock.toString());
    }
    assertThat(logged("lost ownership of " + CONTAINER)).isTrue();
  }

  @Test
  void staleWriterLoss_logsNoSecret() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(json(422, Fixtures.staleWriter("Running", AUTH_B, AUTH_A))));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_B, DISPATCHER_TOKEN_UUID, 4))));
    run(() -> heldLock().markRunning());
  }

  @Test
  void transportFailures_logNoSecret() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE)));
    run(() -> containers().get(CONTAINER));
    assertThat(logged("attempt 1 failed")).isTrue();
  }

  @Test
  void toStrings_ofClientAndBuilder_maskTheToken() {
    ArvadosClient.Builder b = builder().clientId("secrets-test");
    texts.add(b.toString());
    texts.add(client.toString());
    texts.add(client.newBuilder().toString());
    assertThat(client.toString()).contains(Redactor.MASK).contains(wm.baseUrl());
    assertThat(b.toString()).contains(Redactor.MASK);
    assertThat(ArvadosClient.builder().toString()).contains("token=null");
  }

  @Test
  void builderErrors_doNotEchoTheToken() {
    run(() -> ArvadosClient.builder().token(DISPATCHER_TOKEN + " "));
    run(() -> ArvadosClient.builder().token(DISPATCHER_TOKEN + "\n"));
  }

  @Test
  void aTokenPassedWhereAUuidGoes_isNotEchoedInTheArgumentError() {
    run(() -> containers().get(DISPATCHER_TOKEN));
    run(() -> containers().lock(DISPATCHER_SECRET));
    run(() -> containers().auth(CONTAINER_SECRET));
    run(() -> LockEpoch.of(CONTAINER, CONTAINER_TOKEN, null, null));
    run(() -> LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_SECRET, null));
    assertThat(requestCount()).isZero();
  }

  @Test
  void redactor_masksTheClientTokenOtherV2TokensBearerAndApiTokenFields() {
    Redactor r = new Redactor(DISPATCHER_TOKEN);
    String other = "v2/zzzzz-gj3su-0000000000xyz12/abcdefghijklmnopqrstuvwxyz0123456789";
    String out =
        r.redact(
            "a "
                + DISPATCHER_TOKEN
                + " b "
                + DISPATCHER_SECRET
                + " c "
                + other
                + " Bearer opaque123456789 {\"api_token\": \""
                + CONTAINER_SECRET
                + "\"}");
    texts.add(out);
    assertThat(out)
        .doesNotContain("abcdefghijklmnopqrstuvwxyz")
        .doesNotContain("opaque123456789")
        .contains("v2/zzzzz-gj3su-0000000000xyz12/" + Redactor.MASK);
    assertThat(r.excerpt("x".repeat(500), 200)).hasSize(201).endsWith("…");
  }
}

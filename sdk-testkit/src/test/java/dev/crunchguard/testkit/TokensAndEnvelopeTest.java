package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.ACTIVE_USER;
import static dev.crunchguard.testkit.Fixtures.SECOND_DISPATCHER;
import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Token forms (services/api/app/models/api_client_authorization.rb, validate), the error envelope
 * and request ids (application_controller.rb render_error, set_current_request_id), disabled APIs.
 */
class TokensAndEnvelopeTest {
  /** The attributes create requires (command, container_image, output_path), as a JSON prefix. */
  static final String REQUIRED =
      "\"command\":[\"x\"],\"container_image\":\"i\",\"output_path\":\"/o\",";

  static ArvadosSimulator sim;
  static Fixtures fx;
  static Http http;

  @BeforeAll
  static void start() {
    sim = Fixtures.builder().build().start();
    fx = new Fixtures(sim);
    http = fx.http;
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  private static int current(String authorizationHeader) {
    Http.Call call = http.get("arvados/v1/api_client_authorizations/current");
    if (authorizationHeader != null) {
      call.header("Authorization", authorizationHeader);
    }
    return call.send().status();
  }

  @Test
  void v1AndV2FormsWithBearerAndOAuth2Headers() {
    String uuid = sim.tokenUuid(SECOND_DISPATCHER);
    assertThat(uuid).matches("zzzzz-gj3su-[a-z0-9]{15}");
    assertThat(current("Bearer " + SECOND_DISPATCHER)).isEqualTo(200);
    assertThat(current("OAuth2 " + SECOND_DISPATCHER)).isEqualTo(200);
    assertThat(current("Bearer v2/" + uuid + "/" + SECOND_DISPATCHER)).isEqualTo(200);
    assertThat(current("Bearer v2/" + uuid + "/wrong")).isEqualTo(401);
    assertThat(current("Bearer v2/" + uuid + "/")).isEqualTo(401);
    assertThat(current("Bearer v2/short/" + SECOND_DISPATCHER)).isEqualTo(401);
    assertThat(current("Basic " + SECOND_DISPATCHER)).isEqualTo(401);
    assertThat(current(null)).isEqualTo(401);
    assertThat(
            http.get("arvados/v1/api_client_authorizations/current")
                .query("api_token", SECOND_DISPATCHER)
                .send()
                .status())
        .isEqualTo(200);
  }

  @Test
  void tokenCurrentDescribesTheCaller() {
    Http.Res r = http.get("arvados/v1/api_client_authorizations/current").token(ACTIVE_USER).send();
    assertThat(r.str("kind")).isEqualTo("arvados#apiClientAuthorization");
    assertThat(r.str("uuid")).isEqualTo(sim.tokenUuid(ACTIVE_USER));
    assertThat(r.str("owner_uuid")).matches("zzzzz-tpzed-[a-z0-9]{15}");
    assertThat(r.json().getAsJsonArray("scopes").get(0).getAsString()).isEqualTo("all");
    Http.Res sys =
        http.get("arvados/v1/api_client_authorizations/current").token(SYSTEM_ROOT).send();
    assertThat(sys.str("uuid")).isEqualTo("zzzzz-gj3su-000000000000000");
    assertThat(sys.str("owner_uuid")).isEqualTo("zzzzz-tpzed-000000000000000");
  }

  @Test
  void tokenCurrentErrorsAreWrappedByTheGoRouter() {
    Http.Res r = http.get("arvados/v1/api_client_authorizations/current").token("nope").send();
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.json().has("error_token")).isFalse();
    assertThat(r.errors().get(0))
        .startsWith(
            "//railsapi.internal/arvados/v1/api_client_authorizations/current: 401 Unauthorized: Not logged in (");
  }

  @Test
  void tokenUuidsAreStableAcrossSimulatorsAndSecretsNeverAppearInToString() {
    try (ArvadosSimulator other = Fixtures.builder().build()) {
      assertThat(other.tokenUuid(SECOND_DISPATCHER)).isEqualTo(sim.tokenUuid(SECOND_DISPATCHER));
      assertThat(other.toString()).doesNotContain(SECOND_DISPATCHER);
    }
    try (ArvadosSimulator v2 =
        ArvadosSimulator.builder()
            .adminToken("v2/zzzzz-gj3su-abcdeabcdeabcde/s3cret")
            .build()
            .start()) {
      assertThat(v2.tokenUuid("v2/zzzzz-gj3su-abcdeabcdeabcde/s3cret"))
          .isEqualTo("zzzzz-gj3su-abcdeabcdeabcde");
      assertThat(new Http(v2).get("arvados/v1/containers").token("s3cret").send().status())
          .isEqualTo(200);
    }
  }

  @Test
  void fourPartTokenWithUnknownContainerIsAcceptedAndWithWrongStateRejected() {
    String ctokBase;
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    ctokBase = fx.containerToken(u, SYSTEM_ROOT);
    assertThat(
            http.get("arvados/v1/containers/current")
                .token(ctokBase + "/zzzzz-dz642-000000000000000")
                .send()
                .status())
        .isEqualTo(200);
    assertThat(http.get("arvados/v1/containers/current").token(ctokBase + "/" + u).send().status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Cancelled\"}").status()).isEqualTo(200);
    assertThat(http.get("arvados/v1/containers/current").token(ctokBase + "/" + u).send().status())
        .isEqualTo(401);
  }

  @Test
  void containerTokenScopesAreEnforced() {
    Http.Res created =
        http.post("arvados/v1/containers")
            .token(SYSTEM_ROOT)
            .json(
                "{\"container\":{"
                    + REQUIRED
                    + "\"priority\":1,\"runtime_user_uuid\":\"zzzzz-tpzed-000000000000000\","
                    + "\"runtime_auth_scopes\":[\"GET /arvados/v1/containers/\"]}}")
            .send();
    assertThat(created.status()).isEqualTo(200);
    String u = created.str("uuid");
    assertThat(http.lock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\"}").status()).isEqualTo(200);
    String ctok = fx.containerToken(u, SYSTEM_ROOT);
    assertThat(http.show(u, ctok).status()).isEqualTo(200);
    Http.Res put = http.update(u, ctok, "{\"progress\":0.1}");
    assertThat(put.status()).isEqualTo(403);
    assertThat(put.errors().get(0)).startsWith("Forbidden (");
  }

  @Test
  void requestIdIsEchoedAndUsedInEveryMessage() {
    Http.Res r =
        http.get(c("zzzzz-dz642-000000000000000"))
            .token(SYSTEM_ROOT)
            .header("X-Request-Id", "my-request-42")
            .send();
    assertThat(r.header("X-Request-Id")).isEqualTo("my-request-42");
    assertThat(r.errors().get(0)).isEqualTo("Path not found (my-request-42)");
    Http.Res gen =
        http.get(c("zzzzz-dz642-000000000000000"))
            .token(SYSTEM_ROOT)
            .header("X-Request-Id", "x".repeat(1025))
            .send();
    assertThat(gen.header("X-Request-Id")).matches("req-[a-z0-9]{20}");
    Http.Res ok = http.get("arvados/v1/containers").token(SYSTEM_ROOT).send();
    assertThat(ok.header("X-Request-Id")).matches("req-[a-z0-9]{20}");
  }

  @Test
  void disabledApiAnswers404Disabled() {
    String u = fx.queued();
    sim.disableApi(Endpoint.LOCK);
    try {
      Http.Res r = http.lock(u, SYSTEM_ROOT);
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.errors().get(0)).startsWith("Disabled (");
      assertThat(fx.state(u)).isEqualTo("Queued");
    } finally {
      sim.enableApi(Endpoint.LOCK);
    }
    assertThat(http.lock(u, SYSTEM_ROOT).status()).isEqualTo(200);
  }

  @Test
  void deleteByAdminRemovesTheContainer() {
    String u = fx.queued();
    assertThat(http.delete(c(u)).token(SECOND_DISPATCHER).send().status()).isEqualTo(200);
    assertThat(http.show(u, SYSTEM_ROOT).status()).isEqualTo(404);
    assertThat(http.delete(c(u)).token(SECOND_DISPATCHER).send().status()).isEqualTo(404);
  }

  @Test
  void createValidatesLikeAnUpdate() {
    assertThat(
            http.post("arvados/v1/containers")
                .token(SYSTEM_ROOT)
                .json("{\"container\":{" + REQUIRED + "\"state\":\"Locked\"}}")
                .send()
                .status())
        .isEqualTo(422);
    assertThat(
            http.post("arvados/v1/containers")
                .token(SYSTEM_ROOT)
                .json("{\"container\":{" + REQUIRED + "\"auth_uuid\":\"x\"}}")
                .send()
                .status())
        .isEqualTo(422);
    assertThat(
            http.post("arvados/v1/containers")
                .token(SYSTEM_ROOT)
                .json("{\"container\":{" + REQUIRED + "\"kind\":\"x\"}}")
                .send()
                .status())
        .isEqualTo(422);
    Http.Res rt =
        http.post("arvados/v1/containers")
            .token(SYSTEM_ROOT)
            .json("{\"container\":{" + REQUIRED + "\"runtime_token\":\"not-v2\"}}")
            .send();
    assertThat(rt.status()).isEqualTo(422);
    Http.Res r =
        http.post("arvados/v1/containers")
            .token(SYSTEM_ROOT)
            .json("{\"container\":{" + REQUIRED + "\"priority\":2,\"cwd\":\"/w\"}}")
            .send();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().has("runtime_token")).isFalse();
    assertThat(r.json().get("cwd").getAsString()).isEqualTo("/w");
    assertThat(r.json().get("lock_count").getAsLong()).isZero();
  }
}

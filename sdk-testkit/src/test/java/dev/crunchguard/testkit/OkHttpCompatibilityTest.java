package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import okhttp3.FormBody;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The simulator through OkHttp 4.12.0, the client sdk-core uses. */
class OkHttpCompatibilityTest {
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
  ArvadosSimulator sim;
  Fixtures fx;

  @BeforeEach
  void start() {
    sim = Fixtures.builder().build().start();
    fx = new Fixtures(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private Request.Builder req(String path) {
    return new Request.Builder()
        .url(sim.baseUrl() + path)
        .header("Authorization", "OAuth2 " + SYSTEM_ROOT);
  }

  private static JsonObject body(Response r) throws IOException {
    return JsonParser.parseString(r.body().string()).getAsJsonObject();
  }

  @Test
  void jsonPatchAndFormPutWorkThroughOkHttp() throws IOException {
    OkHttpClient client = new OkHttpClient();
    String u = fx.lockedBy(SYSTEM_ROOT, 1);
    String auth = sim.container(u).authUuid();
    try (Response r =
        client
            .newCall(
                req("arvados/v1/containers/" + u + "?select=%5B%22uuid%22%5D")
                    .patch(
                        RequestBody.create(
                            "{\"container\":{\"state\":\"Running\",\"auth_uuid\":\""
                                + auth
                                + "\"}}",
                            JSON))
                    .build())
            .execute()) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(body(r).keySet()).containsExactly("uuid");
    }
    try (Response r =
        client
            .newCall(
                req("arvados/v1/containers/" + u)
                    .put(
                        new FormBody.Builder()
                            .add(
                                "container",
                                "{\"progress\":0.5,\"auth_uuid\":\"zzzzz-gj3su-aaaaaaaaaaaaaaa\"}")
                            .build())
                    .build())
            .execute()) {
      assertThat(r.code()).isEqualTo(422);
      assertThat(r.header("X-Request-Id")).startsWith("req-");
      assertThat(body(r).getAsJsonArray("errors").toString()).contains("Auth uuid is readonly");
    }
  }

  @Test
  void lostLockResponseIsAnIOExceptionWhenOkHttpDoesNotRetry() {
    OkHttpClient client = new OkHttpClient.Builder().retryOnConnectionFailure(false).build();
    String u = fx.queued();
    sim.faults().add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).build());
    assertThatThrownBy(
            () ->
                client
                    .newCall(
                        req("arvados/v1/containers/" + u + "/lock")
                            .post(RequestBody.create(new byte[0]))
                            .build())
                    .execute()
                    .close())
        .isInstanceOf(IOException.class);
    assertThat(sim.container(u).state()).isEqualTo("Locked");
    assertThat(sim.requestCount(Endpoint.LOCK, u)).isEqualTo(1);
  }

  /**
   * What the SDK must guard against: OkHttp's default retryOnConnectionFailure silently re-sends a
   * POST whose response was lost on a pooled connection, so the caller's own successful lock comes
   * back as "cannot lock when Locked".
   */
  @Test
  void okHttpDefaultRetryResendsALostLockOnAPooledConnection() throws IOException {
    OkHttpClient client = new OkHttpClient();
    String u = fx.queued();
    client.newCall(req("arvados/v1/containers").build()).execute().close(); // pool a connection
    sim.faults().add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).build());
    try (Response r =
        client
            .newCall(
                req("arvados/v1/containers/" + u + "/lock")
                    .post(RequestBody.create(new byte[0]))
                    .build())
            .execute()) {
      assertThat(r.code()).isEqualTo(422);
      assertThat(body(r).getAsJsonArray("errors").get(0).getAsString())
          .contains("cannot lock when Locked");
    }
    assertThat(sim.requestCount(Endpoint.LOCK, u)).isEqualTo(2);
    assertThat(sim.container(u).lockedByUuid()).isEqualTo(sim.tokenUuid(SYSTEM_ROOT));
  }

  @Test
  void connectionResetIsAnIOExceptionAndNothingIsApplied() {
    OkHttpClient client = new OkHttpClient.Builder().retryOnConnectionFailure(false).build();
    String u = fx.queued();
    sim.faults().add(FaultRule.of(FaultKind.CONNECTION_RESET).on(Endpoint.LOCK).build());
    assertThatThrownBy(
            () ->
                client
                    .newCall(
                        req("arvados/v1/containers/" + u + "/lock")
                            .post(RequestBody.create(new byte[0]))
                            .build())
                    .execute()
                    .close())
        .isInstanceOf(IOException.class);
    assertThat(sim.container(u).state()).isEqualTo("Queued");
  }
}

package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.Fixtures.OUTPUT_PDH;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Method, path, headers and body of every endpoint the SDK calls (services/api/config/routes.rb,
 * api_client_authorization.rb validate, src/docs/guide.md "The guard").
 */
class RequestShapeTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();

  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private void stubPutReturns(String state) {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(Fixtures.recordJson(CONTAINER, state, AUTH_A, DISPATCHER_TOKEN_UUID, 3))));
  }

  private LoggedRequest onlyRequest() {
    List<LoggedRequest> all = allRequests();
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  private static JsonObject containerBody(LoggedRequest r) {
    JsonObject body = JsonParser.parseString(r.getBodyAsString()).getAsJsonObject();
    assertThat(body.keySet()).containsExactly("container");
    return body.getAsJsonObject("container");
  }

  private static void assertStandardHeaders(LoggedRequest r) {
    assertThat(r.getHeader("Authorization")).isEqualTo("Bearer " + DISPATCHER_TOKEN);
    assertThat(r.getHeader("User-Agent")).isEqualTo("crunchguard-java/" + ArvadosClient.VERSION);
    assertThat(ArvadosClient.VERSION)
        .as("the version comes from the build")
        .matches("\\d+\\.\\d+\\.\\d+.*");
    assertThat(r.getHeader("X-Request-Id")).matches(Fixtures.REQUEST_ID);
    assertThat(r.getHeader(ArvadosClient.CLIENT_ID_HEADER)).isNotBlank();
    assertThat(r.getHeader("Accept")).isEqualTo("application/json");
  }

  @Test
  void get_sendsAuthenticatedGetWithoutSelect_andDecodesTheRecord() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));

    Container c = containers().get(CONTAINER);

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("GET");
    assertThat(r.getUrl()).isEqualTo(CONTAINER_PATH);
    assertStandardHeaders(r);
    assertThat(c.uuid()).isEqualTo(CONTAINER);
    assertThat(c.state()).isEqualTo(ContainerState.RUNNING);
    assertThat(c.authUuid()).isEqualTo(AUTH_A);
    assertThat(c.lockedByUuid()).isEqualTo(DISPATCHER_TOKEN_UUID);
    assertThat(c.lockCount()).isEqualTo(3L);
    assertThat(c.createdAt()).isEqualTo(Instant.parse("2026-08-01T10:00:00.123456789Z"));
    assertThat(c.command()).containsExactly("echo", "hello");
    assertThat(c.runtimeConstraints()).containsEntry("ram", 268435456L).containsEntry("API", true);
    assertThat(c.mounts().get("/out")).isEqualTo(Map.of("kind", "tmp", "capacity", 1000000L));
    assertThat(c.has("exit_code")).isTrue();
    assertThat(c.exitCode()).isNull();
    assertThat(c.cost()).isEqualTo(0.0);
  }

  @Test
  void customUserAgentAndClientId_areSentOnEveryRequest() {
    try (ArvadosClient custom =
        builder().userAgent("my-dispatcher/2.1").clientId("dispatcher-7").build()) {
      wm.stubFor(
          get(urlPathEqualTo(CONTAINER_PATH))
              .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0))));
      custom.containers().get(CONTAINER);
      custom.containers().get(CONTAINER);
    }
    assertThat(allRequests())
        .hasSize(2)
        .allSatisfy(
            r -> {
              assertThat(r.getHeader("User-Agent")).isEqualTo("my-dispatcher/2.1");
              assertThat(r.getHeader(ArvadosClient.CLIENT_ID_HEADER)).isEqualTo("dispatcher-7");
            });
  }

  @Test
  void defaultClientId_isStablePerClientAndDiffersBetweenClients() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0))));
    containers().get(CONTAINER);
    containers().get(CONTAINER);
    try (ArvadosClient second = builder().build()) {
      second.containers().get(CONTAINER);
    }
    List<LoggedRequest> all = allRequests();
    assertThat(all.get(0).getHeader(ArvadosClient.CLIENT_ID_HEADER))
        .isEqualTo(all.get(1).getHeader(ArvadosClient.CLIENT_ID_HEADER));
    assertThat(all.get(2).getHeader(ArvadosClient.CLIENT_ID_HEADER))
        .isNotEqualTo(all.get(0).getHeader(ArvadosClient.CLIENT_ID_HEADER));
  }

  @Test
  void everyCall_getsItsOwnRequestId() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0))));
    for (int i = 0; i < 5; i++) {
      containers().get(CONTAINER);
    }
    Set<String> ids = new HashSet<>();
    allRequests().forEach(r -> ids.add(r.getHeader("X-Request-Id")));
    assertThat(ids).hasSize(5).allMatch(id -> Fixtures.REQUEST_ID.matcher(id).matches());
  }

  @Test
  void lock_postsToLockEndpointWithoutBody_andKeepsTheEpochFromTheFiveFieldAnswer() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .willReturn(
                okJson(
                    Fixtures.lockFields(CONTAINER, "Locked", 1, AUTH_A, DISPATCHER_TOKEN_UUID))));

    ContainerLock lock = containers().lock(CONTAINER);

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("POST");
    assertThat(r.getUrl()).isEqualTo(CONTAINER_PATH + "/lock");
    assertThat(r.getBodyAsString()).isEmpty();
    assertStandardHeaders(r);
    assertThat(lock.containerUuid()).isEqualTo(CONTAINER);
    assertThat(lock.authUuid()).isEqualTo(AUTH_A);
    assertThat(lock.epoch().lockedByUuid()).isEqualTo(DISPATCHER_TOKEN_UUID);
    assertThat(lock.isFenced()).isTrue();
    assertThat(lock.isLost()).isFalse();
    assertThat(lock.isReleased()).isFalse();
    assertThat(lock.lastSeen()).isNotNull();
    assertThat(lock.lastSeen().state()).isEqualTo(ContainerState.LOCKED);
    assertThat(lock.lastSeen().has("lock_count")).isFalse();
    assertThat(lock.epoch())
        .isEqualTo(LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, null));
  }

  @Test
  void resume_makesNoRequest() {
    ContainerLock lock =
        containers().resume(LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L));

    assertThat(requestCount()).isZero();
    assertThat(lock.authUuid()).isEqualTo(AUTH_A);
    assertThat(lock.lastSeen()).isNull();
    assertThat(lock.epoch()).isEqualTo(LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L));
  }

  @Test
  void update_putsContainerWrapperEchoingTheKnownAuthUuid() {
    stubPutReturns("Running");
    ContainerLock lock = heldLock();

    Container after =
        lock.update(ContainerUpdate.builder().priority(5).gatewayAddress("10.0.0.7:2222").build());

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("PUT");
    assertThat(r.getUrl()).isEqualTo(CONTAINER_PATH);
    assertThat(r.getHeader("Content-Type")).startsWith("application/json");
    assertStandardHeaders(r);
    JsonObject fields = containerBody(r);
    assertThat(fields.keySet())
        .containsExactlyInAnyOrder("priority", "gateway_address", "auth_uuid");
    assertThat(fields.get("priority").getAsLong()).isEqualTo(5);
    assertThat(fields.get("auth_uuid").getAsString()).isEqualTo(AUTH_A);
    assertThat(after.state()).isEqualTo(ContainerState.RUNNING);
    assertThat(lock.lastSeen()).isSameAs(after);
  }

  @Test
  void update_sendsFieldsSetToNullAsJsonNull() {
    stubPutReturns("Running");
    heldLock().update(ContainerUpdate.builder().output(null).exitCode(null).build());

    JsonObject fields = containerBody(onlyRequest());
    assertThat(fields.get("output")).isNotNull().matches(JsonElement::isJsonNull);
    assertThat(fields.get("exit_code")).isNotNull().matches(JsonElement::isJsonNull);
    assertThat(fields.keySet()).containsExactlyInAnyOrder("output", "exit_code", "auth_uuid");
  }

  @Test
  void markRunning_putsStateRunning() {
    stubPutReturns("Running");
    heldLock().markRunning();

    JsonObject fields = containerBody(onlyRequest());
    assertThat(fields.keySet()).containsExactlyInAnyOrder("state", "auth_uuid");
    assertThat(fields.get("state").getAsString()).isEqualTo("Running");
    assertThat(fields.get("auth_uuid").getAsString()).isEqualTo(AUTH_A);
  }

  @Test
  void markRunning_twiceInTheSameEpoch_isAcceptedBothTimes() {
    stubPutReturns("Running");
    ContainerLock lock = heldLock();
    lock.markRunning();
    lock.markRunning();
    assertThat(wm.findAll(putRequestedFor(urlPathEqualTo(CONTAINER_PATH)))).hasSize(2);
    assertThat(lock.isReleased()).isFalse();
  }

  @Test
  void reportProgress_putsProgress() {
    stubPutReturns("Running");
    heldLock().reportProgress(0.25);

    JsonObject fields = containerBody(onlyRequest());
    assertThat(fields.keySet()).containsExactlyInAnyOrder("progress", "auth_uuid");
    assertThat(fields.get("progress").getAsDouble()).isEqualTo(0.25);
  }

  @Test
  void complete_putsStateExitCodeAndOutput_andReleasesTheLock() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Complete", null, null, 3))));
    ContainerLock lock = heldLock();

    Container after = lock.complete(0, OUTPUT_PDH);

    JsonObject fields = containerBody(onlyRequest());
    assertThat(fields.keySet())
        .containsExactlyInAnyOrder("state", "exit_code", "output", "auth_uuid");
    assertThat(fields.get("state").getAsString()).isEqualTo("Complete");
    assertThat(fields.get("exit_code").getAsInt()).isZero();
    assertThat(fields.get("output").getAsString()).isEqualTo(OUTPUT_PDH);
    assertThat(fields.get("auth_uuid").getAsString()).isEqualTo(AUTH_A);
    assertThat(after.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(lock.isReleased()).isTrue();
    assertThat(lock.isLost()).isFalse();
  }

  @Test
  void complete_withoutOutput_omitsTheOutputField() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Complete", null, null, 3))));
    heldLock().complete(137, null);

    JsonObject fields = containerBody(onlyRequest());
    assertThat(fields.keySet()).containsExactlyInAnyOrder("state", "exit_code", "auth_uuid");
    assertThat(fields.get("exit_code").getAsInt()).isEqualTo(137);
  }

  @Test
  void cancel_putsStateCancelled_andReleasesTheLock() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Cancelled", null, null, 3))));
    ContainerLock lock = heldLock();

    lock.cancel();

    JsonObject fields = containerBody(onlyRequest());
    assertThat(fields.keySet()).containsExactlyInAnyOrder("state", "auth_uuid");
    assertThat(fields.get("state").getAsString()).isEqualTo("Cancelled");
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void cancelWithReason_putsRuntimeStatusError() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Cancelled", null, null, 3))));
    ContainerLock lock = heldLock();

    lock.cancel("node failed: out of memory");

    JsonObject fields = containerBody(onlyRequest());
    assertThat(fields.keySet()).containsExactlyInAnyOrder("state", "runtime_status", "auth_uuid");
    assertThat(fields.get("state").getAsString()).isEqualTo("Cancelled");
    assertThat(fields.getAsJsonObject("runtime_status").keySet()).containsExactly("error");
    assertThat(fields.getAsJsonObject("runtime_status").get("error").getAsString())
        .isEqualTo("node failed: out of memory");
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void lockUnlock_isAGuardedPutToQueued_neverThePlainUnlockEndpoint() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 3))));
    ContainerLock lock = heldLock();

    Container after = lock.unlock();

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("PUT");
    JsonObject fields = containerBody(r);
    assertThat(fields.keySet()).containsExactlyInAnyOrder("state", "auth_uuid");
    assertThat(fields.get("state").getAsString()).isEqualTo("Queued");
    assertThat(fields.get("auth_uuid").getAsString()).isEqualTo(AUTH_A);
    wm.verify(0, postRequestedFor(urlPathMatching(".*/unlock")));
    assertThat(after.state()).isEqualTo(ContainerState.QUEUED);
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void verify_getsTheEpochFieldsOnly() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.epochFields(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));
    ContainerLock lock = heldLock();

    Container seen = lock.verify();

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("GET");
    assertThat(r.queryParameter("select").firstValue())
        .isEqualTo(
            "[\"uuid\",\"state\",\"priority\",\"auth_uuid\",\"locked_by_uuid\",\"lock_count\"]");
    assertStandardHeaders(r);
    assertThat(seen.state()).isEqualTo(ContainerState.RUNNING);
    assertThat(lock.lastSeen()).isSameAs(seen);
    assertThat(lock.isLost()).isFalse();
  }

  @Test
  void current_getsContainersCurrent() {
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/containers/current"))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));

    Container c = containers().current();

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("GET");
    assertThat(r.getUrl()).isEqualTo("/arvados/v1/containers/current");
    assertStandardHeaders(r);
    assertThat(c.uuid()).isEqualTo(CONTAINER);
  }

  @Test
  void auth_getsTheContainerToken() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH + "/auth"))
            .willReturn(okJson(Fixtures.authRecord(AUTH_A, Fixtures.CONTAINER_SECRET))));

    ContainerToken t = containers().auth(CONTAINER);

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("GET");
    assertThat(r.getUrl()).isEqualTo(CONTAINER_PATH + "/auth");
    assertStandardHeaders(r);
    assertThat(t.uuid()).isEqualTo(AUTH_A);
    assertThat(t.secret()).isEqualTo(Fixtures.CONTAINER_SECRET);
    assertThat(t.v2Token()).isEqualTo(Fixtures.CONTAINER_TOKEN);
    assertThat(t.containerScopedToken()).isEqualTo(Fixtures.CONTAINER_TOKEN + "/" + CONTAINER);
    assertThat(t.expiresAt()).isEqualTo(Instant.parse("2026-08-02T10:05:00Z"));
    assertThat(t.scopes()).containsExactly("all");
  }

  @Test
  void plainUnlock_postsToTheUnlockEndpoint() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/unlock"))
            .willReturn(okJson(Fixtures.lockFields(CONTAINER, "Queued", 1, null, null))));

    Container c = containers().unlock(CONTAINER);

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("POST");
    assertThat(r.getUrl()).isEqualTo(CONTAINER_PATH + "/unlock");
    assertThat(r.getBodyAsString()).isEmpty();
    assertStandardHeaders(r);
    assertThat(c.state()).isEqualTo(ContainerState.QUEUED);
    assertThat(c.authUuid()).isNull();
    assertThat(c.has("auth_uuid")).isTrue();
    assertThat(c.has("lock_count")).isFalse();
  }

  @Test
  void tokenUuid_getsCurrentAuthorizationOnce_andCachesIt() {
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/api_client_authorizations/current"))
            .willReturn(okJson(Fixtures.tokenRecord(DISPATCHER_TOKEN_UUID))));

    assertThat(client.tokenUuid()).isEqualTo(DISPATCHER_TOKEN_UUID);
    assertThat(client.tokenUuid()).isEqualTo(DISPATCHER_TOKEN_UUID);

    LoggedRequest r = onlyRequest();
    assertThat(r.getMethod().getName()).isEqualTo("GET");
    assertThat(r.getUrl()).isEqualTo("/arvados/v1/api_client_authorizations/current");
    assertStandardHeaders(r);
  }

  @Test
  void happyPath_lockMarkRunningComplete_costsExactlyThreeRequests() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .willReturn(
                okJson(
                    Fixtures.lockFields(CONTAINER, "Locked", 1, AUTH_A, DISPATCHER_TOKEN_UUID))));
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .inScenario("life")
            .whenScenarioStateIs("Started")
            .willReturn(
                okJson(Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 1)))
            .willSetStateTo("running"));
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .inScenario("life")
            .whenScenarioStateIs("running")
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Complete", null, null, 1))));

    ContainerLock lock = containers().lock(CONTAINER);
    lock.markRunning();
    lock.complete(0, OUTPUT_PDH);

    wm.verify(3, anyRequestedFor(anyUrl()));
    wm.verify(1, postRequestedFor(urlPathEqualTo(CONTAINER_PATH + "/lock")));
    wm.verify(2, putRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
    wm.verify(0, getRequestedFor(anyUrl()));
    assertThat(lock.isReleased()).isTrue();
  }
}

package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.crunchguard.Fixtures.AUTH_B;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.Fixtures.OTHER_DISPATCHER_UUID;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Containers with a runtime_token have no auth_uuid (services/api/app/models/container.rb
 * assign_auth, line 689; src/docs/guide.md "Limits of the guard"): their locks are unfenced and
 * fall back to read-compare-write on locked_by_uuid, lock_count and state.
 */
class UnfencedLockTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private ContainerLock resumedUnfenced() {
    return containers().resume(LockEpoch.of(CONTAINER, null, DISPATCHER_TOKEN_UUID, 5L));
  }

  private static void epochReads(
      String state, @Nullable String authUuid, @Nullable String lockedBy, long lockCount) {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(Fixtures.epochFields(CONTAINER, state, authUuid, lockedBy, lockCount))));
  }

  @Test
  void lockWithoutAuthUuid_isUnfenced_andOneExtraReadLearnsTheLockCount() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .willReturn(
                okJson(Fixtures.lockFields(CONTAINER, "Locked", 1, null, DISPATCHER_TOKEN_UUID))));
    epochReads("Locked", null, DISPATCHER_TOKEN_UUID, 5);

    ContainerLock lock = containers().lock(CONTAINER);

    assertThat(lock.isFenced()).isFalse();
    assertThat(lock.authUuid()).isNull();
    assertThat(lock.epoch().lockedByUuid()).isEqualTo(DISPATCHER_TOKEN_UUID);
    assertThat(lock.epoch()).isEqualTo(LockEpoch.of(CONTAINER, null, DISPATCHER_TOKEN_UUID, 5L));
    List<LoggedRequest> all = allRequests();
    assertThat(all).hasSize(2);
    assertThat(all.get(1).getMethod().getName()).isEqualTo("GET");
    assertThat(all.get(1).queryParameter("select").firstValue()).isEqualTo(Containers.EPOCH_SELECT);
  }

  @Test
  void update_readsAndComparesFirst_thenPutsWithAuthUuidAsJsonNull() {
    epochReads("Locked", null, DISPATCHER_TOKEN_UUID, 5);
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(Fixtures.recordJson(CONTAINER, "Running", null, DISPATCHER_TOKEN_UUID, 5))));

    resumedUnfenced().markRunning();

    List<LoggedRequest> all = allRequests();
    assertThat(all).extracting(r -> r.getMethod().getName()).containsExactly("GET", "PUT");
    JsonObject fields =
        JsonParser.parseString(all.get(1).getBodyAsString())
            .getAsJsonObject()
            .getAsJsonObject("container");
    assertThat(fields.has("auth_uuid")).as("auth_uuid is sent, not omitted").isTrue();
    assertThat(fields.get("auth_uuid").isJsonNull()).as("as JSON null, never \"\"").isTrue();
    assertThat(all.get(1).getBodyAsString()).contains("\"auth_uuid\":null");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      nullValues = "nil",
      value = {
        "relocked by the same token (lock_count moved), Locked, nil, "
            + DISPATCHER_TOKEN_UUID
            + ", 6",
        "locked by another dispatcher,                  Locked, nil, "
            + OTHER_DISPATCHER_UUID
            + ", 6",
        "requeued,                                      Queued, nil, nil, 5",
        "finished,                                      Complete, nil, nil, 5",
        "now fenced by an auth_uuid,                    Locked, "
            + AUTH_B
            + ", "
            + DISPATCHER_TOKEN_UUID
            + ", 5",
      })
  void update_whenTheReadShowsAnotherEpoch_isLostWithoutSendingThePut(
      String why,
      String state,
      @Nullable String authUuid,
      @Nullable String lockedBy,
      long lockCount) {
    epochReads(state, authUuid, lockedBy, lockCount);
    ContainerLock lock = resumedUnfenced();

    LostOwnershipException e = expect(LostOwnershipException.class, () -> lock.reportProgress(0.3));

    assertThat(e.heldEpoch().authUuid()).isNull();
    assertThat(e.observed().map(Container::state).orElse(null))
        .isEqualTo(ContainerState.fromWire(state));
    assertThat(e.observed().map(Container::lockedByUuid).orElse(null)).isEqualTo(lockedBy);
    assertThat(lock.isLost()).isTrue();
    wm.verify(0, putRequestedFor(anyUrl()));
    wm.verify(1, getRequestedFor(anyUrl()));
  }

  @Test
  void verify_comparesLockedByAndLockCount() {
    epochReads("Running", null, DISPATCHER_TOKEN_UUID, 5);
    assertThat(resumedUnfenced().verify().state()).isEqualTo(ContainerState.RUNNING);

    wm.resetAll();
    epochReads("Running", null, DISPATCHER_TOKEN_UUID, 6);
    assertThat(expect(LostOwnershipException.class, () -> resumedUnfenced().verify())).isNotNull();
  }

  @Test
  void refusal_ofAnUnfencedWrite_isDecidedByOneReadBack_currentEpochMeansTheServersError() {
    epochReads("Locked", null, DISPATCHER_TOKEN_UUID, 5);
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(422)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        Fixtures.envelope(
                            "Exit code cannot be modified in state 'Locked' (nil, 1)"))));
    ContainerLock lock = resumedUnfenced();

    ArvadosServiceException e =
        expect(
            ArvadosServiceException.class,
            () -> lock.update(ContainerUpdate.builder().exitCode(1).build()));

    assertThat(e).isExactlyInstanceOf(ArvadosServiceException.class);
    assertThat(lock.isLost()).isFalse();
    wm.verify(2, getRequestedFor(anyUrl()));
  }

  @Test
  void refusal_ofAnUnfencedWrite_whenTheReadBackShowsAnotherEpoch_isLost() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .inScenario("race")
            .whenScenarioStateIs("Started")
            .willReturn(
                okJson(Fixtures.epochFields(CONTAINER, "Locked", null, DISPATCHER_TOKEN_UUID, 5)))
            .willSetStateTo("requeued"));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .inScenario("race")
            .whenScenarioStateIs("requeued")
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 5))));
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(422)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope("State cannot change from Queued to Running"))));
    ContainerLock lock = resumedUnfenced();

    LostOwnershipException e = expect(LostOwnershipException.class, lock::markRunning);

    assertThat(e.observed().map(Container::state).orElse(null)).isEqualTo(ContainerState.QUEUED);
  }
}

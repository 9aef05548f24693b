package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.AUTH_B;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.Fixtures.OTHER_DISPATCHER_UUID;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How a refused write is classified (services/api/app/models/container.rb validate_change and
 * assign_auth): lost ownership only on evidence (the auth_uuid messages, a different holder, a
 * revoked container token, or one read-back), otherwise the server's own error.
 */
class OwnershipClassificationTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;
  private static final String PERMISSION_DENIED =
      "#<ArvadosModel::PermissionDeniedError: ArvadosModel::PermissionDeniedError>";

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static void putAnswers(int status, String body) {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(status)
                    .withHeader("Content-Type", "application/json")
                    .withBody(body)));
  }

  private static void getAnswers(String body) {
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(okJson(body)));
  }

  private static void assertReadBacks(int n) {
    wm.verify(n, getRequestedFor(anyUrl()));
  }

  @Test
  void updateAfterRelock_throwsLostOwnership_withWhatOneReadBackObserved() {
    putAnswers(422, Fixtures.staleWriter("Running", AUTH_B, AUTH_A));
    getAnswers(Fixtures.recordJson(CONTAINER, "Running", AUTH_B, OTHER_DISPATCHER_UUID, 4));
    ContainerLock lock = heldLock();

    LostOwnershipException e = expect(LostOwnershipException.class, lock::markRunning);

    assertThat(e.containerUuid()).isEqualTo(CONTAINER);
    assertThat(e.heldEpoch().authUuid()).isEqualTo(AUTH_A);
    assertThat(e.observed().map(Container::state).orElse(null)).isEqualTo(ContainerState.RUNNING);
    assertThat(e.observed().map(Container::authUuid).orElse(null)).isEqualTo(AUTH_B);
    assertThat(e.observed().orElseThrow().authUuid()).isNotEqualTo(e.heldEpoch().authUuid());
    assertThat(e.observed().map(Container::lockedByUuid).orElse(null))
        .isEqualTo(OTHER_DISPATCHER_UUID);
    assertThat(e.getMessage()).contains(CONTAINER).contains(AUTH_A).contains("auth_uuid=" + AUTH_B);
    assertThat(e.getCause()).isInstanceOf(ArvadosServiceException.class);
    assertThat(((ArvadosServiceException) e.getCause()).status()).isEqualTo(422);
    assertThat(lock.isLost()).isTrue();
    assertReadBacks(1);
    wm.verify(1, putRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
  }

  @Test
  void updateAfterRelockBySameToken_isLost_becauseAuthUuidNotLockedByUuidIsTheFence() {
    putAnswers(422, Fixtures.staleWriter("Locked", AUTH_B, AUTH_A));
    getAnswers(Fixtures.recordJson(CONTAINER, "Locked", AUTH_B, DISPATCHER_TOKEN_UUID, 4));

    LostOwnershipException e =
        expect(LostOwnershipException.class, () -> heldLock().reportProgress(0.5));

    assertThat(e.observed().map(Container::lockedByUuid).orElse(null))
        .isEqualTo(DISPATCHER_TOKEN_UUID);
    assertThat(e.observed().orElseThrow().authUuid()).isNotEqualTo(e.heldEpoch().authUuid());
  }

  @Test
  void updateAfterRequeue_isLost_observingQueuedWithoutAuthUuid() {
    putAnswers(422, Fixtures.staleWriter("Queued", null, AUTH_A));
    getAnswers(Fixtures.recordJson(CONTAINER, "Queued", null, null, 3));

    LostOwnershipException e = expect(LostOwnershipException.class, () -> heldLock().markRunning());

    assertThat(e.observed().map(Container::state).orElse(null)).isEqualTo(ContainerState.QUEUED);
    assertThat(e.observed().map(Container::authUuid).orElse(null)).isNull();
    assertThat(e.observed().orElseThrow().authUuid()).isNotEqualTo(e.heldEpoch().authUuid());
    assertThat(e.observed().map(Container::lockedByUuid).orElse(null)).isNull();
  }

  @Test
  void readonlyMessageAlone_isEnoughEvidence() {
    putAnswers(422, Fixtures.envelope(Fixtures.AUTH_READONLY));
    getAnswers(Fixtures.recordJson(CONTAINER, "Cancelled", null, null, 3));

    LostOwnershipException e = expect(LostOwnershipException.class, () -> heldLock().markRunning());

    assertThat(e.observed().map(Container::state).orElse(null)).isEqualTo(ContainerState.CANCELLED);
  }

  @Test
  void staleWriter_whoseReadBackFails_isStillLost_withUnknownObservations() {
    putAnswers(422, Fixtures.staleWriter("Running", AUTH_B, AUTH_A));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(404)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(Fixtures.PATH_NOT_FOUND))));
    ContainerLock lock = heldLock();

    LostOwnershipException e = expect(LostOwnershipException.class, lock::markRunning);

    assertThat(e.observed().map(Container::state).orElse(null)).isNull();
    assertThat(e.observed().map(Container::authUuid).orElse(null)).isNull();
    assertThat(e.observed()).isEmpty();
    assertThat(e.observed().map(Container::lockedByUuid).orElse(null)).isNull();
    assertThat(lock.isLost()).isTrue();
  }

  @Test
  void ownBadField_exitCodeInLocked_staysApiException_andTheLockStaysHeld() {
    String msg = "Exit code cannot be modified in state 'Locked' (nil, 1)";
    putAnswers(422, Fixtures.envelope(msg));
    ContainerLock lock = heldLock();

    ArvadosServiceException e =
        expect(
            ArvadosServiceException.class,
            () -> lock.update(ContainerUpdate.builder().exitCode(1).build()));

    assertThat(e).isExactlyInstanceOf(ArvadosServiceException.class);
    assertThat(e.status()).isEqualTo(422);
    assertThat(e.errors()).containsExactly(msg + " (" + Fixtures.SERVER_REQ + ")");
    assertThat(e.getMessage()).contains(msg);
    assertThat(lock.isLost()).isFalse();
    assertThat(lock.isReleased()).isFalse();
    assertReadBacks(0);

    // Still held: the next write is sent.
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));
    lock.markRunning();
    wm.verify(2, putRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
  }

  @Test
  void serverValidationOfRuntimeStatus_staysApiException() {
    String msg = "Runtime status 'error' value must be a string";
    putAnswers(422, Fixtures.envelope(msg));
    ContainerLock lock = heldLock();

    ArvadosServiceException e =
        expect(
            ArvadosServiceException.class,
            () ->
                lock.update(
                    ContainerUpdate.builder()
                        .runtimeStatus(java.util.Map.of("activity", "staging"))
                        .build()));

    assertThat(e).isExactlyInstanceOf(ArvadosServiceException.class);
    assertThat(e.hasErrorContaining(msg)).isTrue();
    assertThat(lock.isLost()).isFalse();
    assertReadBacks(0);
  }

  @Test
  void illegalStateChange_withoutAuthUuidComplaint_staysApiException() {
    putAnswers(422, Fixtures.envelope("State cannot change from Locked to Complete"));
    ContainerLock lock = heldLock();

    ArvadosServiceException e = expect(ArvadosServiceException.class, () -> lock.complete(0, null));

    assertThat(e).isExactlyInstanceOf(ArvadosServiceException.class);
    assertThat(lock.isLost()).isFalse();
    assertThat(lock.isReleased()).isFalse();
  }

  @Test
  void unlockOfAnotherTokensLock_lockedByADifferentToken_isLost() {
    putAnswers(403, Fixtures.envelope(Fixtures.UNLOCK_DIFFERENT_TOKEN));
    getAnswers(Fixtures.recordJson(CONTAINER, "Locked", AUTH_B, OTHER_DISPATCHER_UUID, 4));
    ContainerLock lock = heldLock();

    LostOwnershipException e = expect(LostOwnershipException.class, lock::unlock);

    assertThat(e.observed().map(Container::lockedByUuid).orElse(null))
        .isEqualTo(OTHER_DISPATCHER_UUID);
    assertThat(e.getCause()).isInstanceOf(PermissionDeniedException.class);
    assertThat(lock.isLost()).isTrue();
    assertThat(lock.isReleased()).isFalse();
  }

  @Test
  void ambiguous403_whenAuthUuidChanged_isLost_afterExactlyOneReadBack() {
    putAnswers(403, Fixtures.envelope(PERMISSION_DENIED));
    getAnswers(Fixtures.recordJson(CONTAINER, "Running", AUTH_B, OTHER_DISPATCHER_UUID, 4));
    ContainerLock lock = heldLock();

    LostOwnershipException e = expect(LostOwnershipException.class, lock::markRunning);

    assertThat(e.observed().orElseThrow().authUuid()).isNotEqualTo(e.heldEpoch().authUuid());
    assertThat(e.getCause()).isInstanceOf(PermissionDeniedException.class);
    assertReadBacks(1);
  }

  @Test
  void ambiguous403_whenTheEpochIsCurrent_isPermissionDenied_afterExactlyOneReadBack() {
    putAnswers(403, Fixtures.envelope(PERMISSION_DENIED));
    getAnswers(Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3));
    ContainerLock lock = heldLock();

    ArvadosServiceException e = expect(ArvadosServiceException.class, lock::markRunning);

    assertThat(e).isExactlyInstanceOf(PermissionDeniedException.class);
    assertThat(lock.isLost()).isFalse();
    assertReadBacks(1);
  }

  @Test
  void ambiguous403_whoseReadBackFails_isPermissionDenied_notLost() {
    putAnswers(403, Fixtures.envelope(PERMISSION_DENIED));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(403)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(PERMISSION_DENIED))));
    ContainerLock lock = heldLock();

    assertThat(expect(ArvadosServiceException.class, lock::markRunning))
        .isExactlyInstanceOf(PermissionDeniedException.class);
    assertThat(lock.isLost()).isFalse();
  }

  @Test
  void unauthorized_whenWritingWithTheContainersOwnToken_isLost_withoutReadBack() {
    putAnswers(401, Fixtures.envelope(Fixtures.NOT_LOGGED_IN));
    try (ArvadosClient runner = builder().token(Fixtures.CONTAINER_TOKEN).build()) {
      ContainerLock lock =
          runner.containers().resume(LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L));

      LostOwnershipException e =
          expect(LostOwnershipException.class, () -> lock.reportProgress(0.9));

      assertThat(e.heldEpoch().authUuid()).isEqualTo(AUTH_A);
      assertThat(e.observed().map(Container::state).orElse(null)).isNull();
      assertThat(e.getCause()).isInstanceOf(UnauthorizedException.class);
      assertThat(lock.isLost()).isTrue();
    }
    assertReadBacks(0);
  }

  @Test
  void unauthorized_withTheContainerScopedFourPartToken_isLost() {
    putAnswers(401, Fixtures.envelope(Fixtures.NOT_LOGGED_IN));
    try (ArvadosClient runner =
        builder().token(Fixtures.CONTAINER_TOKEN + "/" + CONTAINER).build()) {
      ContainerLock lock = runner.containers().resume(LockEpoch.of(CONTAINER, AUTH_A, null, null));
      assertThat(expect(LostOwnershipException.class, lock::markRunning)).isNotNull();
    }
  }

  @Test
  void unauthorized_withADispatcherToken_isUnauthorized_notLost() {
    putAnswers(401, Fixtures.envelope(Fixtures.NOT_LOGGED_IN));
    ContainerLock lock = heldLock();

    ArvadosServiceException e = expect(ArvadosServiceException.class, lock::markRunning);

    assertThat(e).isExactlyInstanceOf(UnauthorizedException.class);
    assertThat(lock.isLost()).isFalse();
    assertReadBacks(0);
  }

  @Test
  void verify_whenTheEpochIsCurrent_returnsTheRecord() {
    getAnswers(Fixtures.epochFields(CONTAINER, "Locked", AUTH_A, DISPATCHER_TOKEN_UUID, 3));
    ContainerLock lock = heldLock();
    assertThat(lock.verify().state()).isEqualTo(ContainerState.LOCKED);
    assertThat(lock.isLost()).isFalse();
  }

  @Test
  void verify_afterRelock_isLost() {
    getAnswers(Fixtures.epochFields(CONTAINER, "Locked", AUTH_B, DISPATCHER_TOKEN_UUID, 4));
    ContainerLock lock = heldLock();

    LostOwnershipException e = expect(LostOwnershipException.class, lock::verify);

    assertThat(e.observed().map(Container::authUuid).orElse(null)).isEqualTo(AUTH_B);
    assertThat(e.observed().orElseThrow().authUuid()).isNotEqualTo(e.heldEpoch().authUuid());
    assertThat(e.getCause()).isNull();
    assertThat(lock.isLost()).isTrue();
    assertThat(lock.lastSeen()).isNotNull();
  }

  @Test
  void verify_afterComplete_isLost_evenWithoutAuthUuidInTheAnswer() {
    getAnswers("{\"uuid\":\"" + CONTAINER + "\",\"state\":\"Complete\"}");
    LostOwnershipException e = expect(LostOwnershipException.class, () -> heldLock().verify());
    assertThat(e.observed().map(Container::state).orElse(null)).isEqualTo(ContainerState.COMPLETE);
    assertThat(e.observed().orElseThrow().has("auth_uuid"))
        .as("auth_uuid was not in the answer")
        .isFalse();
  }

  @Test
  void verify_whenTheContainerIsGone_isLost() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(404)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(Fixtures.PATH_NOT_FOUND))));
    LostOwnershipException e = expect(LostOwnershipException.class, () -> heldLock().verify());
    assertThat(e.getCause()).isInstanceOf(NotFoundException.class);
  }

  @Test
  void verify_unauthorizedWithTheContainerToken_isLost() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(401)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(Fixtures.NOT_LOGGED_IN))));
    try (ArvadosClient runner = builder().token(Fixtures.CONTAINER_TOKEN).build()) {
      ContainerLock lock = runner.containers().resume(LockEpoch.of(CONTAINER, AUTH_A, null, null));
      assertThat(expect(LostOwnershipException.class, lock::verify).getCause())
          .isInstanceOf(UnauthorizedException.class);
    }
  }

  @Test
  void verify_unauthorizedWithADispatcherToken_isUnauthorized() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(401)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(Fixtures.NOT_LOGGED_IN))));
    ContainerLock lock = heldLock();
    assertThat(expect(ArvadosServiceException.class, lock::verify))
        .isExactlyInstanceOf(UnauthorizedException.class);
    assertThat(lock.isLost()).isFalse();
  }
}

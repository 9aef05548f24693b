package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
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

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.google.gson.JsonObject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lock's one atomic state: a release and a loss detected on another thread cannot both win; the
 * runner's watch never declares a loss of the epoch this process is finishing; the evidence rules
 * for 403, 404 and for a write whose every answer was lost.
 */
class LockStateTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static String completeRecord() {
    JsonObject o = Fixtures.record(CONTAINER, "Complete", null, null, 3);
    o.addProperty("exit_code", 0);
    return o.toString();
  }

  private static void awaitRequests(
      com.github.tomakehurst.wiremock.matching.RequestPatternBuilder p, int n)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (wm.findAll(p).size() < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the request never arrived");
      }
      Thread.sleep(5);
    }
  }

  @Test
  void watchTickingWhileTheOwnCompleteIsInFlight_doesNotDeclareALoss() throws Exception {
    // The PUT is applied at once but its answer takes 600 ms; the record already reads Complete.
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(completeRecord()).withFixedDelay(600)));
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(okJson(completeRecord())));
    ContainerLock lock = heldLock();
    AtomicInteger losses = new AtomicInteger();
    lock.onLost(e -> losses.incrementAndGet());

    CompletableFuture<Container> completing =
        CompletableFuture.supplyAsync(() -> lock.complete(0, null));
    awaitRequests(putRequestedFor(urlPathEqualTo(CONTAINER_PATH)), 1);
    IllegalStateException during = expect(IllegalStateException.class, lock::verify);

    assertThat(during).hasMessageContaining("being released");
    assertThat(completing.get(10, TimeUnit.SECONDS).state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(lock.isReleased()).isTrue();
    assertThat(lock.isLost()).isFalse();
    assertThat(losses).hasValue(0);
    assertThat(expect(IllegalStateException.class, lock::verify))
        .hasMessageContaining("already released");
  }

  @Test
  void watchWhoseReadWasInFlightDuringTheOwnComplete_doesNotDeclareALoss() throws Exception {
    // The watch's GET answers late, after the PUT has completed the container.
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(okJson(completeRecord()).withFixedDelay(600)));
    wm.stubFor(put(urlPathEqualTo(CONTAINER_PATH)).willReturn(okJson(completeRecord())));
    ContainerLock lock = heldLock();
    AtomicInteger losses = new AtomicInteger();
    lock.onLost(e -> losses.incrementAndGet());

    CompletableFuture<Container> watching = CompletableFuture.supplyAsync(lock::verify);
    awaitRequests(getRequestedFor(urlPathEqualTo(CONTAINER_PATH)), 1);
    lock.complete(0, null);

    Throwable watchResult =
        org.assertj.core.api.Assertions.catchThrowable(() -> watching.get(10, TimeUnit.SECONDS));
    assertThat(watchResult).hasCauseInstanceOf(IllegalStateException.class);
    assertThat(lock.isReleased()).isTrue();
    assertThat(lock.isLost()).isFalse();
    assertThat(losses).hasValue(0);
  }

  @Test
  void lossDetectedWhileAnotherThreadsReleaseIsRefused_isRecordedOnce_byTheReleasingWrite()
      throws Exception {
    // The complete is refused as stale after 300 ms; meanwhile a watch reads the new epoch.
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(422)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.staleWriter("Running", AUTH_B, AUTH_A))
                    .withFixedDelay(300)));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_B, OTHER_DISPATCHER_UUID, 4))));
    ContainerLock lock = heldLock();
    AtomicInteger losses = new AtomicInteger();
    lock.onLost(e -> losses.incrementAndGet());

    CompletableFuture<Container> completing =
        CompletableFuture.supplyAsync(() -> lock.complete(0, null));
    awaitRequests(putRequestedFor(urlPathEqualTo(CONTAINER_PATH)), 1);
    expect(IllegalStateException.class, lock::verify);

    Throwable completeResult =
        org.assertj.core.api.Assertions.catchThrowable(() -> completing.get(10, TimeUnit.SECONDS));
    assertThat(completeResult).hasCauseInstanceOf(LostOwnershipException.class);
    assertThat(lock.isLost()).isTrue();
    assertThat(lock.isReleased()).isFalse();
    assertThat(losses).hasValue(1);
  }

  @Test
  void releaseRefusedForTheCallersOwnField_leavesTheLockHeld() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(422)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        Fixtures.envelope(
                            "Exit code cannot be modified in state 'Locked' (nil, 0)"))));
    ContainerLock lock = heldLock();

    expect(ArvadosServiceException.class, () -> lock.complete(0, null));

    assertThat(lock.isLost()).isFalse();
    assertThat(lock.isReleased()).isFalse();
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Locked", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));
    assertThat(lock.verify().state()).isEqualTo(ContainerState.LOCKED);
  }

  @Test
  void completeWhoseEveryAnswerWasLost_succeeds_whenOneReadBackShowsItApplied() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(okJson(completeRecord())));
    ContainerLock lock = heldLock();

    Container c = lock.complete(0, null);

    assertThat(c.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(lock.isReleased()).isTrue();
    wm.verify(
        RetryPolicy.defaults().maxAttempts(), putRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
    wm.verify(1, getRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
  }

  @Test
  void markRunningWhoseEveryAnswerWasLost_succeeds_andCountsAsThisLocksRunningWrite() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));
    ContainerLock lock = heldLock();

    assertThat(lock.markRunning().state()).isEqualTo(ContainerState.RUNNING);
    assertThat(lock.movedToRunning()).isTrue();
  }

  @Test
  void completeWhoseEveryAnswerWasLost_isTheTransportError_whenTheReadBackShowsItNotApplied() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));
    ContainerLock lock = heldLock();

    expect(ArvadosTransportException.class, () -> lock.complete(0, null));

    assertThat(lock.isReleased()).isFalse();
    assertThat(lock.isLost()).isFalse();
    assertThat(lock.verify().state())
        .as("still held, not stuck releasing")
        .isEqualTo(ContainerState.RUNNING);
  }

  @Test
  void releaseThatNeverReachedTheServer_isTheTransportError_andTheLockStaysHeld() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    ArvadosClient unreachable = builder().baseUrl("http://127.0.0.1:" + closedPort + "/").build();
    closeLater(unreachable);
    ContainerLock lock =
        unreachable.containers().resume(LockEpoch.of(CONTAINER, AUTH_A, DISPATCHER_TOKEN_UUID, 3L));

    expect(ArvadosTransportException.class, () -> lock.complete(0, null));

    assertThat(lock.isReleased()).isFalse();
    assertThat(lock.isLost()).isFalse();
    expect(ArvadosTransportException.class, lock::unlock); // not stuck "being released"
  }

  @Test
  void
      unlockBySecondAdminToken_lockedByADifferentToken_whileTheEpochIsCurrent_isPermissionDenied_andStaysHeld() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(403)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(Fixtures.UNLOCK_DIFFERENT_TOKEN))));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Locked", AUTH_A, OTHER_DISPATCHER_UUID, 3))));
    ContainerLock lock = heldLock();

    PermissionDeniedException e = expect(PermissionDeniedException.class, lock::unlock);

    assertThat(e.hasErrorContaining("locked by a different token")).isTrue();
    assertThat(lock.isLost()).isFalse();
    assertThat(lock.isReleased()).isFalse();
    wm.verify(1, getRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
  }

  @Test
  void updateAnswered404_isLost_whenTheReadBackFindsNoContainerEither() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(404)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(Fixtures.PATH_NOT_FOUND))));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(404)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(Fixtures.PATH_NOT_FOUND))));
    ContainerLock lock = heldLock();

    LostOwnershipException e = expect(LostOwnershipException.class, lock::markRunning);

    assertThat(e.getCause()).isInstanceOf(NotFoundException.class);
    assertThat(lock.isLost()).isTrue();
  }

  @Test
  void updateAnswered404_isNotFound_andStaysHeld_whenTheReadBackShowsTheEpochCurrent() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(404)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.envelope(Fixtures.PATH_NOT_FOUND))));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Locked", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));
    ContainerLock lock = heldLock();

    expect(NotFoundException.class, lock::markRunning);

    assertThat(lock.isLost()).isFalse();
  }
}

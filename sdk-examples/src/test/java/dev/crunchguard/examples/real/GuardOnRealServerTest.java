package dev.crunchguard.examples.real;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosServiceException;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerState;
import dev.crunchguard.ContainerToken;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.ProxiedWrite;
import dev.crunchguard.testkit.RealArvados;
import dev.crunchguard.testkit.RequiresRealArvados;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The guard end to end on the real Arvados server: the life cycle, fencing of a stale epoch, the
 * guarded unlock, {@code MaxDispatchAttempts}, unfenced containers and the container's own token.
 */
@RequiresRealArvados
class GuardOnRealServerTest {
  private final RealArvados arv;
  private RealServer real;

  GuardOnRealServerTest(RealArvados arv) {
    this.arv = arv;
  }

  @BeforeEach
  void start() {
    real = new RealServer(arv);
  }

  @AfterEach
  void stop() {
    real.close();
  }

  @Test
  void lockRunningComplete_isExactlyThreeRequestsAndCompletesTheContainer() {
    String uuid = real.create("true");
    real.proxy.reset();

    ContainerLock lock = real.admin.containers().lock(uuid);
    lock.markRunning();
    lock.complete(0, null);

    assertThat(real.proxy.totalRequestCount()).as("%s", real.proxy.requestCounts()).isEqualTo(3);
    assertThat(real.proxy.requestCount(Endpoint.LOCK, uuid)).isEqualTo(1);
    assertThat(real.proxy.requestCount(Endpoint.UPDATE, uuid)).isEqualTo(2);
    assertThat(real.proxy.writes(uuid))
        .extracting(ProxiedWrite::carriedAuthUuid)
        .containsExactly(false, true, true);
    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(c.exitCode()).isZero();
    assertThat(c.authUuid()).isNull();
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void staleWriteAfterUnlockAndRelockBySameToken_isLostOwnershipAndChangesNothing() {
    String uuid = real.create("true");
    ContainerLock stale = real.admin.containers().lock(uuid);
    real.direct.containers().unlock(uuid); // a recovery tool requeues it
    ContainerLock current = real.admin.containers().lock(uuid);
    assertThat(current.authUuid()).isNotNull().isNotEqualTo(stale.authUuid());
    assertThat(current.epoch().lockedByUuid())
        .isEqualTo(stale.epoch().lockedByUuid()); // same token: indistinguishable

    assertThatThrownBy(stale::markRunning)
        .isInstanceOfSatisfying(
            LostOwnershipException.class,
            e -> {
              assertThat(e.containerUuid()).isEqualTo(uuid);
              assertThat(e.heldEpoch().authUuid()).isEqualTo(stale.authUuid());
              assertThat(e.observed().map(Container::state).orElse(null))
                  .isEqualTo(ContainerState.LOCKED);
              assertThat(e.observed().map(Container::authUuid).orElse(null))
                  .isEqualTo(current.authUuid());
              assertThat(e.observed().orElseThrow().authUuid())
                  .isNotEqualTo(e.heldEpoch().authUuid());
              assertThat(e.getMessage()).doesNotContain(arv.adminToken());
            });
    assertThat(stale.isLost()).isTrue();
    long before = real.proxy.totalRequestCount();
    assertThatThrownBy(() -> stale.complete(0, null)).isInstanceOf(LostOwnershipException.class);
    assertThat(real.proxy.totalRequestCount())
        .as("fails fast, without a request")
        .isEqualTo(before);

    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.LOCKED);
    assertThat(c.authUuid()).isEqualTo(current.authUuid());
    assertThat(c.exitCode()).isNull();
    current.markRunning();
    current.complete(3, null);
    assertThat(real.read(uuid).exitCode()).isEqualTo(3L);
  }

  @Test
  void guardedUnlock_isAPutOfStateQueuedAndEndsTheEpoch() {
    String uuid = real.create("true");
    ContainerLock lock = real.admin.containers().lock(uuid);
    real.proxy.reset();

    Container after = lock.unlock();

    assertThat(after.state()).isEqualTo(ContainerState.QUEUED);
    assertThat(real.proxy.requestCount(Endpoint.UNLOCK))
        .as("never the plain POST .../unlock")
        .isZero();
    assertThat(real.proxy.writes(uuid))
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.method()).isEqualTo("PUT");
              assertThat(w.endpoint()).isEqualTo(Endpoint.UPDATE);
              assertThat(w.carriedAuthUuid()).isTrue();
              assertThat(w.status()).isEqualTo(200);
            });
    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.QUEUED);
    assertThat(c.authUuid()).isNull();
    assertThat(c.lockedByUuid()).isNull();
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void guardedUnlockOfAStaleEpoch_isRefusedAndLeavesTheNewLockAlone() {
    String uuid = real.create("true");
    ContainerLock stale = real.admin.containers().lock(uuid);
    real.direct.containers().unlock(uuid);
    ContainerLock current = real.admin.containers().lock(uuid);

    assertThatThrownBy(stale::unlock).isInstanceOf(LostOwnershipException.class);

    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.LOCKED);
    assertThat(c.authUuid()).isEqualTo(current.authUuid());
    current.unlock();
  }

  @Test
  void maxDispatchAttempts_cancelsTheContainerOnTheUnlockThatReachesTheLimit() {
    String uuid = real.create("true");
    Container last = null;
    int unlocks = 0;
    while (unlocks < 20) {
      ContainerLock lock = real.admin.containers().lock(uuid);
      last = lock.unlock();
      unlocks++;
      if (last.state() != ContainerState.QUEUED) {
        break;
      }
    }
    assertThat(last.state()).isEqualTo(ContainerState.CANCELLED);
    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.CANCELLED);
    assertThat(c.lockCount()).isEqualTo(unlocks);
    assertThat(String.valueOf(c.runtimeStatus().get("error")))
        .contains(
            "Cancelled after exceeding 'Containers.MaxDispatchAttempts' (lock_count="
                + unlocks
                + ")");
    if (arv.baseUrl().startsWith("http://127.0.0.1:")) {
      // The loopback server of src/ci/real-arvados.sh is set up with MaxDispatchAttempts 3.
      assertThat(unlocks).isEqualTo(3);
    }
  }

  @Test
  void secondAdminToken_mayMarkRunningButNotUnlockReportProgressOrComplete() {
    String uuid = real.create("true");
    ContainerLock mine = real.admin.containers().lock(uuid);

    assertThatThrownBy(() -> real.admin2.containers().unlock(uuid))
        .isInstanceOfSatisfying(
            ArvadosServiceException.class,
            e -> {
              assertThat(e.status()).isEqualTo(403);
              assertThat(e.errors())
                  .anySatisfy(m -> assertThat(m).contains("locked by a different token"));
            });

    ContainerLock theirs = real.admin2.containers().resume(mine.epoch());
    Container running = theirs.markRunning(); // allowed on the real server
    assertThat(running.state()).isEqualTo(ContainerState.RUNNING);

    assertThatThrownBy(() -> theirs.reportProgress(0.5))
        .isInstanceOfSatisfying(
            ArvadosServiceException.class,
            e -> {
              assertThat(e).isNotInstanceOf(LostOwnershipException.class);
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.errors())
                  .anySatisfy(
                      m ->
                          assertThat(m)
                              .startsWith(
                                  "Progress cannot be modified in state 'Running' (nil, 0.5)"));
            });
    assertThat(theirs.isLost()).as("the caller's own field, not a lost epoch").isFalse();
    assertThatThrownBy(() -> theirs.complete(0, null))
        .isInstanceOfSatisfying(
            ArvadosServiceException.class,
            e -> {
              assertThat(e).isNotInstanceOf(LostOwnershipException.class);
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.errors())
                  .anySatisfy(
                      m ->
                          assertThat(m)
                              .startsWith(
                                  "Exit code cannot be modified in state 'Complete' (nil, 0)"));
            });
    assertThat(theirs.isLost()).isFalse();

    assertThat(real.read(uuid).authUuid()).isEqualTo(mine.authUuid());
    mine.reportProgress(0.5);
    mine.complete(0, null);
    assertThat(real.read(uuid).state()).isEqualTo(ContainerState.COMPLETE);
  }

  @Test
  void unfencedContainerWithARuntimeToken_getsNoAuthUuidAndIsGuardedByReadBack() {
    String uuid =
        real.create(
            ContainerSpec.builder()
                .command("true")
                .containerImage(RealServer.IMAGE)
                .priority(1)
                .runtimeToken(arv.userToken()));
    ContainerLock stale = real.admin.containers().lock(uuid);
    assertThat(stale.isFenced()).isFalse();
    assertThat(stale.authUuid()).isNull();
    assertThat(real.read(uuid).authUuid()).isNull();

    real.direct.containers().unlock(uuid);
    ContainerLock current = real.admin.containers().lock(uuid);
    assertThatThrownBy(stale::markRunning).isInstanceOf(LostOwnershipException.class);
    assertThat(real.read(uuid).state()).isEqualTo(ContainerState.LOCKED);

    current.markRunning();
    current.complete(0, null);
    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(c.lockCount()).isEqualTo(2);
  }

  /**
   * The real server shows a container to a non-admin token only through a readable container
   * request, and this suite creates bare containers; so the runtime user here is the second admin,
   * whose container token may read the container (its rights to write come from being the
   * container's token all the same).
   */
  @Test
  void containersOwnToken_writesInItsEpochAndIsLostOnceRevoked() {
    String uuid =
        real.create(
            ContainerSpec.builder()
                .command("true")
                .containerImage(RealServer.IMAGE)
                .priority(1)
                .runtimeUserUuid(arv.admin2Uuid()));
    ContainerLock dispatcherLock = real.admin.containers().lock(uuid);
    ContainerToken token = real.admin.containers().auth(uuid);
    assertThat(token.uuid()).isEqualTo(dispatcherLock.authUuid());
    assertThat(token.toString()).doesNotContain(token.secret());
    assertThatThrownBy(() -> real.admin2.containers().auth(uuid))
        .isInstanceOf(ArvadosServiceException.class);

    ArvadosClient runnerClient = real.client(arv.baseUrl(), token.v2Token(), "real-suite-runner");
    ContainerLock runner = runnerClient.containers().resume(dispatcherLock.epoch());
    runner.verify();
    runner.markRunning();
    runner.reportProgress(0.25);
    assertThat(real.read(uuid).progress()).isEqualTo(0.25);

    dispatcherLock.cancel(); // leaving Running revokes the token
    assertThatThrownBy(() -> runner.reportProgress(0.5))
        .isInstanceOfSatisfying(
            LostOwnershipException.class,
            e -> {
              assertThat(e.getMessage()).doesNotContain(token.secret());
              assertThat(e).hasRootCauseInstanceOf(ArvadosServiceException.class);
              assertThat(((ArvadosServiceException) rootCause(e)).status()).isEqualTo(401);
            });
    assertThat(runner.isLost()).isTrue();
    assertThat(real.read(uuid).progress()).isEqualTo(0.25);
  }

  static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }
}

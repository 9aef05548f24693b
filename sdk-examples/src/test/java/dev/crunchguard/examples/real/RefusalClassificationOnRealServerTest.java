package dev.crunchguard.examples.real;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosServiceException;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerState;
import dev.crunchguard.ContainerUpdate;
import dev.crunchguard.LockConflictException;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.NotFoundException;
import dev.crunchguard.PermissionDeniedException;
import dev.crunchguard.UnauthorizedException;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.RealArvados;
import dev.crunchguard.testkit.RequiresRealArvados;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every refusal of the guide's evidence table ({@code src/docs/guide.md}, "Telling loss from a
 * caller's own mistake"), provoked on the real server, with the server's own text, and how the SDK
 * classifies it. The 401 of a revoked container token is in {@link GuardOnRealServerTest}.
 */
@RequiresRealArvados
class RefusalClassificationOnRealServerTest {
  private final RealArvados arv;
  private RealServer real;

  RefusalClassificationOnRealServerTest(RealArvados arv) {
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

  private static ArvadosServiceException apiCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ArvadosServiceException) {
        return (ArvadosServiceException) c;
      }
    }
    throw new AssertionError("no ArvadosServiceException in the causes of " + t);
  }

  @Test
  void authUuidReadonly422_isLostOwnership() {
    String uuid = real.create("true");
    ContainerLock stale = real.admin.containers().lock(uuid);
    real.direct.containers().unlock(uuid);
    ContainerLock current = real.admin.containers().lock(uuid);
    current.markRunning();

    assertThatThrownBy(() -> stale.complete(0, null))
        .isInstanceOfSatisfying(
            LostOwnershipException.class,
            e -> {
              ArvadosServiceException server = apiCause(e);
              assertThat(server.status()).isEqualTo(422);
              // The server names the state the write asked for, not the one the container is in.
              assertThat(server.errors())
                  .anySatisfy(
                      m ->
                          assertThat(m)
                              .startsWith(
                                  "Auth uuid cannot be modified in state 'Complete' (\""
                                      + current.authUuid()
                                      + "\", \""
                                      + stale.authUuid()
                                      + "\")"));
              assertThat(server.errors())
                  .anySatisfy(m -> assertThat(m).startsWith("Auth uuid is readonly"));
              assertThat(e.observed().map(Container::state).orElse(null))
                  .isEqualTo(ContainerState.RUNNING);
            });
    assertThat(real.read(uuid).exitCode()).isNull();
  }

  @Test
  void lockedByADifferentToken403AfterTheEpochEnded_isLostOwnership() {
    String uuid = real.create("true");
    ContainerLock stale = real.admin.containers().lock(uuid);
    real.direct.containers().unlock(uuid);
    ContainerLock others = real.admin2.containers().lock(uuid);

    assertThatThrownBy(stale::unlock)
        .isInstanceOfSatisfying(
            LostOwnershipException.class,
            e -> {
              ArvadosServiceException server = apiCause(e);
              assertThat(server.status()).isEqualTo(403);
              assertThat(server.errors())
                  .anySatisfy(
                      m ->
                          assertThat(m)
                              .startsWith(
                                  "#<ArvadosModel::PermissionDeniedError: locked by a different token>"));
              assertThat(e.observed().orElseThrow().authUuid())
                  .isNotEqualTo(e.heldEpoch().authUuid());
              assertThat(e.observed().map(Container::lockedByUuid).orElse(null))
                  .isEqualTo(others.epoch().lockedByUuid());
            });
    assertThat(real.read(uuid).authUuid()).isEqualTo(others.authUuid());
    others.unlock();
  }

  @Test
  void lockedByADifferentToken403WhileTheEpochIsCurrent_isNotLostOwnership() {
    String uuid = real.create("true");
    ContainerLock mine = real.admin.containers().lock(uuid);
    ContainerLock theirs = real.admin2.containers().resume(mine.epoch());

    assertThatThrownBy(theirs::unlock)
        .isInstanceOfSatisfying(
            ArvadosServiceException.class,
            e -> {
              assertThat(e.status()).isEqualTo(403);
              assertThat(e.errors())
                  .anySatisfy(
                      m ->
                          assertThat(m)
                              .startsWith(
                                  "#<ArvadosModel::PermissionDeniedError: locked by a different token>"));
            });
    assertThat(theirs.isLost()).isFalse();
    assertThat(real.read(uuid).state()).isEqualTo(ContainerState.LOCKED);
    assertThat(real.read(uuid).authUuid()).isEqualTo(mine.authUuid());
    mine.unlock();
  }

  @Test
  void a403WithoutAKnownReason_isResolvedByOneReadBackAsPermissionDenied() {
    String uuid = real.create("true");
    ContainerLock mine = real.admin.containers().lock(uuid);
    // The same admin user, with a token that may read containers but not write them.
    String readOnly =
        real.scopedAdminToken(
            java.util.List.of(
                "GET /arvados/v1/containers/",
                "GET /arvados/v1/api_client_authorizations/current"));
    ArvadosClient reader = real.client(arv.baseUrl(), readOnly, "real-suite-read-only");
    ContainerLock viaReader = reader.containers().resume(mine.epoch());

    assertThatThrownBy(viaReader::markRunning)
        .isInstanceOfSatisfying(
            PermissionDeniedException.class,
            e -> {
              assertThat(e.status()).isEqualTo(403);
              assertThat(e.errors())
                  .singleElement()
                  .satisfies(m -> assertThat(m).startsWith("Forbidden"));
            });
    assertThat(viaReader.isLost()).as("the read-back shows the epoch current").isFalse();
    assertThat(real.read(uuid).state()).isEqualTo(ContainerState.LOCKED);
    mine.unlock();
  }

  @Test
  void anotherFieldsRefusal422OnAFencedLock_isThePlainErrorAndTheLockStaysHeld() {
    String uuid = real.create("true");
    ContainerLock lock = real.admin.containers().lock(uuid);

    assertThatThrownBy(() -> lock.update(ContainerUpdate.builder().exitCode(3).build()))
        .isInstanceOfSatisfying(
            ArvadosServiceException.class,
            e -> {
              assertThat(e).isNotInstanceOf(LockConflictException.class);
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.errors())
                  .singleElement()
                  .satisfies(
                      m ->
                          assertThat(m)
                              .startsWith(
                                  "Exit code cannot be modified in state 'Locked' (nil, 3)"));
            });
    assertThat(lock.isLost()).isFalse();
    lock.markRunning();
    lock.complete(3, null);
    assertThat(real.read(uuid).exitCode()).isEqualTo(3L);
  }

  @Test
  void a422OnACurrentUnfencedLock_isResolvedByReadBackAsThePlainError() {
    String uuid =
        real.create(
            ContainerSpec.builder()
                .command("true")
                .containerImage(RealServer.IMAGE)
                .priority(1)
                .runtimeToken(arv.userToken()));
    ContainerLock lock = real.admin.containers().lock(uuid);
    assertThat(lock.isFenced()).isFalse();

    assertThatThrownBy(() -> lock.update(ContainerUpdate.builder().exitCode(3).build()))
        .isInstanceOfSatisfying(
            ArvadosServiceException.class,
            e -> {
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.errors())
                  .anySatisfy(
                      m ->
                          assertThat(m)
                              .startsWith("Exit code cannot be modified in state 'Locked'"));
            });
    assertThat(lock.isLost()).isFalse();
    lock.unlock();
    assertThat(real.read(uuid).state()).isEqualTo(ContainerState.QUEUED);
  }

  @Test
  void lockingALockedContainer_isALockConflict() {
    String uuid = real.create("true");
    ContainerLock mine = real.admin.containers().lock(uuid);
    assertThatThrownBy(() -> real.admin2.containers().lock(uuid))
        .isInstanceOfSatisfying(
            LockConflictException.class,
            e -> {
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.errors())
                  .anySatisfy(
                      m ->
                          assertThat(m)
                              .startsWith(
                                  "#<ArvadosModel::LockFailedError: cannot lock when Locked>"));
              assertThat(e.observedState()).as("a first refusal needs no read-back").isNull();
              assertThat(e.isPriorityZero()).isFalse();
            });
    assertThatThrownBy(() -> real.direct.containers().lock(uuid))
        .as("the same token: a second process sharing it must not get the epoch")
        .isInstanceOf(LockConflictException.class);
    mine.unlock();
  }

  @Test
  void lockingAContainerWithPriorityZero_isALockConflictSayingSo() {
    String uuid =
        real.create(
            ContainerSpec.builder().command("true").containerImage(RealServer.IMAGE).priority(0));
    assertThatThrownBy(() -> real.admin.containers().lock(uuid))
        .isInstanceOfSatisfying(
            LockConflictException.class,
            e -> {
              assertThat(e.isPriorityZero()).isTrue();
              assertThat(e.errors())
                  .anySatisfy(m -> assertThat(m).contains("cannot lock when priority<=0"));
              assertThat(real.read(uuid).state()).isEqualTo(ContainerState.QUEUED);
            });
  }

  @Test
  void plainUnlockOfAQueuedContainer_isTheServersStateError() {
    String uuid = real.create("true");
    assertThatThrownBy(() -> real.direct.containers().unlock(uuid))
        .isInstanceOfSatisfying(
            ArvadosServiceException.class,
            e -> {
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.errors())
                  .anySatisfy(
                      m ->
                          assertThat(m)
                              .startsWith(
                                  "#<ArvadosModel::InvalidStateTransitionError: cannot unlock when Queued>"));
            });
  }

  @Test
  void plainUnlockByTheSecondAdmin_isPermissionDenied() {
    String uuid = real.create("true");
    ContainerLock mine = real.admin.containers().lock(uuid);
    assertThatThrownBy(() -> real.admin2.containers().unlock(uuid))
        .isInstanceOf(PermissionDeniedException.class);
    mine.unlock();
  }

  @Test
  void anOrdinaryUserCannotSeeABareContainerAndABadTokenIsUnauthorized() {
    String uuid = real.create("true");
    ArvadosClient user = real.client(arv.baseUrl(), arv.userToken(), "real-suite-user");
    assertThatThrownBy(() -> user.containers().get(uuid))
        .isInstanceOfSatisfying(
            NotFoundException.class,
            e ->
                assertThat(e.errors()).anySatisfy(m -> assertThat(m).startsWith("Path not found")));
    assertThatThrownBy(() -> user.containers().lock(uuid))
        .isInstanceOf(ArvadosServiceException.class);
    ArvadosClient nobody =
        real.client(
            arv.baseUrl(),
            "v2/" + arv.clusterId() + "-gj3su-000000000000000/notavalidsecret0123456789",
            "real-suite-nobody");
    assertThatThrownBy(() -> nobody.containers().get(uuid))
        .isInstanceOfSatisfying(
            UnauthorizedException.class,
            e -> {
              assertThat(e.status()).isEqualTo(401);
              assertThat(e.errors()).anySatisfy(m -> assertThat(m).startsWith("Not logged in"));
              assertThat(e.getMessage()).doesNotContain("notavalidsecret");
            });
  }
}

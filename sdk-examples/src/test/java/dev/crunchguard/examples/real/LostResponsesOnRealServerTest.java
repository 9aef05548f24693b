package dev.crunchguard.examples.real;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerState;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultKind;
import dev.crunchguard.testkit.FaultRule;
import dev.crunchguard.testkit.ProxiedWrite;
import dev.crunchguard.testkit.RealArvados;
import dev.crunchguard.testkit.RequiresRealArvados;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Answers lost after the real server applied the request (dropped by the {@link
 * dev.crunchguard.testkit.FaultProxy}), resolved by the SDK through a read-back.
 */
@RequiresRealArvados
class LostResponsesOnRealServerTest {
  private final RealArvados arv;
  private RealServer real;

  LostResponsesOnRealServerTest(RealArvados arv) {
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

  /**
   * A client through the proxy that adopts a lock whose answer was lost (a token no other process
   * uses).
   */
  private dev.crunchguard.ArvadosClient adopting() {
    dev.crunchguard.ArvadosClient c =
        real.builder(real.proxy.baseUrl(), arv.adminToken(), "real-suite-adopting")
            .ambiguousLockPolicy(dev.crunchguard.AmbiguousLockPolicy.ADOPT)
            .build();
    real.closeLater(c);
    return c;
  }

  @Test
  void lostLockAnswerUnderTheDefaultPolicy_isALockConflictAndTheContainerStaysLockedByThisToken() {
    String uuid = real.create("true");
    real.proxy
        .faults()
        .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).container(uuid).build());

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> real.admin.containers().lock(uuid))
        .isInstanceOfSatisfying(
            dev.crunchguard.LockConflictException.class,
            e ->
                assertThat(e.observedState())
                    .as("decided by a read-back")
                    .isEqualTo(ContainerState.LOCKED));

    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.LOCKED);
    assertThat(c.lockedByUuid()).isEqualTo(real.direct.tokenUuid());
    assertThat(c.lockCount()).isEqualTo(1);
  }

  @Test
  void lostLockAnswer_isAdoptedAfterTheRetryIsRefused() {
    String uuid = real.create("true");
    real.proxy
        .faults()
        .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).container(uuid).build());

    ContainerLock lock = adopting().containers().lock(uuid);

    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.LOCKED);
    assertThat(lock.authUuid()).isEqualTo(c.authUuid());
    assertThat(c.lockCount()).as("locked once, not twice").isEqualTo(1);
    assertThat(real.proxy.writes(uuid))
        .filteredOn(w -> w.endpoint() == Endpoint.LOCK)
        .extracting(ProxiedWrite::status, ProxiedWrite::fault)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(200, FaultKind.LOST_RESPONSE),
            org.assertj.core.groups.Tuple.tuple(422, null));
    lock.markRunning();
    lock.complete(0, null);
    assertThat(real.read(uuid).state()).isEqualTo(ContainerState.COMPLETE);
  }

  @Test
  void lostLockAnswerOfAnUnfencedContainer_isAdoptedAndItsWritesStillCompareTheLock() {
    String uuid =
        real.create(
            dev.crunchguard.testkit.ContainerSpec.builder()
                .command("true")
                .containerImage(RealServer.IMAGE)
                .priority(1)
                .runtimeToken(arv.userToken()));
    real.proxy
        .faults()
        .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).container(uuid).build());

    ContainerLock lock = adopting().containers().lock(uuid);

    assertThat(lock.isFenced()).isFalse();
    assertThat(real.read(uuid).lockCount()).isEqualTo(1);
    lock.markRunning();
    lock.complete(0, null);
    assertThat(real.read(uuid).state()).isEqualTo(ContainerState.COMPLETE);
  }

  @Test
  void lostCompleteAnswer_returnsNormallyWhenTheReadBackShowsTheCompletion() {
    String uuid = real.create("true");
    ContainerLock lock = real.admin.containers().lock(uuid);
    lock.markRunning();
    real.proxy
        .faults()
        .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.UPDATE).container(uuid).build());

    lock.complete(7, null);

    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(c.exitCode()).isEqualTo(7L);
    assertThat(lock.isLost()).isFalse();
    assertThat(lock.isReleased()).isTrue();
    assertThat(real.proxy.writes(uuid))
        .filteredOn(w -> w.endpoint() == Endpoint.UPDATE)
        .extracting(ProxiedWrite::fault)
        .containsExactly(null, FaultKind.LOST_RESPONSE, null);
  }

  @Test
  void lostUnlockAnswer_returnsNormallyWhenTheEpochHasEnded() {
    String uuid = real.create("true");
    ContainerLock lock = real.admin.containers().lock(uuid);
    real.proxy
        .faults()
        .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.UPDATE).container(uuid).build());

    Container after = lock.unlock();

    assertThat(after.state()).isEqualTo(ContainerState.QUEUED);
    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.QUEUED);
    assertThat(c.authUuid()).isNull();
    assertThat(lock.isLost()).isFalse();
    assertThat(real.proxy.writes(uuid))
        .filteredOn(w -> w.endpoint() == Endpoint.UPDATE)
        .extracting(ProxiedWrite::fault)
        .containsExactly(FaultKind.LOST_RESPONSE, null);
  }

  @Test
  void everyAnswerOfACompleteLost_succeedsByOneReadBackShowingTheCompletion() {
    String uuid = real.create("true");
    ContainerLock lock = real.admin.containers().lock(uuid);
    lock.markRunning();
    real.proxy
        .faults()
        .add(
            FaultRule.of(FaultKind.LOST_RESPONSE)
                .on(Endpoint.UPDATE)
                .container(uuid)
                .always()
                .build());

    lock.complete(5, null);

    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(c.exitCode()).isEqualTo(5L);
    assertThat(lock.isLost()).isFalse();
    assertThat(real.proxy.writes(uuid))
        .filteredOn(w -> w.fault() == FaultKind.LOST_RESPONSE)
        .as("the first attempt applied, the retries refused upstream, every answer dropped")
        .extracting(ProxiedWrite::status)
        .startsWith(200)
        .hasSizeGreaterThan(1);
    assertThat(real.proxy.requestCount(Endpoint.GET, uuid)).as("one read-back").isEqualTo(1);
  }

  @Test
  void lostPlainUnlockAnswer_returnsTheQueuedContainer() {
    String uuid = real.create("true");
    ContainerLock lock = real.admin.containers().lock(uuid);
    real.proxy
        .faults()
        .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.UNLOCK).container(uuid).build());

    Container after = real.admin.containers().unlock(uuid);

    assertThat(after.state()).isEqualTo(ContainerState.QUEUED);
    assertThat(real.read(uuid).authUuid()).isNull();
    assertThat(real.proxy.requestCount(Endpoint.UNLOCK, uuid)).isEqualTo(2);
    org.assertj.core.api.Assertions.assertThatThrownBy(lock::markRunning)
        .isInstanceOf(dev.crunchguard.LostOwnershipException.class);
  }

  @Test
  void gatewayErrorsAndThrottling_areRetriedWithoutDoubleApplying() {
    String uuid = real.create("true");
    real.proxy
        .faults()
        .add(FaultRule.of(FaultKind.BAD_GATEWAY).on(Endpoint.LOCK).build())
        .add(
            FaultRule.of(FaultKind.TOO_MANY_REQUESTS)
                .on(Endpoint.UPDATE)
                .retryAfterSeconds(0)
                .build())
        .add(FaultRule.of(FaultKind.CONNECTION_RESET).on(Endpoint.UPDATE).build());

    ContainerLock lock = real.admin.containers().lock(uuid);
    lock.markRunning();
    lock.complete(0, null);

    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(c.lockCount()).isEqualTo(1);
    assertThat(real.proxy.requestCount(Endpoint.LOCK, uuid)).isEqualTo(2);
    assertThat(real.proxy.requestCount(Endpoint.UPDATE, uuid)).isEqualTo(4);
  }
}

package dev.crunchguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.crunchguard.AmbiguousLockPolicy;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosServiceException;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerState;
import dev.crunchguard.ContainerUpdate;
import dev.crunchguard.LockConflictException;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.PermissionDeniedException;
import dev.crunchguard.RetryPolicy;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSnapshot;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultKind;
import dev.crunchguard.testkit.FaultRule;
import dev.crunchguard.testkit.LeakCheckExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The guard end to end, against the simulator (an independent model of the Arvados server). */
@ExtendWith(LeakCheckExtension.class)
class GuardAgainstSimulatorTest {
  static final String DISPATCHER = "dispatchersecret0123456789";
  static final String OTHER_DISPATCHER_TOKEN = "otherdispatchersecret987654";

  ArvadosSimulator sim;
  ArvadosClient client;
  ArvadosClient other;

  @BeforeEach
  void start() {
    sim =
        ArvadosSimulator.builder()
            .adminToken(DISPATCHER)
            .adminToken(OTHER_DISPATCHER_TOKEN)
            .build()
            .start();
    client = clientFor(DISPATCHER, "dispatcher");
    other = clientFor(OTHER_DISPATCHER_TOKEN, "other");
  }

  ArvadosClient clientFor(String token, String id) {
    return ArvadosClient.builder()
        .baseUrl(sim.baseUrl())
        .token(token)
        .clientId(id)
        .retryPolicy(
            RetryPolicy.builder()
                .initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(20))
                .build())
        .build();
  }

  @AfterEach
  void stop() {
    client.close();
    other.close();
    sim.close();
  }

  @Test
  void happyPathLifecycle_isExactlyThreeRequests() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    sim.resetRequestCounts();

    ContainerLock lock = client.containers().lock(uuid);
    lock.markRunning();
    lock.complete(0, null);

    assertThat(sim.requestCounts(uuid).values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(3);
    assertThat(sim.requestCount(Endpoint.LOCK)).isEqualTo(1);
    assertThat(sim.requestCount(Endpoint.UPDATE)).isEqualTo(2);
    ContainerSnapshot c = sim.container(uuid);
    assertThat(c.state()).isEqualTo("Complete");
    assertThat(c.exitCode()).isZero();
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void staleRunnerAfterRelockBySameToken_isFencedOff() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock stale = client.containers().lock(uuid);
    client.containers().unlock(uuid); // a recovery tool requeues it
    ContainerLock fresh = client.containers().lock(uuid); // ...and the same token locks it again
    assertThat(fresh.epoch().lockedByUuid()).isEqualTo(stale.epoch().lockedByUuid());
    assertThat(fresh.authUuid()).isNotEqualTo(stale.authUuid());

    assertThatThrownBy(stale::markRunning)
        .isInstanceOf(LostOwnershipException.class)
        .satisfies(
            e -> {
              LostOwnershipException l = (LostOwnershipException) e;
              assertThat(l.containerUuid()).isEqualTo(uuid);
              assertThat(l.heldEpoch().authUuid()).isEqualTo(stale.authUuid());
              assertThat(l.observed().orElseThrow().authUuid())
                  .isNotEqualTo(l.heldEpoch().authUuid());
              assertThat(l.observed().map(Container::state).orElse(null))
                  .isEqualTo(ContainerState.LOCKED);
            });
    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    fresh.markRunning();
    fresh.complete(0, null);
    sim.checkSafety().assertSafe();
  }

  @Test
  void staleUnlock_cannotReleaseANewerEpoch() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock stale = client.containers().lock(uuid);
    client.containers().unlock(uuid);
    ContainerLock fresh = client.containers().lock(uuid);

    assertThatThrownBy(stale::unlock).isInstanceOf(LostOwnershipException.class);
    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    assertThat(sim.container(uuid).authUuid()).isEqualTo(fresh.authUuid());
  }

  @Test
  void afterLoss_callsFailFastWithoutRequests_andListenersRunOnce() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);
    AtomicInteger fired = new AtomicInteger();
    lock.onLost(e -> fired.incrementAndGet());
    client.containers().unlock(uuid);
    assertThatThrownBy(lock::verify).isInstanceOf(LostOwnershipException.class);
    sim.resetRequestCounts();

    assertThatThrownBy(lock::markRunning).isInstanceOf(LostOwnershipException.class);
    assertThatThrownBy(() -> lock.complete(0, null)).isInstanceOf(LostOwnershipException.class);
    assertThatThrownBy(lock::unlock).isInstanceOf(LostOwnershipException.class);
    assertThat(sim.requestCounts().values().stream().mapToLong(Long::longValue).sum()).isZero();
    assertThat(fired).hasValue(1);
    assertThat(lock.isLost()).isTrue();
  }

  @Test
  void callerFieldRefused_staysPlainApiException_andLockStaysHeld() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);

    // exit_code may not be written while Locked: the caller's mistake, not a loss
    assertThatThrownBy(() -> lock.update(ContainerUpdate.builder().exitCode(1).build()))
        .isExactlyInstanceOf(ArvadosServiceException.class)
        .satisfies(e -> assertThat(((ArvadosServiceException) e).status()).isEqualTo(422));
    assertThat(lock.isLost()).isFalse();
    lock.markRunning();
    lock.complete(1, null);
    assertThat(sim.container(uuid).exitCode()).isEqualTo(1L);
  }

  @Test
  void refusalWhoseEchoedValueMentionsAuthUuid_isNotMistakenForLoss() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);

    // output may not be written while Locked; the server echoes the value in its message
    assertThatThrownBy(
            () -> lock.update(ContainerUpdate.builder().output("Auth uuid is readonly").build()))
        .isExactlyInstanceOf(ArvadosServiceException.class)
        .hasMessageContaining("Auth uuid is readonly");
    assertThat(lock.isLost()).isFalse();
    lock.markRunning();
  }

  @Test
  void lockOfLockedContainer_isLockConflict() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    other.containers().lock(uuid);
    assertThatThrownBy(() -> client.containers().lock(uuid))
        .isInstanceOf(LockConflictException.class);
  }

  @Test
  void lockAtPriorityZero_isLockConflictWithPriorityReason() {
    String uuid = sim.createContainer(ContainerSpec.builder().priority(0).build());
    assertThatThrownBy(() -> client.containers().lock(uuid))
        .isInstanceOf(LockConflictException.class)
        .satisfies(e -> assertThat(((LockConflictException) e).isPriorityZero()).isTrue());
  }

  @Test
  void unlockByAnotherToken_isPermissionDenied() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    client.containers().lock(uuid);
    assertThatThrownBy(() -> other.containers().unlock(uuid))
        .isInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void completeWhoseResponseWasLost_returnsSuccessOnRetry() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);
    lock.markRunning();
    sim.faults()
        .add(
            FaultRule.of(FaultKind.LOST_RESPONSE)
                .on(Endpoint.UPDATE)
                .container(uuid)
                .times(1)
                .build());

    Container done = lock.complete(7, null);

    assertThat(done.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(done.exitCode()).isEqualTo(7L);
    assertThat(lock.isReleased()).isTrue();
    assertThat(sim.container(uuid).exitCode()).isEqualTo(7L);
  }

  @Test
  void unlockWhoseResponseWasLost_returnsSuccess() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);
    sim.faults()
        .add(
            FaultRule.of(FaultKind.LOST_RESPONSE)
                .on(Endpoint.UPDATE)
                .container(uuid)
                .times(1)
                .build());

    lock.unlock();

    assertThat(sim.container(uuid).state()).isEqualTo("Queued");
    assertThat(lock.isReleased()).isTrue();
  }

  @Test
  void lockWhoseResponseWasLost_isRefusedByDefault_andLeftLocked() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    Container seen = client.containers().get(uuid);
    sim.faults()
        .add(
            FaultRule.of(FaultKind.LOST_RESPONSE)
                .on(Endpoint.LOCK)
                .container(uuid)
                .times(1)
                .build());

    LockConflictException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            LockConflictException.class, () -> client.containers().lock(seen));

    assertThat(e.observedState()).isEqualTo(ContainerState.LOCKED);
    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    assertThat(sim.container(uuid).lockCount()).isEqualTo(1);
  }

  @Test
  void rivalsRefusedLockWhoseAnswerWasLost_withASharedToken_isNotTakenForItsOwn_byDefault() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock winner = client.containers().lock(uuid);
    ArvadosClient sibling =
        clientFor(DISPATCHER, "sibling-dispatcher"); // same token, another process
    // The sibling's attempt is refused (cannot lock when Locked) and that answer is lost; its retry
    // is refused again, and the read-back shows "Locked by my token": proof of nothing.
    sim.faults()
        .add(
            FaultRule.of(FaultKind.LOST_RESPONSE)
                .on(Endpoint.LOCK)
                .container(uuid)
                .times(1)
                .build());

    LockConflictException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            LockConflictException.class, () -> sibling.containers().lock(uuid));
    assertThat(e.observedState()).isEqualTo(ContainerState.LOCKED);

    // With ADOPT (opt-in), the sibling would now hold the winner's epoch too: the risk its Javadoc
    // states.
    sim.faults()
        .add(
            FaultRule.of(FaultKind.LOST_RESPONSE)
                .on(Endpoint.LOCK)
                .container(uuid)
                .times(1)
                .build());
    ArvadosClient adopting =
        sibling.newBuilder().ambiguousLockPolicy(AmbiguousLockPolicy.ADOPT).build();
    assertThat(adopting.containers().lock(uuid).authUuid()).isEqualTo(winner.authUuid());
    adopting.close();
    sibling.close();
  }

  @Test
  void lockWhoseResponseWasLost_isAdoptedByReadBack_whenTheClientOptsInToAdopt() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ArvadosClient adopting =
        client.newBuilder().ambiguousLockPolicy(AmbiguousLockPolicy.ADOPT).build();
    Container seen = adopting.containers().get(uuid);
    sim.faults()
        .add(
            FaultRule.of(FaultKind.LOST_RESPONSE)
                .on(Endpoint.LOCK)
                .container(uuid)
                .times(1)
                .build());

    ContainerLock lock = adopting.containers().lock(seen);

    assertThat(lock.authUuid()).isEqualTo(sim.container(uuid).authUuid());
    lock.markRunning();
    lock.complete(0, null);
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
    adopting.close();
  }

  @Test
  void retriedWrites_carryOneRequestIdAcrossAttempts() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);
    sim.faults()
        .add(
            FaultRule.of(FaultKind.SERVICE_UNAVAILABLE)
                .on(Endpoint.UPDATE)
                .container(uuid)
                .times(2)
                .build());
    sim.clearHistory();

    lock.markRunning();

    assertThat(sim.container(uuid).state()).isEqualTo("Running");
    assertThat(sim.requestCount(Endpoint.UPDATE, uuid)).isEqualTo(3);
  }

  @Test
  void unfencedContainer_writesAfterReadCompare_andDetectsRelock() {
    String uuid = sim.createContainer(ContainerSpec.builder().runtimeToken(runtimeToken()).build());
    ContainerLock lock = client.containers().lock(uuid);
    assertThat(lock.isFenced()).isFalse();
    assertThat(lock.authUuid()).isNull();
    assertThat(lock.epoch().lockCount()).isEqualTo(1L);

    client.containers().unlock(uuid);
    client.containers().lock(uuid); // lock_count 2: a new epoch, although auth_uuid stays null

    sim.resetRequestCounts();
    assertThatThrownBy(lock::markRunning).isInstanceOf(LostOwnershipException.class);
    assertThat(sim.requestCount(Endpoint.UPDATE)).isZero();
    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
  }

  @Test
  void unfencedLock_whoseLockCountReadFails_isStillReturned_andChecksByLocker() {
    String uuid = sim.createContainer(ContainerSpec.builder().runtimeToken(runtimeToken()).build());
    // every attempt of the read that follows the lock fails: the lock must not be left orphaned
    sim.faults()
        .add(
            FaultRule.of(FaultKind.SERVICE_UNAVAILABLE)
                .on(Endpoint.GET)
                .container(uuid)
                .times(6)
                .build());

    ContainerLock lock = client.containers().lock(uuid);

    assertThat(lock.isFenced()).isFalse();
    assertThat(lock.epoch().lockCount()).isNull();
    lock.markRunning();
    lock.complete(0, null);
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
  }

  @Test
  void unfencedContainer_happyPath() {
    String uuid = sim.createContainer(ContainerSpec.builder().runtimeToken(runtimeToken()).build());
    ContainerLock lock = client.containers().lock(uuid);
    lock.markRunning();
    lock.complete(0, null);
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
  }

  @Test
  void handoffToRunnerClient_writesInTheSameEpoch() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);
    try (ArvadosClient runner = clientFor(DISPATCHER, "runner")) {
      ContainerLock resumed = runner.containers().resume(lock.epoch());
      assertThat(resumed.verify().state()).isEqualTo(ContainerState.LOCKED);
      resumed.markRunning();
      resumed.complete(0, null);
    }
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
  }

  @Test
  void listPagesThroughEveryMatchingContainer() {
    for (int i = 0; i < 25; i++) {
      sim.createContainer(ContainerSpec.builder().priority(i % 5).build());
    }
    List<Container> positive =
        client
            .containers()
            .list(
                dev.crunchguard.ContainerQuery.builder()
                    .filter("state", "=", "Queued")
                    .filter("priority", ">", 0)
                    .order("priority desc")
                    .pageSize(4)
                    .build())
            .toList();
    assertThat(positive).hasSize(20);
    assertThat(positive)
        .extracting(Container::priority)
        .isSortedAccordingTo((a, b) -> Long.compare(b, a));
    assertThat(positive).extracting(Container::uuid).doesNotHaveDuplicates();
  }

  @Test
  void tokenUuid_matchesLockedByUuid() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);
    assertThat(client.tokenUuid())
        .isEqualTo(lock.epoch().lockedByUuid())
        .isEqualTo(sim.tokenUuid(DISPATCHER));
  }

  @Test
  void containerToken_fromAuth_canWriteWhileRunning_andIsLostOnRevocation() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = client.containers().lock(uuid);
    lock.markRunning();
    var token = client.containers().auth(uuid);
    assertThat(token.uuid()).isEqualTo(lock.authUuid());
    assertThat(token.toString()).doesNotContain(token.secret());
    try (ArvadosClient contained = clientFor(token.v2Token(), "contained")) {
      ContainerLock own = contained.containers().resume(lock.epoch());
      own.reportProgress(0.5);
      assertThat(contained.containers().current().uuid()).isEqualTo(uuid);
      lock.cancel(); // the dispatcher cancels: the container token is revoked
      assertThatThrownBy(() -> own.reportProgress(0.9)).isInstanceOf(LostOwnershipException.class);
    }
  }

  private String runtimeToken() {
    return "v2/"
        + sim.clusterId()
        + "-gj3su-runtimetoken001/"
        + "rtsecret0123456789abcdefghijklmnop";
  }
}

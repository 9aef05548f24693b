package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.SafetyViolation.Property.MULTIPLE_RUNNERS_PER_EPOCH;
import static dev.crunchguard.testkit.SafetyViolation.Property.RUNNING_MORE_THAN_ONCE_PER_EPOCH;
import static dev.crunchguard.testkit.SafetyViolation.Property.STALE_EPOCH_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The checker on hand-written histories: each property violated and held. */
class SafetyCheckerTest {
  private static final String CONTAINER = "zzzzz-dz642-aaaaaaaaaaaaaaa";
  private static final String FIRST_EPOCH = "zzzzz-gj3su-epoch0000000001";
  private static final String SECOND_EPOCH = "zzzzz-gj3su-epoch0000000002";

  private final List<HistoryEvent> h = new ArrayList<>();

  private void ev(
      WriteAction a,
      String client,
      String applied,
      ClaimSource src,
      String claimed,
      boolean ok,
      String reqState,
      String before,
      String after,
      String... fields) {
    h.add(
        new HistoryEvent(
            h.size() + 1,
            h.size(),
            CONTAINER,
            a,
            "req-" + h.size(),
            "zzzzz-gj3su-000000000000000",
            client,
            applied,
            applied,
            src,
            claimed,
            ok,
            ok ? 200 : 422,
            false,
            reqState,
            before,
            after,
            1,
            Set.of(fields),
            List.of()));
  }

  @Test
  void emptyAndOrderlyHistoriesAreSafe() {
    assertThat(SafetyChecker.check(List.of()).isSafe()).isTrue();
    ev(WriteAction.LOCK, "d", null, ClaimSource.NONE, null, true, "Locked", "Queued", "Locked");
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Running",
        "Locked",
        "Running",
        "state",
        "auth_uuid");
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        null,
        "Running",
        "Running",
        "progress",
        "auth_uuid");
    ev(
        WriteAction.UPDATE,
        "r2",
        FIRST_EPOCH,
        ClaimSource.BODY,
        SECOND_EPOCH,
        false,
        null,
        "Running",
        "Running",
        "progress",
        "auth_uuid");
    ev(
        WriteAction.UPDATE,
        "admin",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        null,
        "Running",
        "Running",
        "priority");
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Complete",
        "Running",
        "Complete",
        "state",
        "auth_uuid");
    SafetyReport r = SafetyChecker.check(h);
    assertThat(r.isSafe()).as(r.summary()).isTrue();
    assertThat(r.eventsChecked()).isEqualTo(6);
    r.assertSafe();
  }

  @Test
  void p1_acceptedWriteClaimingAnotherEpochIsAViolation() {
    ev(
        WriteAction.UPDATE,
        "r1",
        SECOND_EPOCH,
        ClaimSource.HEADER,
        FIRST_EPOCH,
        true,
        null,
        "Running",
        "Running",
        "progress");
    ev(
        WriteAction.UPDATE,
        "r1",
        SECOND_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        false,
        null,
        "Running",
        "Running",
        "progress",
        "auth_uuid");
    SafetyReport r = SafetyChecker.check(h);
    assertThat(r.violations())
        .extracting(SafetyViolation::property)
        .containsExactly(STALE_EPOCH_WRITE);
    assertThat(r.violations().get(0).eventSequences()).containsExactly(1L);
    assertThatThrownBy(r::assertSafe)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("STALE_EPOCH_WRITE")
        .hasMessageContaining(CONTAINER)
        .hasMessageContaining(FIRST_EPOCH);
  }

  @Test
  void p2_runnerWritesFromTwoClientsInOneEpochViolate_adminWritesDoNot() {
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        null,
        "Running",
        "Running",
        "log");
    ev(
        WriteAction.UPDATE,
        "admin",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        "Cancelled",
        "Running",
        "Cancelled",
        "state");
    ev(
        WriteAction.UPDATE,
        "admin2",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        null,
        "Running",
        "Running",
        "priority");
    assertThat(SafetyChecker.check(h).isSafe()).isTrue();
    ev(
        WriteAction.UPDATE,
        "r2",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        null,
        "Running",
        "Running",
        "exit_code");
    SafetyReport r = SafetyChecker.check(h);
    assertThat(r.violations(MULTIPLE_RUNNERS_PER_EPOCH)).hasSize(1);
    assertThat(r.violations(MULTIPLE_RUNNERS_PER_EPOCH).get(0).eventSequences())
        .containsExactly(1L, 4L);
  }

  @Test
  void p2_sameClientInDifferentEpochsIsFine() {
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        null,
        "Running",
        "Running",
        "output");
    ev(
        WriteAction.UPDATE,
        "r2",
        SECOND_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        null,
        "Running",
        "Running",
        "output");
    assertThat(SafetyChecker.check(h).isSafe()).isTrue();
  }

  @Test
  void p3_twoTransitionsToRunningInOneEpochViolate() {
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        "Running",
        "Locked",
        "Running",
        "state");
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        "Running",
        "Running",
        "Running",
        "state");
    assertThat(SafetyChecker.check(h).isSafe())
        .as("a repeated Running from the same client is a no-op")
        .isTrue();
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        "Running",
        "Locked",
        "Running",
        "state");
    SafetyReport r = SafetyChecker.check(h);
    assertThat(r.violations(RUNNING_MORE_THAN_ONCE_PER_EPOCH)).hasSize(1);
    assertThat(r.violations(MULTIPLE_RUNNERS_PER_EPOCH)).isEmpty();
  }

  @Test
  void p3_runningFromASecondClientViolates() {
    ev(
        WriteAction.UPDATE,
        "r1",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        "Running",
        "Locked",
        "Running",
        "state");
    ev(
        WriteAction.UPDATE,
        "r2",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        "Running",
        "Running",
        "Running",
        "state");
    SafetyReport r = SafetyChecker.check(h);
    assertThat(r.violations(RUNNING_MORE_THAN_ONCE_PER_EPOCH)).hasSize(1);
    assertThat(r.violations(MULTIPLE_RUNNERS_PER_EPOCH)).hasSize(1);
  }

  @Test
  void runtimeTokenContainersUseTheLockCountAsEpoch() {
    h.add(
        new HistoryEvent(
            1,
            1,
            CONTAINER,
            WriteAction.UPDATE,
            "a",
            null,
            "r1",
            null,
            null,
            ClaimSource.NONE,
            null,
            true,
            200,
            false,
            "Running",
            "Locked",
            "Running",
            1,
            Set.of("state"),
            List.of()));
    h.add(
        new HistoryEvent(
            2,
            2,
            CONTAINER,
            WriteAction.UPDATE,
            "b",
            null,
            "r2",
            null,
            null,
            ClaimSource.NONE,
            null,
            true,
            200,
            false,
            "Running",
            "Locked",
            "Running",
            2,
            Set.of("state"),
            List.of()));
    assertThat(SafetyChecker.check(h).isSafe()).isTrue();
    assertThat(h.get(0).epochKey()).isEqualTo("lock#1");
  }

  private void lockEvent(String client, String epochAfter) {
    h.add(
        new HistoryEvent(
            h.size() + 1,
            h.size(),
            CONTAINER,
            WriteAction.LOCK,
            "req-" + h.size(),
            "zzzzz-gj3su-000000000000000",
            client,
            null,
            epochAfter,
            ClaimSource.NONE,
            null,
            true,
            200,
            false,
            "Locked",
            "Queued",
            "Locked",
            0,
            Set.of(),
            List.of()));
  }

  @Test
  void p4_dispatcherCancellingAnEpochItNeitherLockedNorRanIn_violates() {
    lockEvent("dispatcherA", FIRST_EPOCH);
    ev(
        WriteAction.UPDATE,
        "dispatcherA/run-1",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Running",
        "Locked",
        "Running",
        "state");
    ev(
        WriteAction.LOCK,
        "dispatcherB",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        false,
        "Locked",
        "Running",
        "Running");
    ev(
        WriteAction.UPDATE,
        "dispatcherB",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Cancelled",
        "Running",
        "Cancelled",
        "state");

    SafetyReport r = SafetyChecker.check(h);

    assertThat(r.violations())
        .extracting(SafetyViolation::property)
        .containsExactly(SafetyViolation.Property.EPOCH_ENDED_BY_STRANGER);
    assertThat(r.violations().get(0).description()).contains("dispatcherB").contains("dispatcherA");
  }

  @Test
  void p4_theLockerOrItsRunnerEndingTheEpoch_andNonDispatchers_doNotViolate() {
    lockEvent("dispatcherA", FIRST_EPOCH);
    ev(
        WriteAction.UPDATE,
        "dispatcherA/run-1",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Running",
        "Locked",
        "Running",
        "state");
    ev(
        WriteAction.UPDATE,
        "dispatcherA",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Cancelled",
        "Running",
        "Cancelled",
        "state");
    lockEvent("dispatcherB", SECOND_EPOCH);
    ev(
        WriteAction.UPDATE,
        "operator",
        SECOND_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        "Cancelled",
        "Locked",
        "Cancelled",
        "state");
    lockEvent("dispatcherB", "zzzzz-gj3su-epoch0000000003");
    ev(
        WriteAction.UNLOCK,
        "dispatcherB",
        "zzzzz-gj3su-epoch0000000003",
        ClaimSource.NONE,
        null,
        true,
        "Queued",
        "Locked",
        "Queued");

    SafetyReport r = SafetyChecker.check(h);

    assertThat(r.isSafe()).as(r.summary()).isTrue();
  }

  @Test
  void p4_unlockOfASiblingsFreshLock_whoseRunnerWasAboutToStart_violates() {
    lockEvent("dispatcherA", FIRST_EPOCH);
    lockEvent("dispatcherB", SECOND_EPOCH); // B locks something else, so it is a dispatcher
    ev(
        WriteAction.UNLOCK,
        "dispatcherB",
        FIRST_EPOCH,
        ClaimSource.NONE,
        null,
        true,
        "Queued",
        "Locked",
        "Queued");
    ev(
        WriteAction.UPDATE,
        "dispatcherA/run-1",
        null,
        ClaimSource.BODY,
        FIRST_EPOCH,
        false,
        "Running",
        "Queued",
        "Queued",
        "state");

    assertThat(SafetyChecker.check(h).violations())
        .extracting(SafetyViolation::property)
        .containsExactly(SafetyViolation.Property.EPOCH_ENDED_BY_STRANGER);
  }

  @Test
  void p4_unlockOfAnOrphanedLockThatNobodyRan_byAnotherDispatcher_doesNotViolate() {
    lockEvent("dispatcherA", FIRST_EPOCH); // its answer was lost: nobody runs FIRST_EPOCH
    lockEvent("dispatcherB", SECOND_EPOCH);
    ev(
        WriteAction.UPDATE,
        "dispatcherB",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Queued",
        "Locked",
        "Queued",
        "state");

    SafetyReport r = SafetyChecker.check(h);
    assertThat(r.isSafe()).as(r.summary()).isTrue();
  }

  @Test
  void p2_aDispatchersCancelWithAReason_isNotASecondRunner() {
    ev(
        WriteAction.UPDATE,
        "dispatcherA/run-1",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Running",
        "Locked",
        "Running",
        "state");
    ev(
        WriteAction.UPDATE,
        "dispatcherA",
        FIRST_EPOCH,
        ClaimSource.BODY,
        FIRST_EPOCH,
        true,
        "Cancelled",
        "Running",
        "Cancelled",
        "state",
        "runtime_status");

    SafetyReport r = SafetyChecker.check(h);
    assertThat(r.isSafe()).as(r.summary()).isTrue();
  }
}

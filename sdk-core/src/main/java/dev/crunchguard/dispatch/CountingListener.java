package dev.crunchguard.dispatch;

import dev.crunchguard.ArvadosException;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.StopReason;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The dispatcher's counters, kept from its own events: the one source of {@link DispatcherStats}.
 */
final class CountingListener implements DispatchListener {
  private final LongAdder polls = new LongAdder();
  private final LongAdder pollFailures = new LongAdder();
  private final LongAdder lockAttempts = new LongAdder();
  private final LongAdder locksWon = new LongAdder();
  private final LongAdder lockConflicts = new LongAdder();
  private final LongAdder relocks = new LongAdder();
  private final LongAdder stops = new LongAdder();
  private final LongAdder lost = new LongAdder();
  private final LongAdder staleBlocked = new LongAdder();
  private final LongAdder runnersStarted = new LongAdder();
  private final LongAdder runnersFailed = new LongAdder();
  private final LongAdder unlocks = new LongAdder();
  private final LongAdder eventPolls = new LongAdder();
  private volatile EventStreamStatus eventStream = EventStreamStatus.OFF;

  DispatcherStats snapshot(int active) {
    return new DispatcherStats(
        polls.sum(),
        pollFailures.sum(),
        lockAttempts.sum(),
        locksWon.sum(),
        lockConflicts.sum(),
        relocks.sum(),
        stops.sum(),
        lost.sum(),
        staleBlocked.sum(),
        runnersStarted.sum(),
        runnersFailed.sum(),
        unlocks.sum(),
        active,
        eventStream,
        eventPolls.sum());
  }

  /** Before start: OFF, or CONNECTING when events are on. */
  void eventStreamStarting() {
    eventStream = EventStreamStatus.CONNECTING;
  }

  @Override
  public void eventStreamChanged(EventStreamStatus status, String reason) {
    eventStream = status;
  }

  @Override
  public void eventPollTriggered() {
    eventPolls.increment();
  }

  @Override
  public void pollCompleted() {
    polls.increment();
  }

  @Override
  public void pollFailed(Exception failure) {
    pollFailures.increment();
  }

  @Override
  public void lockAttempted(String containerUuid) {
    lockAttempts.increment();
  }

  @Override
  public void lockWon(ContainerLock lock) {
    locksWon.increment();
  }

  @Override
  public void lockConflict(String containerUuid) {
    lockConflicts.increment();
  }

  @Override
  public void lockFailed(String containerUuid, ArvadosException failure) {
    // counted as an attempt only
  }

  @Override
  public void lostOwnership(String containerUuid, LostOwnershipException cause) {
    lost.increment();
  }

  @Override
  public void staleWriteBlocked(String containerUuid, LostOwnershipException cause) {
    staleBlocked.increment();
  }

  @Override
  public void stopRequested(String containerUuid, StopReason reason) {
    stops.increment();
    if (reason == StopReason.RELOCKED) {
      relocks.increment();
    }
  }

  @Override
  public void runnerStarted(String containerUuid) {
    runnersStarted.increment();
  }

  @Override
  public void runnerFinished(String containerUuid, @Nullable Throwable failure) {
    if (failure != null && !(failure instanceof LostOwnershipException)) {
      runnersFailed.increment();
    }
  }

  @Override
  public void unlocked(String containerUuid, String why) {
    unlocks.increment();
  }
}

package dev.crunchguard.dispatch;

import dev.crunchguard.ArvadosException;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.StopReason;
import org.jspecify.annotations.Nullable;

/**
 * Receives a {@link Dispatcher}'s events, for metrics or logs; every method has an empty default.
 * Called on the dispatcher's threads: keep it quick and do not throw (exceptions are logged and
 * ignored).
 */
public interface DispatchListener {
  /** A poll of the queue completed (whether or not it found work). */
  default void pollCompleted() {}

  /**
   * @param containerUuid a container this dispatcher is about to try to lock
   */
  default void lockAttempted(String containerUuid) {}

  /**
   * A lock attempt failed for another reason than a conflict (a transport failure, a server error):
   * the lock may have been applied, and the orphan sweep takes care of it if so.
   *
   * @param containerUuid the container
   * @param failure what went wrong
   */
  default void lockFailed(String containerUuid, ArvadosException failure) {}

  /**
   * How long a container this dispatcher just locked had waited in the queue: from the last change
   * of the record as listed (its {@code modified_at}: when it was created or became Queued again),
   * else its {@code created_at}, to the lock's answer. Not called when the listing had neither.
   *
   * @param containerUuid the container
   * @param waited the wait, never negative
   */
  default void queueToLock(String containerUuid, java.time.Duration waited) {}

  /**
   * @param lock a lock this dispatcher just won
   */
  default void lockWon(ContainerLock lock) {}

  /**
   * @param containerUuid a container another dispatcher locked first (a normal outcome)
   */
  default void lockConflict(String containerUuid) {}

  /**
   * @param containerUuid the container
   * @param cause what showed the loss
   */
  default void lostOwnership(String containerUuid, LostOwnershipException cause) {}

  /**
   * A write through a lock of this dispatcher was refused by the server because its epoch had
   * ended: the guard at work.
   *
   * @param containerUuid the container
   * @param cause the refusal
   */
  default void staleWriteBlocked(String containerUuid, LostOwnershipException cause) {}

  /**
   * @param containerUuid the container
   * @param reason why the runner was told to stop
   */
  default void stopRequested(String containerUuid, StopReason reason) {}

  /**
   * @param containerUuid a container whose runner has just been started
   */
  default void runnerStarted(String containerUuid) {}

  /**
   * @param containerUuid the container
   * @param failure what the runner threw, or null if it returned normally
   */
  default void runnerFinished(String containerUuid, @Nullable Throwable failure) {}

  /**
   * @param containerUuid a container this dispatcher returned to the queue
   * @param why a short reason
   */
  default void unlocked(String containerUuid, String why) {}

  /**
   * @param failure a poll of the queue that failed; the next poll retries
   */
  default void pollFailed(Exception failure) {}

  /**
   * The event stream changed state ({@link Dispatcher.Builder#events(boolean)}): reported once per
   * change, not per reconnection attempt.
   *
   * @param status the new state, {@link EventStreamStatus#UP} or {@link EventStreamStatus#DOWN}
   * @param reason why, free of secrets
   */
  default void eventStreamChanged(EventStreamStatus status, String reason) {}

  /** Events asked for a poll, which runs shortly (a burst of events makes one poll). */
  default void eventPollTriggered() {}
}

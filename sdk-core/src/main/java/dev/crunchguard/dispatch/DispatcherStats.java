package dev.crunchguard.dispatch;

/**
 * A snapshot of a {@link Dispatcher}'s counters.
 *
 * @param polls completed polls of the queue
 * @param pollFailures polls that failed
 * @param lockAttempts lock requests made
 * @param locksWon locks obtained
 * @param lockConflicts locks refused because another dispatcher was first (or priority 0)
 * @param relocksDetected tracked containers seen unlocked and locked again (a new epoch)
 * @param stopsRequested stop signals sent to runners
 * @param lostOwnership locks found lost
 * @param staleWritesBlocked writes the server refused because their epoch had ended
 * @param runnersStarted runner callbacks started
 * @param runnersFailed runner callbacks that threw
 * @param unlocks containers this dispatcher returned to the queue
 * @param active containers tracked now
 * @param eventStream the event stream's state ({@link EventStreamStatus#OFF} without events)
 * @param eventPolls polls triggered by events (each may stand for a burst of them), included in
 *     {@code polls}
 */
public record DispatcherStats(
    long polls,
    long pollFailures,
    long lockAttempts,
    long locksWon,
    long lockConflicts,
    long relocksDetected,
    long stopsRequested,
    long lostOwnership,
    long staleWritesBlocked,
    long runnersStarted,
    long runnersFailed,
    long unlocks,
    int active,
    EventStreamStatus eventStream,
    long eventPolls) {}

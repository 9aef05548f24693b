package dev.crunchguard.dispatch;

import dev.crunchguard.ArvadosException;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.StopReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Dispatcher}'s events as Micrometer meters. Needs {@code io.micrometer:micrometer-core}
 * on the classpath (an optional dependency of Crunch Guard: add it to use this class). Register it
 * as the dispatcher's listener; every meter carries the tags given here (for example which
 * dispatcher).
 *
 * <pre>{@code
 * MeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * Dispatcher d = Dispatcher.builder(client, runner)
 *     .listener(new DispatcherMetrics(registry, "dispatcher", "local-1"))
 *     .build();
 * }</pre>
 *
 * <p>Meters (Prometheus names in brackets): counters {@code crunchguard.dispatcher.polls} ({@code
 * _total}), {@code .poll.failures}, {@code .lock.attempts}, {@code .locks.won}, {@code
 * .lock.conflicts}, {@code .lock.failures}, {@code .ownership.lost}, {@code .stale.writes.blocked},
 * {@code .runs.started}, {@code .runs.failed}, {@code .unlocks}, {@code .stops} (tag {@code
 * reason}); timer {@code crunchguard.dispatcher.queue.to.lock}; gauge {@code
 * crunchguard.dispatcher.runs.active}; with events, counter {@code .event.polls} and gauge {@code
 * .events.connected} (1 or 0). Thread-safe.
 */
public final class DispatcherMetrics implements DispatchListener {
  private static final String P = "crunchguard.dispatcher.";

  private final Counter polls;
  private final Counter pollFailures;
  private final Counter lockAttempts;
  private final Counter locksWon;
  private final Counter lockConflicts;
  private final Counter lockFailures;
  private final Counter lost;
  private final Counter staleBlocked;
  private final Counter runsStarted;
  private final Counter runsFailed;
  private final Counter unlocks;
  private final Map<StopReason, Counter> stops = new EnumMap<>(StopReason.class);
  private final Timer queueToLock;
  private final AtomicInteger active = new AtomicInteger();
  private final Counter eventPolls;
  private final AtomicInteger eventsUp = new AtomicInteger();

  /**
   * Registers the meters.
   *
   * @param registry where to register
   * @param tags key/value pairs added to every meter (an even number of strings)
   */
  public DispatcherMetrics(MeterRegistry registry, String... tags) {
    Objects.requireNonNull(registry, "registry");
    if (tags.length % 2 != 0) {
      throw new IllegalArgumentException(
          "tags must be key/value pairs, got " + tags.length + " strings");
    }
    polls = counter(registry, "polls", "Polls of the queue that completed", tags);
    pollFailures = counter(registry, "poll.failures", "Polls of the queue that failed", tags);
    lockAttempts = counter(registry, "lock.attempts", "Lock requests made", tags);
    locksWon = counter(registry, "locks.won", "Locks obtained", tags);
    lockConflicts =
        counter(
            registry,
            "lock.conflicts",
            "Locks refused: another dispatcher was first, or priority 0",
            tags);
    lockFailures =
        counter(
            registry,
            "lock.failures",
            "Lock attempts that failed otherwise (transport, server error)",
            tags);
    lost =
        counter(
            registry,
            "ownership.lost",
            "Locks found lost: the epoch ended without this dispatcher",
            tags);
    staleBlocked =
        counter(
            registry,
            "stale.writes.blocked",
            "Writes the server refused because their epoch had ended",
            tags);
    runsStarted = counter(registry, "runs.started", "Runner callbacks started", tags);
    runsFailed = counter(registry, "runs.failed", "Runner callbacks that threw", tags);
    unlocks =
        counter(registry, "unlocks", "Containers this dispatcher returned to the queue", tags);
    for (StopReason r : StopReason.values()) {
      stops.put(
          r,
          Counter.builder(P + "stops")
              .description("Stop signals sent to runners")
              .tags(tags)
              .tag("reason", r.name().toLowerCase(java.util.Locale.ROOT))
              .register(registry));
    }
    queueToLock =
        Timer.builder(P + "queue.to.lock")
            .description(
                "From a container's last change while Queued to this dispatcher's lock of it")
            .tags(tags)
            .publishPercentiles(0.5, 0.9, 0.99)
            .register(registry);
    Gauge.builder(P + "runs.active", active, AtomicInteger::get)
        .description("Runner callbacks running now")
        .tags(tags)
        .register(registry);
    eventPolls = counter(registry, "event.polls", "Polls triggered by events", tags);
    Gauge.builder(P + "events.connected", eventsUp, AtomicInteger::get)
        .description("1 while the event stream is connected, 0 otherwise (or without events)")
        .tags(tags)
        .register(registry);
  }

  @Override
  public void eventStreamChanged(EventStreamStatus status, String reason) {
    eventsUp.set(status == EventStreamStatus.UP ? 1 : 0);
  }

  @Override
  public void eventPollTriggered() {
    eventPolls.increment();
  }

  private static Counter counter(
      MeterRegistry registry, String name, String description, String[] tags) {
    return Counter.builder(P + name).description(description).tags(tags).register(registry);
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
  public void queueToLock(String containerUuid, Duration waited) {
    queueToLock.record(waited);
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
    lockFailures.increment();
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
    Objects.requireNonNull(stops.get(reason)).increment();
  }

  @Override
  public void runnerStarted(String containerUuid) {
    runsStarted.increment();
    active.incrementAndGet();
  }

  @Override
  public void runnerFinished(String containerUuid, @Nullable Throwable failure) {
    active.decrementAndGet();
    if (failure != null && !(failure instanceof LostOwnershipException)) {
      runsFailed.increment();
    }
  }

  @Override
  public void unlocked(String containerUuid, String why) {
    unlocks.increment();
  }
}

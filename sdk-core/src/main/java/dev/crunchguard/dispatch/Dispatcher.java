package dev.crunchguard.dispatch;

import dev.crunchguard.ArvadosApiException;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosException;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerQuery;
import dev.crunchguard.ContainerState;
import dev.crunchguard.Containers;
import dev.crunchguard.LockConflictException;
import dev.crunchguard.LockHandoff;
import dev.crunchguard.LostOwnershipException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dispatcher loop: polls the queue, locks containers, runs them through a {@link ContainerRunner}
 * on a bounded pool, and tracks every lock it holds. Thread-safe.
 *
 * <h2>Each poll</h2>
 * <ol>
 *   <li>Lists the containers locked by this dispatcher's token ({@code locked_by_uuid} = its token
 *       uuid) and re-reads tracked containers that are not in that list (20 per request). A tracked
 *       container whose epoch ended gets its runner's {@link CancellationSignal} fired: cancelled,
 *       priority 0, unlocked, finished, or <em>locked again</em>, which a changed {@code auth_uuid}
 *       shows even when the new locker uses the same token (the case Arvados' Go dispatch library
 *       misses).
 *   <li>If it has free capacity, lists Queued containers with priority above 0, highest priority
 *       first, paging, and tries to lock each one not throttled: at most one attempt per container
 *       per {@code lockRetryInterval}. A {@link LockConflictException} is counted, not logged as an
 *       error.
 * </ol>
 *
 * <h2>After a run</h2>
 * If the runner returns or throws while the container is still Locked in its epoch, the dispatcher
 * unlocks it (guarded) and backs off that container exponentially, so a container that keeps
 * failing is not put through a fast lock/unlock loop; the server's {@code MaxDispatchAttempts}
 * eventually cancels it. If it is still Running in its epoch, the dispatcher cancels it only when
 * the run is known to have started it ({@link RunContext#isStarted()}); otherwise it leaves it
 * alone and logs a warning: a run this dispatcher did not start is never cancelled by it.
 *
 * <h2>Shared tokens, lost lock answers and orphans</h2>
 * Several dispatcher processes commonly share one token, so "locked by my token" does not prove a
 * lock is this process's. A lock attempt whose answer was lost and that the read-back cannot
 * attribute is therefore never run (see {@link dev.crunchguard.AmbiguousLockPolicy#REFUSE}). So
 * that such a lock is not left Locked forever, the dispatcher remembers every container it
 * <em>may</em> have locked without knowing it: a lock attempt refused as already Locked after a
 * lost answer, a lock attempt that failed in transport, and, on its first poll, every container
 * Locked by its token that it does not track (a previous run of this process may have locked it).
 * When such a container is still Locked by this token in the <em>same epoch</em> (same
 * {@code auth_uuid}) {@code orphanGrace} after the dispatcher first saw it, it is unlocked through
 * the guarded update of that epoch, which fails harmlessly if the epoch moved on; if the epoch
 * moves on or the container leaves Locked first, it is forgotten. So a container this dispatcher
 * may have locked stays Locked at most {@code orphanGrace} plus one poll interval (while the unlock
 * requests succeed), and each such unlock uses up one of the container's
 * {@code MaxDispatchAttempts}. If the lock was in fact a sibling's, it is only unlocked when the
 * sibling's runner has not moved it to Running within {@code orphanGrace}: that runner then
 * refuses to start or is fenced, and never two runners share an epoch. Other containers Locked or
 * Running under this token are left to their owners.
 *
 * <h2>Start-up and shutdown</h2>
 * On its first poll, containers locked by its token that it does not track are handled by the
 * {@link RecoveryPolicy} (default {@link RecoveryPolicy#UNLOCK}: the orphan sweep above, from the
 * first poll on). {@link #close()} stops locking, signals every runner, waits up to the shutdown
 * timeout, and unlocks what never started.
 *
 * <pre>{@code
 * try (ArvadosClient client = ArvadosClient.fromEnvironment();
 *      Dispatcher dispatcher = Dispatcher.builder(client, ctx -> {
 *            ctx.lock().markRunning();
 *            int exit = runSomewhere(ctx.container(), ctx.cancellation());
 *            ctx.lock().complete(exit, null);
 *          })
 *          .maxConcurrentRuns(4)
 *          .pollInterval(Duration.ofSeconds(5))
 *          .build()) {
 *   dispatcher.start();
 *   dispatcher.awaitIdle(Duration.ofHours(1));
 * }
 * }</pre>
 */
public final class Dispatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  private static final int UUID_BATCH = 20;
  private static final String[] POLL_FIELDS = {
    "uuid", "state", "priority", "auth_uuid", "locked_by_uuid", "lock_count", "command", "container_image",
    "runtime_constraints", "scheduling_parameters", "created_at"
  };

  private final ArvadosClient client;
  private final Containers containers;
  private final ContainerRunner runner;
  private final Duration pollInterval;
  private final Duration lockRetryInterval;
  private final Duration maxFailureBackoff;
  private final int maxConcurrentRuns;
  private final int pageSize;
  private final RecoveryPolicy recoveryPolicy;
  private final Duration shutdownTimeout;
  private final Duration orphanGrace;
  private final DispatchListener listener;

  private final ScheduledExecutorService poller;
  private final ThreadPoolExecutor runners;
  private final ReentrantLock pollLock = new ReentrantLock();
  private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
  private final Map<String, Long> notBefore = new ConcurrentHashMap<>();
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();
  private final Map<String, ContainerLock> pendingUnlock = new ConcurrentHashMap<>();
  /** Containers this dispatcher may have locked without knowing it (poll thread only). */
  private final Set<String> maybeMine = new HashSet<>();
  /** The epoch in which each of {@link #maybeMine} was first seen Locked, and when (poll thread only). */
  private final Map<String, Sighting> untrackedLocks = new HashMap<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private volatile boolean recovered;
  private volatile boolean idle;
  private final Object idleMonitor = new Object();

  private final AtomicLong polls = new AtomicLong();
  private final AtomicLong pollFailures = new AtomicLong();
  private final AtomicLong lockAttempts = new AtomicLong();
  private final AtomicLong locksWon = new AtomicLong();
  private final AtomicLong lockConflicts = new AtomicLong();
  private final AtomicLong relocks = new AtomicLong();
  private final AtomicLong stops = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final AtomicLong staleBlocked = new AtomicLong();
  private final AtomicLong runnersStarted = new AtomicLong();
  private final AtomicLong runnersFailed = new AtomicLong();
  private final AtomicLong unlocks = new AtomicLong();

  /** An untracked Locked container's epoch as first seen. */
  private record Sighting(@Nullable String authUuid, @Nullable Long lockCount, long firstSeenNanos) {
    boolean sameEpoch(Container c) {
      return Objects.equals(authUuid, c.authUuid()) && Objects.equals(lockCount, c.lockCount());
    }
  }

  /** One container this dispatcher holds (or, after adoption of a Running one, only watches). */
  private static final class Tracked {
    final String uuid;
    final ContainerLock lock;
    final CancellationSignal signal = new CancellationSignal();
    final boolean watchOnly;

    Tracked(ContainerLock lock, boolean watchOnly) {
      this.uuid = lock.containerUuid();
      this.lock = lock;
      this.watchOnly = watchOnly;
    }
  }

  private Dispatcher(Builder b) {
    this.client = b.client;
    this.containers = b.client.containers();
    this.runner = b.runner;
    this.pollInterval = b.pollInterval;
    this.lockRetryInterval = b.lockRetryInterval;
    this.maxFailureBackoff = b.maxFailureBackoff;
    this.maxConcurrentRuns = b.maxConcurrentRuns;
    this.pageSize = b.pageSize;
    this.recoveryPolicy = b.recoveryPolicy;
    this.shutdownTimeout = b.shutdownTimeout;
    this.orphanGrace = b.orphanGrace;
    this.listener = new SafeListener(b.listener);
    this.poller = new ScheduledThreadPoolExecutor(1, threads("crunchguard-dispatch-poll"));
    this.runners = new ThreadPoolExecutor(maxConcurrentRuns, maxConcurrentRuns, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), threads("crunchguard-runner"));
    this.runners.allowCoreThreadTimeOut(true);
  }

  /**
   * A builder for a dispatcher that uses {@code client}'s token and runs each won lock through
   * {@code runner}.
   *
   * @param client the client (its token's uuid is what {@code locked_by_uuid} will show)
   * @param runner what to do with each locked container
   * @return a new builder
   */
  public static Builder builder(ArvadosClient client, ContainerRunner runner) {
    return new Builder(client, runner);
  }

  /**
   * Starts polling every {@code pollInterval}, the first poll at once.
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    if (stopping.get()) {
      throw new IllegalStateException("dispatcher is closed");
    }
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("dispatcher already started");
    }
    poller.scheduleWithFixedDelay(this::pollQuietly, 0, pollInterval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Runs one poll on the calling thread (polls never overlap). For tests and custom loops; a
   * started dispatcher polls by itself.
   */
  public void pollOnce() {
    pollLock.lock();
    try {
      if (!stopping.get()) {
        poll();
      }
    } finally {
      pollLock.unlock();
    }
  }

  private void pollQuietly() {
    try {
      pollOnce();
    } catch (RuntimeException e) {
      log.warn("poll failed unexpectedly: {}", e.toString());
    }
  }

  private void poll() {
    boolean sawLockable = false;
    try {
      String me = client.tokenUuid();
      retryPendingUnlocks();
      List<Container> mine = list(ContainerQuery.builder().filter("locked_by_uuid", "=", me).pageSize(pageSize));
      Map<String, Container> mineByUuid = new HashMap<>();
      for (Container c : mine) {
        mineByUuid.put(c.uuid(), c);
      }
      if (!recovered) {
        for (Container c : mine) {
          if (c.state() == ContainerState.LOCKED && !tracked.containsKey(c.uuid())) {
            maybeMine.add(c.uuid()); // perhaps locked by an earlier run of this process
          }
        }
        recover(mine);
        recovered = true;
      }
      sweepOrphans(mine);
      checkTracked(mineByUuid);
      sawLockable = lockQueued();
      polls.incrementAndGet();
    } catch (ArvadosException e) {
      pollFailures.incrementAndGet();
      listener.pollFailed(e);
      log.warn("poll of the queue failed: {}", e.getMessage());
      sawLockable = true;
    }
    boolean nowIdle = !sawLockable && tracked.isEmpty() && pendingUnlock.isEmpty();
    synchronized (idleMonitor) {
      idle = nowIdle;
      idleMonitor.notifyAll();
    }
  }

  private List<Container> list(ContainerQuery.Builder q) {
    try (Stream<Container> s = containers.list(q.select(POLL_FIELDS).build())) {
      return s.toList();
    }
  }

  private void recover(List<Container> mine) {
    if (recoveryPolicy != RecoveryPolicy.ADOPT) {
      return; // UNLOCK: the orphan sweep handles them; IGNORE: nothing
    }
    for (Container c : mine) {
      if (tracked.containsKey(c.uuid())) {
        continue;
      }
      if (c.state() != ContainerState.LOCKED && c.state() != ContainerState.RUNNING) {
        continue;
      }
      ContainerLock lock;
      try {
        lock = containers.resume(LockHandoff.of(c.uuid(), c.authUuid(), c.lockedByUuid(), c.lockCount()));
      } catch (IllegalArgumentException e) {
        log.warn("cannot recover {}: {}", c.uuid(), e.getMessage());
        continue;
      }
      log.info("adopting {} ({}) left locked by this token", c.uuid(), c.state().wireName());
      if (c.state() == ContainerState.LOCKED) {
        startRun(lock, c);
      } else {
        tracked.put(c.uuid(), new Tracked(lock, true));
      }
    }
  }

  /**
   * Unlocks the containers this dispatcher may have locked without knowing it once they have
   * stayed Locked by its token in one epoch for {@code orphanGrace}. The guarded unlock of that
   * epoch cannot touch a newer one.
   */
  private void sweepOrphans(List<Container> mine) {
    if (recoveryPolicy == RecoveryPolicy.IGNORE || maybeMine.isEmpty()) {
      maybeMine.clear();
      untrackedLocks.clear();
      return;
    }
    long now = System.nanoTime();
    Set<String> stillLocked = new HashSet<>();
    for (Container c : mine) {
      if (!maybeMine.contains(c.uuid()) || c.state() != ContainerState.LOCKED || tracked.containsKey(c.uuid())
          || pendingUnlock.containsKey(c.uuid())) {
        continue;
      }
      Sighting s = untrackedLocks.get(c.uuid());
      if (s == null) {
        untrackedLocks.put(c.uuid(), new Sighting(c.authUuid(), c.lockCount(), now));
        stillLocked.add(c.uuid());
        continue;
      }
      if (!s.sameEpoch(c)) {
        continue; // locked again since: not the lock this dispatcher may have made
      }
      stillLocked.add(c.uuid());
      if (now - s.firstSeenNanos() < orphanGrace.toNanos() || stopping.get()) {
        continue;
      }
      stillLocked.remove(c.uuid());
      ContainerLock lock;
      try {
        lock = containers.resume(LockHandoff.of(c.uuid(), c.authUuid(), c.lockedByUuid(), c.lockCount()));
      } catch (IllegalArgumentException e) {
        log.warn("cannot unlock orphaned {}: {}", c.uuid(), e.getMessage());
        continue;
      }
      log.info("unlocking {}: this dispatcher may have locked it, and it stayed Locked in one epoch for over {}", c.uuid(),
          orphanGrace);
      unlockQuietly(lock, "orphaned: Locked by this token and not started within the orphan grace period");
    }
    maybeMine.retainAll(stillLocked);
    untrackedLocks.keySet().retainAll(stillLocked);
  }

  private void checkTracked(Map<String, Container> mineByUuid) {
    List<String> missing = new ArrayList<>();
    for (Tracked t : tracked.values()) {
      Container c = mineByUuid.get(t.uuid);
      if (c == null) {
        missing.add(t.uuid);
      } else {
        judge(t, c);
      }
    }
    for (int i = 0; i < missing.size(); i += UUID_BATCH) {
      List<String> batch = missing.subList(i, Math.min(missing.size(), i + UUID_BATCH));
      Set<String> seen = new HashSet<>();
      for (Container c : list(ContainerQuery.builder().filter("uuid", "in", batch).pageSize(UUID_BATCH))) {
        seen.add(c.uuid());
        Tracked t = tracked.get(c.uuid());
        if (t != null) {
          judge(t, c);
        }
      }
      for (String uuid : batch) {
        Tracked t = tracked.get(uuid);
        if (!seen.contains(uuid) && t != null) {
          stop(t, StopReason.LOST);
        }
      }
    }
  }

  /** Fires the runner's stop signal when the record shows its epoch ended or nobody wants it. */
  private void judge(Tracked t, Container c) {
    StopReason reason = null;
    ContainerState s = c.state();
    if (s == ContainerState.CANCELLED) {
      reason = StopReason.CANCELLED;
    } else if (s == ContainerState.COMPLETE) {
      reason = StopReason.FINISHED;
    } else if (s == ContainerState.QUEUED) {
      reason = StopReason.UNLOCKED;
    } else if (s == ContainerState.LOCKED || s == ContainerState.RUNNING) {
      if (newEpoch(t.lock, c)) {
        reason = StopReason.RELOCKED;
      } else if (c.priority() != null && c.priority() == 0) {
        reason = StopReason.PRIORITY_ZERO;
      }
    }
    if (reason == null) {
      return;
    }
    if (t.watchOnly) {
      if (reason != StopReason.PRIORITY_ZERO) {
        tracked.remove(t.uuid, t);
      }
      return;
    }
    if (reason == StopReason.RELOCKED && !t.signal.isCancelled()) {
      relocks.incrementAndGet();
    }
    stop(t, reason);
  }

  private static boolean newEpoch(ContainerLock lock, Container c) {
    if (lock.isFenced()) {
      return !Objects.equals(lock.authUuid(), c.authUuid());
    }
    LockHandoff h = lock.handoff();
    return c.authUuid() != null
        || !Objects.equals(h.lockedByUuid(), c.lockedByUuid())
        || (h.lockCount() != null && c.lockCount() != null && !h.lockCount().equals(c.lockCount()));
  }

  private void stop(Tracked t, StopReason reason) {
    if (t.signal.cancel(reason)) {
      stops.incrementAndGet();
      log.info("telling the runner of {} to stop: {}", t.uuid, reason);
      listener.stopRequested(t.uuid, reason);
    }
  }

  /** Locks queued containers while there is capacity. Returns whether any lockable one was seen. */
  private boolean lockQueued() {
    if (tracked.size() >= maxConcurrentRuns || stopping.get()) {
      return true;
    }
    ContainerQuery q = ContainerQuery.builder()
        .filter("state", "=", "Queued")
        .filter("priority", ">", 0)
        .order("priority desc")
        .pageSize(pageSize)
        .select(POLL_FIELDS)
        .build();
    boolean sawLockable = false;
    long now = System.nanoTime();
    try (Stream<Container> s = containers.list(q)) {
      Iterator<Container> it = s.iterator();
      while (it.hasNext() && tracked.size() < maxConcurrentRuns && !stopping.get()) {
        Container c = it.next();
        if (tracked.containsKey(c.uuid())) {
          continue;
        }
        sawLockable = true;
        Long nb = notBefore.get(c.uuid());
        if (nb != null && nb - now > 0) {
          continue;
        }
        tryLock(c);
      }
      if (it.hasNext()) {
        sawLockable = true;
      }
    }
    notBefore.entrySet().removeIf(e -> e.getValue() - now < -maxFailureBackoff.toNanos() * 4);
    return sawLockable;
  }

  private void tryLock(Container c) {
    lockAttempts.incrementAndGet();
    ContainerLock lock;
    try {
      lock = containers.lock(c);
    } catch (LockConflictException e) {
      // If a lost answer left the container Locked by this token, the lock may be ours or a
      // sibling's: it is not run, and the orphan sweep unlocks it if nobody starts it.
      lockConflicts.incrementAndGet();
      notBefore.put(c.uuid(), System.nanoTime() + lockRetryInterval.toNanos());
      if (e.observedState() == ContainerState.LOCKED) {
        maybeMine.add(c.uuid());
      }
      log.debug("lock conflict on {}: {}", c.uuid(), e.getMessage());
      listener.lockConflict(c.uuid());
      return;
    } catch (ArvadosException e) {
      // The lock may have been applied; the orphan sweep takes care of it if so.
      notBefore.put(c.uuid(), System.nanoTime() + lockRetryInterval.toNanos());
      maybeMine.add(c.uuid());
      log.warn("could not lock {}: {}", c.uuid(), e.getMessage());
      return;
    }
    locksWon.incrementAndGet();
    listener.lockWon(lock);
    startRun(lock, c);
  }

  private void startRun(ContainerLock lock, Container seen) {
    Tracked t = new Tracked(lock, false);
    tracked.put(t.uuid, t);
    lock.onLost(e -> {
      lost.incrementAndGet();
      listener.lostOwnership(t.uuid, e);
      if (e.getCause() instanceof ArvadosApiException) {
        staleBlocked.incrementAndGet();
        listener.staleWriteBlocked(t.uuid, e);
      }
      stop(t, StopReason.LOST);
    });
    try {
      runners.execute(() -> run(t, seen));
    } catch (RuntimeException rejected) {
      tracked.remove(t.uuid, t);
      unlockQuietly(lock, "dispatcher is shutting down");
    }
  }

  private void run(Tracked t, Container seen) {
    runnersStarted.incrementAndGet();
    listener.runnerStarted(t.uuid);
    Throwable failure = null;
    RunContext ctx = new RunContext(t.lock, seen, t.signal);
    try {
      runner.run(ctx);
    } catch (Throwable e) {
      failure = e;
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (!(e instanceof LostOwnershipException)) {
        runnersFailed.incrementAndGet();
        log.warn("runner for {} failed: {}", t.uuid, e.toString());
      }
    } finally {
      try {
        afterRun(t, ctx, failure);
      } finally {
        tracked.remove(t.uuid, t);
        listener.runnerFinished(t.uuid, failure);
      }
    }
  }

  /** Cleans up a container whose runner is done: unlock if never started, cancel if abandoned Running. */
  private void afterRun(Tracked t, RunContext ctx, @Nullable Throwable failure) {
    ContainerLock lock = t.lock;
    if (lock.isLost()) {
      return;
    }
    if (lock.isReleased()) {
      Container last = lock.lastSeen();
      if (last != null && last.state() == ContainerState.QUEUED) {
        backOff(t.uuid);
      } else {
        failures.remove(t.uuid);
        notBefore.remove(t.uuid);
      }
      return;
    }
    // A plain read, not lock.verify(): when the runner finished the container through its own
    // handed-off lock, this lock was never used, and its epoch ending is not a loss.
    Container now;
    try {
      now = containers.get(t.uuid);
    } catch (dev.crunchguard.NotFoundException e) {
      return;
    } catch (ArvadosException e) {
      log.warn("cannot check {} after its runner ended ({}); will retry the unlock", t.uuid, e.getMessage());
      pendingUnlock.put(t.uuid, lock);
      return;
    }
    if (newEpoch(lock, now)) {
      return;
    }
    if (now.state() == ContainerState.LOCKED) {
      StopReason r = t.signal.reason();
      boolean wasFailure = r == null || r == StopReason.SHUTDOWN || failure != null;
      unlockQuietly(lock, failure != null ? "runner failed before Running" : "runner ended before Running");
      if (wasFailure && r != StopReason.PRIORITY_ZERO) {
        backOff(t.uuid);
      }
    } else if (now.state() == ContainerState.RUNNING && !ctx.isStarted()) {
      // Running in this epoch, but nothing shows that this run started it (the runner refused to
      // start, say): never cancel a run this dispatcher cannot prove is its own.
      log.warn("{} is Running in this dispatcher's epoch but its runner ended without reporting a start; leaving it alone",
          t.uuid);
    } else if (now.state() == ContainerState.RUNNING) {
      try {
        lock.cancel("runner exited without finishing the container");
      } catch (LostOwnershipException e) {
        // someone else owns it now; nothing to clean up
      } catch (ArvadosException e) {
        log.warn("could not cancel abandoned {}: {}", t.uuid, e.getMessage());
      }
    }
  }

  private void backOff(String uuid) {
    int n = failures.merge(uuid, 1, Integer::sum);
    long base = lockRetryInterval.toNanos();
    long delay = base;
    for (int i = 1; i < n && delay < maxFailureBackoff.toNanos(); i++) {
      delay *= 2;
    }
    delay = Math.min(delay, maxFailureBackoff.toNanos());
    notBefore.put(uuid, System.nanoTime() + delay);
  }

  private void unlockQuietly(ContainerLock lock, String why) {
    try {
      Container after = lock.unlock();
      pendingUnlock.remove(lock.containerUuid());
      unlocks.incrementAndGet();
      log.info("unlocked {} ({}){}", lock.containerUuid(), why,
          after.state() == ContainerState.CANCELLED ? "; the server cancelled it after too many dispatch attempts" : "");
      listener.unlocked(lock.containerUuid(), why);
    } catch (LostOwnershipException e) {
      pendingUnlock.remove(lock.containerUuid());
    } catch (ArvadosException e) {
      log.warn("could not unlock {}: {}; will retry", lock.containerUuid(), e.getMessage());
      pendingUnlock.put(lock.containerUuid(), lock);
    } catch (IllegalStateException alreadyReleased) {
      pendingUnlock.remove(lock.containerUuid());
    }
  }

  private void retryPendingUnlocks() {
    for (ContainerLock lock : List.copyOf(pendingUnlock.values())) {
      if (tracked.containsKey(lock.containerUuid())) {
        continue;
      }
      try {
        Container now = lock.verify();
        if (now.state() == ContainerState.LOCKED) {
          unlockQuietly(lock, "retrying an earlier failed unlock");
        } else {
          pendingUnlock.remove(lock.containerUuid());
        }
      } catch (LostOwnershipException | IllegalStateException e) {
        pendingUnlock.remove(lock.containerUuid());
      }
    }
  }

  /**
   * Whether the last poll found nothing to lock, nothing is tracked, and no unlock is pending.
   *
   * @return true when idle
   */
  public boolean isIdle() {
    return idle;
  }

  /**
   * Waits until a poll finds the dispatcher idle (see {@link #isIdle()}).
   *
   * @param timeout how long to wait at most
   * @return true if idle, false on timeout
   * @throws InterruptedException if interrupted
   */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (idleMonitor) {
      while (!idle) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(idleMonitor, left);
      }
      return true;
    }
  }

  /** @return a snapshot of the counters */
  public DispatcherStats stats() {
    return new DispatcherStats(polls.get(), pollFailures.get(), lockAttempts.get(), locksWon.get(),
        lockConflicts.get(), relocks.get(), stops.get(), lost.get(), staleBlocked.get(),
        runnersStarted.get(), runnersFailed.get(), unlocks.get(), tracked.size());
  }

  /**
   * Graceful shutdown: stops polling and locking, signals every runner ({@link StopReason#SHUTDOWN}),
   * waits up to the shutdown timeout for them, interrupts the rest, and unlocks containers that
   * never reached Running. Does not close the {@link ArvadosClient}. Idempotent.
   */
  @Override
  public void close() {
    if (!stopping.compareAndSet(false, true)) {
      return;
    }
    poller.shutdown();
    pollLock.lock();
    pollLock.unlock();
    for (Tracked t : tracked.values()) {
      if (!t.watchOnly) {
        stop(t, StopReason.SHUTDOWN);
      }
    }
    runners.shutdown();
    try {
      if (!runners.awaitTermination(shutdownTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
        log.warn("runners did not stop within {}; interrupting them", shutdownTimeout);
        runners.shutdownNow();
        runners.awaitTermination(5, TimeUnit.SECONDS);
      }
      poller.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      runners.shutdownNow();
    }
    for (Tracked t : tracked.values()) {
      if (!t.watchOnly && !t.lock.isLost() && !t.lock.isReleased()) {
        pendingUnlock.put(t.uuid, t.lock);
      }
    }
    tracked.clear();
    retryPendingUnlocks();
  }

  @Override
  public String toString() {
    return "Dispatcher{client=" + client + ", maxConcurrentRuns=" + maxConcurrentRuns + ", stats=" + stats() + '}';
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Shields the dispatcher from listener exceptions. */
  private static final class SafeListener implements DispatchListener {
    private final DispatchListener d;

    SafeListener(DispatchListener d) {
      this.d = d;
    }

    private static void guard(Runnable r) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.warn("dispatch listener threw {}", e.toString());
      }
    }

    @Override
    public void lockWon(ContainerLock lock) {
      guard(() -> d.lockWon(lock));
    }

    @Override
    public void lockConflict(String uuid) {
      guard(() -> d.lockConflict(uuid));
    }

    @Override
    public void lostOwnership(String uuid, LostOwnershipException cause) {
      guard(() -> d.lostOwnership(uuid, cause));
    }

    @Override
    public void staleWriteBlocked(String uuid, LostOwnershipException cause) {
      guard(() -> d.staleWriteBlocked(uuid, cause));
    }

    @Override
    public void stopRequested(String uuid, StopReason reason) {
      guard(() -> d.stopRequested(uuid, reason));
    }

    @Override
    public void runnerStarted(String uuid) {
      guard(() -> d.runnerStarted(uuid));
    }

    @Override
    public void runnerFinished(String uuid, @Nullable Throwable failure) {
      guard(() -> d.runnerFinished(uuid, failure));
    }

    @Override
    public void unlocked(String uuid, String why) {
      guard(() -> d.unlocked(uuid, why));
    }

    @Override
    public void pollFailed(Exception failure) {
      guard(() -> d.pollFailed(failure));
    }
  }

  /** Builds a {@link Dispatcher}; setters validate at once. Not thread-safe. */
  public static final class Builder {
    private final ArvadosClient client;
    private final ContainerRunner runner;
    private Duration pollInterval = Duration.ofSeconds(10);
    private Duration lockRetryInterval = Duration.ofSeconds(10);
    private Duration maxFailureBackoff = Duration.ofMinutes(10);
    private int maxConcurrentRuns = 8;
    private int pageSize = 100;
    private RecoveryPolicy recoveryPolicy = RecoveryPolicy.UNLOCK;
    private Duration shutdownTimeout = Duration.ofSeconds(30);
    private Duration orphanGrace = Duration.ofMinutes(5);
    private DispatchListener listener = new DispatchListener() {};

    private Builder(ArvadosClient client, ContainerRunner runner) {
      this.client = Objects.requireNonNull(client, "client");
      this.runner = Objects.requireNonNull(runner, "runner");
    }

    /** @param interval time between two polls (default 10 s); positive @return this builder */
    public Builder pollInterval(Duration interval) {
      this.pollInterval = positive(interval, "pollInterval");
      return this;
    }

    /**
     * @param interval least time between two lock attempts on one container, and the first
     *     back-off after a failed run (default 10 s); positive
     * @return this builder
     */
    public Builder lockRetryInterval(Duration interval) {
      this.lockRetryInterval = positive(interval, "lockRetryInterval");
      return this;
    }

    /** @param max the longest back-off of a container whose runs keep failing (default 10 min) @return this builder */
    public Builder maxFailureBackoff(Duration max) {
      this.maxFailureBackoff = positive(max, "maxFailureBackoff");
      return this;
    }

    /** @param n the most containers run at once (default 8), 1 to 10000 @return this builder */
    public Builder maxConcurrentRuns(int n) {
      if (n < 1 || n > 10_000) {
        throw new IllegalArgumentException("maxConcurrentRuns must be between 1 and 10000, got " + n);
      }
      this.maxConcurrentRuns = n;
      return this;
    }

    /** @param n items per list request (default 100), 1 to 1000 @return this builder */
    public Builder pageSize(int n) {
      if (n < 1 || n > 1000) {
        throw new IllegalArgumentException("pageSize must be between 1 and 1000, got " + n);
      }
      this.pageSize = n;
      return this;
    }

    /** @param policy start-up handling of untracked containers locked by this token @return this builder */
    public Builder recoveryPolicy(RecoveryPolicy policy) {
      this.recoveryPolicy = Objects.requireNonNull(policy, "recoveryPolicy");
      return this;
    }

    /** @param timeout how long {@link Dispatcher#close()} waits for runners (default 30 s) @return this builder */
    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout = positive(timeout, "shutdownTimeout");
      return this;
    }

    /**
     * How long a container Locked by this token, and not tracked by this dispatcher, may stay
     * Locked in one epoch before this dispatcher unlocks it (guarded) as an orphan: a lock whose
     * answer was lost, or one left by a crashed process that shares the token. Longer than any
     * runner needs to move a container from Locked to Running, because a sibling's lock that is
     * still Locked after it is unlocked too (its runner is then fenced, never doubled). Default
     * 5 minutes.
     *
     * @param grace a positive duration
     * @return this builder
     */
    public Builder orphanGrace(Duration grace) {
      this.orphanGrace = positive(grace, "orphanGrace");
      return this;
    }

    /** @param listener receives events @return this builder */
    public Builder listener(DispatchListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** @return a dispatcher, not yet started */
    public Dispatcher build() {
      return new Dispatcher(this);
    }

    private static Duration positive(Duration d, String name) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be a positive duration, got " + d);
      }
      return d;
    }
  }
}

package dev.crunchguard.dispatch;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosException;
import dev.crunchguard.ArvadosServiceException;
import dev.crunchguard.CancellationSignal;
import dev.crunchguard.CancellationSource;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerQuery;
import dev.crunchguard.ContainerState;
import dev.crunchguard.Containers;
import dev.crunchguard.LockConflictException;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.StopReason;
import dev.crunchguard.events.ArvadosEvent;
import dev.crunchguard.events.EventFilter;
import dev.crunchguard.events.EventStream;
import dev.crunchguard.events.EventStreamListener;
import dev.crunchguard.events.GapReason;
import dev.crunchguard.internal.Checks;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dispatcher loop: polls the queue, locks containers, runs them through a {@link ContainerRunner}
 * on a bounded pool, and tracks every lock it holds. Thread-safe.
 *
 * <h2>Each poll</h2>
 *
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
 *
 * If the runner returns or throws while the container is still Locked in its epoch, the dispatcher
 * unlocks it (guarded) and backs off that container exponentially, so a container that keeps
 * failing is not put through a fast lock/unlock loop; the server's {@code MaxDispatchAttempts}
 * eventually cancels it. If it is still Running in its epoch, the dispatcher cancels it only when
 * the run is known to have started it ({@link RunContext#isStarted()}); otherwise it leaves it
 * alone and logs a warning: a run this dispatcher did not start is never cancelled by it.
 *
 * <h2>Shared tokens, lost lock answers and orphans</h2>
 *
 * Several dispatcher processes commonly share one token, so "locked by my token" does not prove a
 * lock is this process's. A lock attempt whose answer was lost and that the read-back cannot
 * attribute is therefore never run (see {@link dev.crunchguard.AmbiguousLockPolicy#REFUSE}). So
 * that such a lock is not left Locked forever, the dispatcher remembers every container it
 * <em>may</em> have locked without knowing it: a lock attempt refused as already Locked after a
 * lost answer, a lock attempt that failed in transport, and, on its first poll, every container
 * Locked by its token that it does not track (a previous run of this process may have locked it).
 * When such a container is still Locked by this token in the <em>same epoch</em> (same {@code
 * auth_uuid}) {@code orphanGrace} after the dispatcher first saw it, it is unlocked through the
 * guarded update of that epoch, which fails harmlessly if the epoch moved on; if the epoch moves on
 * or the container leaves Locked first, it is forgotten. So a container this dispatcher may have
 * locked stays Locked at most {@code orphanGrace} plus one poll interval (while the unlock requests
 * succeed), and each such unlock uses up one of the container's {@code MaxDispatchAttempts}. If the
 * lock was in fact a sibling's, it is only unlocked when the sibling's runner has not moved it to
 * Running within {@code orphanGrace}: that runner then refuses to start or is fenced, and never two
 * runners share an epoch. Other containers Locked or Running under this token are left to their
 * owners.
 *
 * <h2>Events</h2>
 *
 * Unless built with {@link Builder#events(boolean) events(false)}, a started dispatcher also
 * subscribes to the Arvados event stream ({@link EventStream}; the URL from the discovery document
 * or {@link Builder#eventsWebsocketUrl(String)}). An event that may make a container lockable (a
 * container created or back in Queued) or end a tracked epoch (a tracked container Queued,
 * Cancelled or Complete) triggers a poll {@link Builder#eventPollDelay(Duration) a few
 * milliseconds} later; every event until that poll starts is served by it, so a burst of events is
 * one poll. That poll does only what the events ask for:
 *
 * <ul>
 *   <li>the containers the events name as Queued are locked directly, one lock request each and no
 *       list, when they all fit the free capacity and no listed work is waiting; otherwise the
 *       queue is listed and locked in priority order, so a strictly higher priority still goes
 *       first whenever capacity is short. A container locked this way reaches its runner with the
 *       lock answer's fields only, and {@link RunContext#container()} reads its full record on
 *       first use;
 *   <li>a tracked container whose epoch may have ended is read again, unless this dispatcher ended
 *       the epoch itself (its own Complete, Cancelled or unlock caused the event).
 * </ul>
 *
 * Events are hints: the lock endpoint decides, and a tracked runner is stopped only on what a read
 * shows, as without events. The periodic poll stays, because some changes produce no event
 * (priority changes made by container requests, a reused container) and events can be lost; a whole
 * poll also follows every reconnection of the stream. When the stream is down, or the cluster has
 * none, the dispatcher works exactly as without events, logs that once per outage, and shows it in
 * {@link DispatcherStats#eventStream()}.
 *
 * <h2>Start-up and shutdown</h2>
 *
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
  /*
   * Design: one Entry per container the dispatcher knows anything about, in `entries`.
   *
   *                 lock won                 runner done, container Locked, unlock failed
   *   (none) ──▶ IDLE ───────▶ RUNNING ─────────────────────────────────────────▶ UNLOCK_PENDING
   *     ▲  lock    │  ▲           │ runner done (released, lost, unlocked, cancelled,   │ unlock done,
   *     │ refused/ │  │           │ left alone)                                        │ or epoch over
   *     │ failed   ▼  └───────────┘◀───────────────────────────────────────────────────┘
   *     │     MAYBE_MINE ── still Locked in its first-seen epoch after orphanGrace: guarded unlock ──▶ IDLE
   *     │        (ambiguous or failed lock attempt; at start-up every untracked Locked container)
   *     └─ IDLE entries are dropped once their lock throttle and back-off are long over
   *   ADOPT at start-up: Locked ──▶ RUNNING, Running ──▶ WATCHING ── epoch ends ──▶ (dropped)
   *
   * IDLE holds only the lock throttle (notBefore) and the back-off of a container whose runs keep
   * failing (failures). RUNNING and WATCHING count against maxConcurrentRuns (`held`).
   *
   * Threads. The poll thread (or a caller of pollOnce(); polls never overlap, pollLock) creates
   * entries and makes every transition except a won lock's and the end of a run. The queue step
   * hands its lock attempts to a pool of MAX_LOCKS_IN_FLIGHT lock threads and waits for them
   * (slots monitor, attemptsInFlight) before it lists again or returns; each attempt runs in a run
   * slot reserved in `held` beforehand, and a won attempt makes its entry RUNNING (IDLE or
   * MAYBE_MINE before, as no other attempt on it can be in flight) and hands the run to the runner
   * pool. A runner thread makes exactly one transition: the end of its own run (RUNNING to IDLE or
   * UNLOCK_PENDING), after its clean-up I/O.
   * Every read and write of an entry's fields is under the entry's monitor, and no monitor is held
   * during I/O: a transition that needs a request reads what it needs, releases the monitor, makes
   * the request, and then commits under the monitor again. Counters live in one CountingListener
   * that receives the same events as the user's listener; stats() reads them.
   *
   * Events (optional). The EventStream's delivery thread only reads an entry (under its monitor,
   * no I/O), notes what the event asks for (`named`: untracked containers shown Queued, bounded by
   * maxConcurrentRuns + 1; `toCheck`: tracked ones whose epoch may have ended; `listRequested`) and
   * asks for a poll: one flag (pollRequested) set by the first event and cleared when the triggered
   * poll starts, so the poller queue never holds more than one triggered poll. The triggered poll
   * drains the notes; a whole poll clears them first, because it reads and lists everything.
   * Triggered and periodic polls run on the one poll thread and never overlap.
   */
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  private static final int UUID_BATCH = 20;
  private static final int MAX_RELISTS = 16;

  /**
   * The most lock requests one dispatcher has in flight: enough to keep the runner pool fed, few
   * enough not to open a connection per run slot or crowd the server's request queue (Arvados
   * answers lock requests last, and with 503 when its queue is full).
   */
  private static final int MAX_LOCKS_IN_FLIGHT = 4;

  /** The most pages of the queue's head racing dispatchers spread over. */
  private static final int MAX_SPREAD = 16;

  /** A listing among rivals asks for this many containers per free run slot. */
  private static final int RELIST_PER_FREE_SLOT = 4;

  /** The fewest containers a listing among rivals asks for. */
  private static final int MIN_RELIST = 16;

  /**
   * How long the queue step waits for a run slot when every slot is taken: long enough for short
   * runs to free one (no new list), short enough not to hold up the poll thread's other work.
   */
  private static final long SLOT_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private static final String[] POLL_FIELDS = {
    "uuid",
    "state",
    "priority",
    "auth_uuid",
    "locked_by_uuid",
    "lock_count",
    "command",
    "container_image",
    "runtime_constraints",
    "scheduling_parameters",
    "created_at",
    "modified_at"
  };

  private enum Phase {
    IDLE,
    MAYBE_MINE,
    RUNNING,
    WATCHING,
    UNLOCK_PENDING
  }

  /** An untracked Locked container's epoch as first seen, and when. */
  private record Sighting(
      @Nullable String authUuid, @Nullable Long lockCount, long firstSeenNanos) {
    boolean sameEpoch(Container c) {
      return Objects.equals(authUuid, c.authUuid()) && Objects.equals(lockCount, c.lockCount());
    }
  }

  /**
   * Everything this dispatcher knows about one container. Fields guarded by the entry's monitor.
   */
  private static final class Entry {
    final String uuid;
    Phase phase = Phase.IDLE;

    /** RUNNING, WATCHING and UNLOCK_PENDING: this dispatcher's hold on the epoch. */
    @Nullable ContainerLock lock;

    /** RUNNING: the runner's stop request. */
    @Nullable CancellationSource stop;

    /** MAYBE_MINE: the epoch first seen. */
    @Nullable Sighting sighting;

    /** No lock attempt before this {@link System#nanoTime()}; 0 for none. */
    long notBefore;

    /** Consecutive failed runs, for the back-off. */
    int failures;

    Entry(String uuid) {
      this.uuid = uuid;
    }
  }

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
  private final CountingListener counts = new CountingListener();
  private final DispatchListener events;

  private final ScheduledExecutorService poller;
  private final ThreadPoolExecutor runners;
  private final ThreadPoolExecutor lockers;
  private final ReentrantLock pollLock = new ReentrantLock();
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  /** Entries in RUNNING or WATCHING, and run slots reserved for lock attempts in flight. */
  private final AtomicInteger held = new AtomicInteger();

  /** Monitor for attemptsInFlight; notified when an attempt ends or a run frees its slot. */
  private final Object slots = new Object();

  // Guarded by slots.
  private int attemptsInFlight;

  /** Lock conflicts met by attempts of the queue step; a change during a walk makes it stale. */
  private final AtomicInteger pageConflicts = new AtomicInteger();

  /** Over how many pages of the queue's head listings spread; only the poll thread uses it. */
  private int spread = 1;

  private final AtomicBoolean started = new AtomicBoolean();
  private final boolean useEvents;
  private final @Nullable String eventsUrl;
  private final long eventPollDelayNanos;
  private final AtomicBoolean pollRequested = new AtomicBoolean();
  private final AtomicBoolean fullPollRequested = new AtomicBoolean();

  /** A triggered poll must list the queue (capacity freed while work waits, an unclear event). */
  private final AtomicBoolean listRequested = new AtomicBoolean();

  /**
   * Untracked containers that events name as Queued, with the event's time: the triggered poll
   * locks them directly when they all fit the free capacity. Bounded by maxConcurrentRuns + 1 (one
   * more means "more than fit", which lists the queue instead).
   */
  private final Map<String, Instant> named = new ConcurrentHashMap<>();

  /** Tracked containers whose epoch an event says may have ended: the triggered poll reads them. */
  private final Set<String> toCheck = ConcurrentHashMap.newKeySet();

  private final Object streamLock = new Object();
  // Guarded by streamLock.
  private @Nullable EventStream stream;
  private EventStreamStatus streamStatus = EventStreamStatus.OFF;

  /** streamStatus is UP; read without the lock. */
  private volatile boolean streamUp;

  private final AtomicBoolean stopping = new AtomicBoolean();
  private volatile boolean recovered;
  private volatile boolean idle;

  /** The last poll saw lockable work it did not take (capacity full, throttled, failed). */
  private volatile boolean workWaiting;

  private final Object idleMonitor = new Object();

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
    this.events = new Events(counts, b.listener);
    this.useEvents = b.events;
    this.eventsUrl = b.eventsUrl;
    this.eventPollDelayNanos = b.eventPollDelay.toNanos();
    this.poller = new ScheduledThreadPoolExecutor(1, threads("crunchguard-dispatch-poll"));
    this.runners =
        new ThreadPoolExecutor(
            maxConcurrentRuns,
            maxConcurrentRuns,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            threads("crunchguard-runner"));
    this.runners.allowCoreThreadTimeOut(true);
    this.lockers =
        new ThreadPoolExecutor(
            MAX_LOCKS_IN_FLIGHT,
            MAX_LOCKS_IN_FLIGHT,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            threads("crunchguard-dispatch-lock"));
    this.lockers.allowCoreThreadTimeOut(true);
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
    // pollQuietly catches everything, so the future has no failure to report; close() stops it.
    ScheduledFuture<?> unused =
        poller.scheduleWithFixedDelay(
            this::pollQuietly, 0, pollInterval.toNanos(), TimeUnit.NANOSECONDS);
    if (useEvents) {
      startEvents();
    }
  }

  private void startEvents() {
    synchronized (streamLock) {
      streamStatus = EventStreamStatus.CONNECTING;
    }
    counts.eventStreamStarting();
    EventStream.Builder b =
        EventStream.builder(client)
            .subscribe(EventFilter.eventTypeIn(ArvadosEvent.CREATE, ArvadosEvent.UPDATE))
            .objectKinds(ArvadosEvent.KIND_CONTAINER)
            .listener(new StreamListener());
    if (eventsUrl != null) {
      b.websocketUrl(eventsUrl);
    }
    EventStream s;
    try {
      s = b.start();
    } catch (RuntimeException e) {
      streamChanged(EventStreamStatus.DOWN, "cannot start the event stream: " + e.getMessage());
      return;
    }
    synchronized (streamLock) {
      if (!stopping.get()) {
        stream = s;
        return;
      }
    }
    s.close(); // close() ran meanwhile
  }

  /**
   * Asks for one poll soon; every request until it starts is served by it. Never blocks.
   *
   * @param full the whole poll (a tracked epoch may have ended, or events were missed), not only
   *     the queue step
   */
  private void requestPoll(boolean full) {
    if (full) {
      fullPollRequested.set(true); // before the flag below: a pending poll must see it
    }
    if (stopping.get() || !pollRequested.compareAndSet(false, true)) {
      return;
    }
    try {
      // triggeredPoll catches what a poll throws, so the future has no failure to report.
      ScheduledFuture<?> unused =
          poller.schedule(
              () -> {
                pollRequested.set(false); // events from here on may need another poll
                boolean whole = fullPollRequested.getAndSet(false);
                if (!stopping.get()) {
                  events.eventPollTriggered();
                  triggeredPoll(whole);
                }
              },
              eventPollDelayNanos,
              TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      pollRequested.set(false);
    }
  }

  private void triggeredPoll(boolean full) {
    try {
      pollLock.lock();
      try {
        if (!stopping.get()) {
          poll(full);
        }
      } finally {
        pollLock.unlock();
      }
    } catch (RuntimeException e) {
      log.warn("poll failed unexpectedly: {}", e.toString());
    }
  }

  /**
   * What a container event asks for, noted for the next triggered poll: a tracked container whose
   * epoch may have ended is read again; an untracked one the event shows Queued is a candidate for
   * a direct lock; one whose state the event does not show makes the poll list the queue. Runs on
   * the event stream's delivery thread: reads one entry, no I/O. Returns whether a poll is needed.
   */
  private boolean note(ArvadosEvent e) {
    ContainerState now = e.newState().orElse(null);
    String uuid = e.objectUuid();
    Entry en = entries.get(uuid);
    Phase p;
    boolean throttled;
    if (en == null) {
      p = Phase.IDLE;
      throttled = false;
    } else {
      synchronized (en) {
        p = en.phase;
        throttled = en.notBefore != 0 && en.notBefore - System.nanoTime() > 0;
      }
    }
    if (p != Phase.IDLE) {
      if (now == ContainerState.LOCKED || now == ContainerState.RUNNING) {
        return false; // a change within an epoch (or this dispatcher's own lock): nothing ends
      }
      toCheck.add(uuid);
      return true;
    }
    if (now == null) {
      listRequested.set(true);
      return true;
    }
    if (now != ContainerState.QUEUED || throttled) {
      return false;
    }
    if (named.size() <= maxConcurrentRuns) {
      Instant at = e.eventAt();
      named.putIfAbsent(uuid, at != null ? at : Instant.now());
    } else {
      listRequested.set(true); // more than can be locked at once: the queue's order decides
    }
    return true;
  }

  private void streamChanged(EventStreamStatus status, String reason) {
    streamChanged(status, reason, false);
  }

  /**
   * @param noService the cluster announces no event stream: a deployment choice, logged at INFO
   */
  private void streamChanged(EventStreamStatus status, String reason, boolean noService) {
    EventStreamStatus before;
    synchronized (streamLock) {
      before = streamStatus;
      if (before == status || before == EventStreamStatus.OFF) {
        return;
      }
      streamStatus = status;
      streamUp = status == EventStreamStatus.UP;
    }
    if (noService) {
      log.info(
          "no event stream: {}; dispatching by polling every {}",
          reason,
          pollInterval.toMillis() + " ms");
    } else if (status == EventStreamStatus.DOWN) {
      log.warn(
          "event stream {}: {}; dispatching by polling every {} until it is back",
          before == EventStreamStatus.CONNECTING ? "unavailable" : "down",
          reason,
          pollInterval.toMillis() + " ms");
    } else {
      log.info(
          "event stream connected: events trigger polls, and polls still run every {}",
          pollInterval.toMillis() + " ms");
    }
    events.eventStreamChanged(status, reason);
  }

  /** The stream's callbacks, on its delivery thread. */
  private final class StreamListener implements EventStreamListener {
    @Override
    public void onEvent(ArvadosEvent event) {
      if (note(event)) {
        requestPoll(false);
      }
    }

    @Override
    public void onGap(GapReason reason) {
      requestPoll(true); // the stream cannot vouch for what happened: re-read
    }

    @Override
    public void onConnected() {
      boolean wasDown;
      synchronized (streamLock) {
        wasDown = streamStatus == EventStreamStatus.DOWN;
      }
      streamChanged(EventStreamStatus.UP, "connected");
      if (wasDown) {
        // Replay covers the outage only as far as the server kept and sent it (a full client
        // queue closes the connection again mid-replay): one whole poll makes sure.
        requestPoll(true);
      }
    }

    @Override
    public void onDisconnected(String reason) {
      streamChanged(EventStreamStatus.DOWN, reason);
    }

    @Override
    public void onConnectFailed(String reason) {
      streamChanged(EventStreamStatus.DOWN, reason);
    }

    @Override
    public void onNoWebsocketService(String reason) {
      streamChanged(EventStreamStatus.DOWN, reason, true);
    }
  }

  /**
   * Runs one poll now, on the calling thread, for applications that schedule polls themselves: a
   * dispatcher that is never {@link #start() started} polls only when this is called, for example
   * from the application's own scheduler or when an outside event says there is new work. Polls
   * never overlap: a call made while another poll runs waits for it. Does nothing once closed.
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
    poll(true);
  }

  /**
   * A full poll, or (once the first full poll has recovered) only the queue step: what an event
   * about a possibly lockable container needs.
   */
  private void poll(boolean full) {
    boolean sawLockable = false;
    try {
      if (!full && recovered) {
        checkNamed();
        sawLockable = lockNamedOrQueued();
        events.pollCompleted();
        finishPoll(sawLockable);
        return;
      }
      // A whole poll reads every tracked record and lists the queue: it serves what events noted.
      toCheck.clear();
      named.clear();
      listRequested.set(false);
      String me = client.tokenUuid();
      retryPendingUnlocks();
      List<Container> mine =
          list(ContainerQuery.builder().filter("locked_by_uuid", "=", me).pageSize(pageSize));
      if (!recovered) {
        recover(mine);
        recovered = true;
      }
      sweepOrphans(mine);
      checkHeld(mine);
      sawLockable = lockQueued();
      prune();
      events.pollCompleted();
    } catch (ArvadosException e) {
      events.pollFailed(e);
      log.warn("poll of the queue failed: {}", e.getMessage());
      sawLockable = true;
    }
    finishPoll(sawLockable);
  }

  private void finishPoll(boolean sawLockable) {
    workWaiting = sawLockable;
    boolean nowIdle = !sawLockable && held.get() == 0 && count(Phase.UNLOCK_PENDING) == 0;
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

  private Entry entry(String uuid) {
    return entries.computeIfAbsent(uuid, Entry::new);
  }

  private static Phase phaseOf(Entry e) {
    synchronized (e) {
      return e.phase;
    }
  }

  private long count(Phase p) {
    return entries.values().stream().filter(e -> phaseOf(e) == p).count();
  }

  /**
   * First poll: what to make of the containers Locked or Running under this token that nobody here
   * tracks.
   */
  private void recover(List<Container> mine) {
    for (Container c : mine) {
      ContainerState s = c.state();
      if ((s != ContainerState.LOCKED && s != ContainerState.RUNNING)
          || recoveryPolicy == RecoveryPolicy.IGNORE) {
        continue;
      }
      Entry e = entry(c.uuid());
      if (recoveryPolicy == RecoveryPolicy.UNLOCK) {
        if (s == ContainerState.LOCKED) {
          synchronized (e) {
            if (e.phase == Phase.IDLE) {
              e.phase = Phase.MAYBE_MINE; // perhaps locked by an earlier run of this process
            }
          }
        }
        continue;
      }
      ContainerLock lock;
      try {
        lock = containers.resume(LockEpoch.of(c));
      } catch (IllegalArgumentException bad) {
        log.warn("cannot recover {}: {}", c.uuid(), bad.getMessage());
        continue;
      }
      log.info("adopting {} ({}) left locked by this token", c.uuid(), s.wireName());
      if (s == ContainerState.LOCKED) {
        startRun(e, lock, c);
      } else {
        synchronized (e) {
          if (e.phase != Phase.IDLE) {
            continue;
          }
          e.phase = Phase.WATCHING;
          e.lock = lock;
        }
        held.incrementAndGet();
      }
    }
  }

  /**
   * Unlocks the containers this dispatcher may have locked without knowing it once they have stayed
   * Locked by its token in one epoch for {@code orphanGrace}. The guarded unlock of that epoch
   * cannot touch a newer one.
   */
  private void sweepOrphans(List<Container> mine) {
    Map<String, Container> lockedByMe = new HashMap<>();
    for (Container c : mine) {
      if (c.state() == ContainerState.LOCKED) {
        lockedByMe.put(c.uuid(), c);
      }
    }
    long now = System.nanoTime();
    for (Entry e : entries.values()) {
      Container c = lockedByMe.get(e.uuid);
      ContainerLock unlock = null;
      synchronized (e) {
        if (e.phase != Phase.MAYBE_MINE) {
          continue;
        }
        if (c == null || recoveryPolicy == RecoveryPolicy.IGNORE) {
          forget(e); // not Locked by this token (any more): not an orphan of this dispatcher
          continue;
        }
        if (e.sighting == null) {
          e.sighting = new Sighting(c.authUuid(), c.lockCount(), now);
          continue;
        }
        if (!e.sighting.sameEpoch(c)) {
          forget(e); // locked again since: not the lock this dispatcher may have made
          continue;
        }
        if (now - e.sighting.firstSeenNanos() < orphanGrace.toNanos() || stopping.get()) {
          continue;
        }
        try {
          unlock = containers.resume(LockEpoch.of(c));
        } catch (IllegalArgumentException bad) {
          log.warn("cannot unlock orphaned {}: {}", c.uuid(), bad.getMessage());
          forget(e);
          continue;
        }
        e.phase = Phase.UNLOCK_PENDING;
        e.lock = unlock;
        e.sighting = null;
      }
      log.info(
          "unlocking {}: this dispatcher may have locked it, and it stayed Locked in one epoch for over {}",
          e.uuid,
          orphanGrace);
      unlockPending(
          e, "orphaned: Locked by this token and not started within the orphan grace period");
    }
  }

  /** Back to IDLE, keeping only the throttle and back-off. Caller holds the monitor. */
  private static void forget(Entry e) {
    e.phase = Phase.IDLE;
    e.lock = null;
    e.stop = null;
    e.sighting = null;
  }

  /** Judges every RUNNING and WATCHING container by this poll's records. */
  private void checkHeld(List<Container> mine) {
    Map<String, Container> mineByUuid = new HashMap<>();
    for (Container c : mine) {
      mineByUuid.put(c.uuid(), c);
    }
    List<String> missing = new ArrayList<>();
    for (Entry e : entries.values()) {
      Phase p = phaseOf(e);
      if (p != Phase.RUNNING && p != Phase.WATCHING) {
        continue;
      }
      Container c = mineByUuid.get(e.uuid);
      if (c == null) {
        missing.add(e.uuid);
      } else {
        judge(e, c);
      }
    }
    judgeByUuid(missing);
  }

  /**
   * Reads the named tracked containers (a list of up to 20 uuids per request) and judges each; one
   * that no longer exists has its runner stopped as lost.
   */
  private void judgeByUuid(List<String> uuids) {
    for (int i = 0; i < uuids.size(); i += UUID_BATCH) {
      List<String> batch = uuids.subList(i, Math.min(uuids.size(), i + UUID_BATCH));
      Set<String> seen = new HashSet<>();
      for (Container c :
          list(ContainerQuery.builder().filter("uuid", "in", batch).pageSize(UUID_BATCH))) {
        seen.add(c.uuid());
        Entry e = entries.get(c.uuid());
        if (e != null) {
          judge(e, c);
        }
      }
      for (String uuid : batch) {
        Entry e = entries.get(uuid);
        if (!seen.contains(uuid) && e != null) {
          stop(e, StopReason.LOST);
        }
      }
    }
  }

  /**
   * A triggered poll's part for tracked containers: reads those whose epoch an event says may have
   * ended, unless this dispatcher ended the epoch itself (its own Complete, Cancelled or unlock
   * produced the event) or no longer tracks them.
   */
  private void checkNamed() {
    if (toCheck.isEmpty()) {
      return;
    }
    List<String> read = new ArrayList<>();
    for (String uuid : drain(toCheck)) {
      Entry e = entries.get(uuid);
      if (e == null) {
        continue;
      }
      ContainerLock lock;
      synchronized (e) {
        lock = e.phase == Phase.RUNNING || e.phase == Phase.WATCHING ? e.lock : null;
      }
      if (lock != null && !lock.isReleased() && !lock.isLost()) {
        read.add(uuid);
      }
    }
    judgeByUuid(read);
  }

  private static List<String> drain(Set<String> set) {
    List<String> out = new ArrayList<>();
    for (var it = set.iterator(); it.hasNext(); ) {
      out.add(it.next());
      it.remove();
    }
    return out;
  }

  /**
   * A triggered poll's queue step. When every container events named fits the free capacity and no
   * listed work is waiting, it locks them directly, one request each and no list (the lock endpoint
   * decides, as always; a container that is no longer lockable costs one refused lock, as a list
   * would have cost one request). Otherwise, or when an event did not show a state, it lists the
   * queue in priority order, so that a strictly higher priority still goes first whenever capacity
   * is short.
   */
  private boolean lockNamedOrQueued() {
    Map<String, Instant> batch = new HashMap<>();
    for (var it = named.entrySet().iterator(); it.hasNext(); ) {
      var en = it.next();
      batch.put(en.getKey(), en.getValue());
      it.remove();
    }
    boolean list = listRequested.getAndSet(false) || workWaiting;
    if (list || batch.size() > maxConcurrentRuns - held.get()) {
      return lockQueued();
    }
    boolean sawLockable = false;
    for (var en : batch.entrySet()) {
      if (held.get() >= maxConcurrentRuns || stopping.get()) {
        return true;
      }
      Entry e = entries.get(en.getKey());
      if (e != null) {
        synchronized (e) {
          if (e.phase != Phase.IDLE || (e.notBefore != 0 && e.notBefore - System.nanoTime() > 0)) {
            continue; // locked meanwhile (by a poll), or throttled
          }
        }
      }
      Outcome o = tryLock(en.getKey(), null, en.getValue());
      if (o.kind() == Attempt.FAILED) {
        sawLockable = true;
      }
      ContainerLock lock = o.lock();
      if (lock != null) {
        startRun(entry(en.getKey()), lock, null);
      }
    }
    return sawLockable;
  }

  /** Fires the runner's stop signal when the record shows its epoch ended or nobody wants it. */
  private void judge(Entry e, Container c) {
    StopReason reason = null;
    ContainerState s = c.state();
    ContainerLock lock;
    Phase phase;
    synchronized (e) {
      lock = e.lock;
      phase = e.phase;
    }
    if (lock == null || (phase != Phase.RUNNING && phase != Phase.WATCHING)) {
      return;
    }
    if (s == ContainerState.CANCELLED) {
      reason = StopReason.CANCELLED;
    } else if (s == ContainerState.COMPLETE) {
      reason = StopReason.FINISHED;
    } else if (s == ContainerState.QUEUED) {
      reason = StopReason.UNLOCKED;
    } else if (s == ContainerState.LOCKED || s == ContainerState.RUNNING) {
      if (!lock.epoch().isCurrentIn(c)) {
        reason = StopReason.RELOCKED;
      } else if (c.priority() != null && c.priority() == 0) {
        reason = StopReason.PRIORITY_ZERO;
      }
    }
    if (reason == null) {
      return;
    }
    if (phase == Phase.WATCHING) {
      if (reason != StopReason.PRIORITY_ZERO) {
        synchronized (e) {
          if (e.phase == Phase.WATCHING) {
            forget(e);
            held.decrementAndGet();
          }
        }
      }
      return;
    }
    stop(e, reason);
  }

  private void stop(Entry e, StopReason reason) {
    CancellationSource stop;
    synchronized (e) {
      stop = e.phase == Phase.RUNNING ? e.stop : null;
    }
    if (stop != null && stop.cancel(reason)) {
      log.info("telling the runner of {} to stop: {}", e.uuid, reason);
      events.stopRequested(e.uuid, reason);
    }
  }

  /**
   * Locks queued containers while there is capacity. Returns whether any lockable one was seen.
   *
   * <p>Lock attempts run in parallel on a few lock threads, at most {@link #MAX_LOCKS_IN_FLIGHT} at
   * once, each in a run slot reserved for it (a won lock's run goes to the runner pool), and this
   * poll lists nothing new while its attempts are in flight. Alone on a queue, a dispatcher takes
   * candidates in strict priority order. Lock conflicts show rivals working the same queue: a page
   * that met one is stale (rivals are taking from it), and the queue is listed again, from a random
   * point within the first {@code spread} pages, only a few times as many containers as the free
   * capacity can take, and walked in random order. {@code spread} starts at 1, doubles with each
   * stale page (up to {@link #MAX_SPREAD}) and shrinks with each clean one, so racing dispatchers
   * work on different parts of the queue's head instead of trying the same containers in the same
   * order, and together still take the highest priorities first.
   *
   * <p>It pages the queue itself: every lock it attempts takes (or may take) a container out of the
   * Queued set the offsets count, so the next page starts that many items earlier. Plain offset
   * paging would skip as many lockable containers as it had just locked. Counting a failed attempt
   * as removed too may show a few containers twice; they are then held or throttled, and skipped.
   */
  private boolean lockQueued() {
    if (held.get() >= maxConcurrentRuns || stopping.get()) {
      return true;
    }
    boolean sawLockable = false;
    int limit = spread <= 1 ? pageSize : relistLimit();
    long offset = firstOffset(limit);
    int relists = 0;
    while (held.get() < maxConcurrentRuns && !stopping.get()) {
      ContainerQuery q =
          ContainerQuery.builder()
              .filter("state", "=", "Queued")
              .filter("priority", ">", 0)
              .order("priority desc")
              .pageSize(limit)
              .limit(limit)
              .offset(offset)
              .select(POLL_FIELDS)
              .build();
      List<Container> page;
      try (Stream<Container> s = containers.list(q)) {
        page = s.collect(Collectors.toList());
      }
      if (page.size() < limit && offset > 0 && relists++ < MAX_RELISTS && spread > 1) {
        // A spread page past the queue's end, or the queue's short tail: the rest is above it.
        spread = Math.max(1, spread / 2);
        limit = spread <= 1 ? pageSize : relistLimit();
        offset = firstOffset(limit);
        if (page.isEmpty()) {
          continue;
        }
      }
      List<Container> candidates = new ArrayList<>(page.size());
      for (Container c : page) {
        Entry e = entries.get(c.uuid());
        if (e != null) {
          synchronized (e) {
            if (e.phase != Phase.IDLE) {
              continue; // held, or being sorted out
            }
            sawLockable = true;
            if (e.notBefore != 0 && e.notBefore - System.nanoTime() > 0) {
              continue;
            }
          }
        } else {
          sawLockable = true;
        }
        candidates.add(c);
      }
      Walk w = walk(candidates);
      if (w.stale() && relists++ < MAX_RELISTS) {
        // Rivals are taking from this page: list the queue's head again, only as many as the free
        // capacity can use (a list costs the server and this client per record).
        limit = relistLimit();
        offset = firstOffset(limit);
        continue;
      }
      if (w.walked() < candidates.size()) {
        return true; // capacity ran out (or shutdown) with lockable containers left
      }
      if (page.size() < limit) {
        return sawLockable; // the last page
      }
      offset += page.size() - w.attempted();
    }
    return true;
  }

  /**
   * How many containers a listing among rivals asks for: a few times the free capacity (at least
   * {@link #MIN_RELIST}), at most a page. Alone on a queue (no conflicts) a dispatcher lists whole
   * pages.
   */
  private int relistLimit() {
    int free = Math.max(1, maxConcurrentRuns - held.get());
    return Math.min(pageSize, Math.max(MIN_RELIST, RELIST_PER_FREE_SLOT * free));
  }

  /**
   * Where a fresh listing of {@code limit} containers starts: the top, or at random within the
   * first {@code spread} pages.
   */
  private long firstOffset(int limit) {
    if (spread <= 1) {
      return 0;
    }
    int span = spread * pageSize - limit;
    return span <= 0 ? 0 : ThreadLocalRandom.current().nextInt(span + 1);
  }

  /**
   * What one page's walk did: candidates it went through (attempted or found taken meanwhile),
   * attempts it made, and whether a conflict showed the page stale.
   */
  private record Walk(int walked, int attempted, boolean stale) {}

  /**
   * Attempts the candidates (in priority order) in parallel, each in a reserved run slot, until
   * they run out, capacity runs out, or a conflict shows the page stale; returns once every attempt
   * it started has finished (a won lock's run goes on). Only the poll thread walks.
   */
  private Walk walk(List<Container> candidates) {
    List<Container> left = new ArrayList<>(candidates);
    int attempted = 0;
    int conflictsBefore = pageConflicts.get();
    try {
      while (!left.isEmpty() && !stopping.get() && pageConflicts.get() == conflictsBefore) {
        if (held.get() >= maxConcurrentRuns) {
          if (!awaitSlot()) {
            break; // every slot holds a run: capacity is out
          }
          continue;
        }
        int pick = spread <= 1 ? 0 : ThreadLocalRandom.current().nextInt(left.size());
        Container c = left.remove(pick);
        Entry e = entries.get(c.uuid());
        if (e != null) {
          synchronized (e) {
            if (e.phase != Phase.IDLE
                || (e.notBefore != 0 && e.notBefore - System.nanoTime() > 0)) {
              continue; // taken by an event's direct lock meanwhile, or throttled
            }
          }
        }
        held.incrementAndGet(); // the slot is reserved for the attempt and its run
        synchronized (slots) {
          while (attemptsInFlight >= MAX_LOCKS_IN_FLIGHT) {
            try {
              slots.wait(50);
            } catch (InterruptedException ex) {
              Thread.currentThread().interrupt();
              held.decrementAndGet();
              return new Walk(candidates.size() - left.size() - 1, attempted, false);
            }
          }
          attemptsInFlight++;
        }
        attempted++;
        Instant since = c.modifiedAt() != null ? c.modifiedAt() : c.createdAt();
        try {
          lockers.execute(() -> attempt(c, since));
        } catch (RuntimeException rejected) { // shutting down
          attemptDone(true);
          break;
        }
      }
    } finally {
      awaitAttempts();
    }
    boolean stale = pageConflicts.get() != conflictsBefore;
    if (stale) {
      spread = Math.min(MAX_SPREAD, spread * 2);
    } else if (attempted > 0 && spread > 1) {
      spread -= Math.max(1, spread / 4);
    }
    return new Walk(candidates.size() - left.size(), attempted, stale);
  }

  /**
   * A lock attempt in a reserved slot, on a lock thread; a won lock's run goes to the runner pool.
   * Only the few lock threads do the attempts' I/O, so that a runner thread that does none (a run
   * handed to another process) keeps no per-thread I/O state (the JDK caches about 4 KB of socket
   * buffers per thread that has used a socket).
   */
  private void attempt(Container c, @Nullable Instant since) {
    Entry e;
    ContainerLock lock;
    CancellationSource stop;
    try {
      Outcome o = tryLock(c.uuid(), c, since);
      if (o.kind() == Attempt.REFUSED) {
        pageConflicts.incrementAndGet();
      }
      ContainerLock won = o.lock();
      if (won == null) {
        attemptDone(true);
        return;
      }
      lock = won;
      e = entry(c.uuid());
      stop = claim(e, lock);
    } catch (RuntimeException | Error unexpected) {
      attemptDone(true);
      throw unexpected;
    }
    try {
      runners.execute(() -> run(e, lock, stop, c));
    } catch (RuntimeException rejected) {
      synchronized (e) {
        e.phase = Phase.UNLOCK_PENDING;
        e.stop = null;
      }
      attemptDone(true);
      unlockPending(e, "dispatcher is shutting down");
      return;
    }
    attemptDone(false);
  }

  /** One attempt of the current walk ended; {@code release} frees its reserved slot. */
  private void attemptDone(boolean release) {
    if (release) {
      held.decrementAndGet();
    }
    synchronized (slots) {
      attemptsInFlight--;
      slots.notifyAll();
    }
  }

  /** A run ended and freed its slot. */
  private void slotFreed() {
    synchronized (slots) {
      slots.notifyAll();
    }
  }

  /**
   * Waits until a slot is free. Returns false when every slot still holds a run after {@link
   * #SLOT_WAIT_NANOS} with no attempt in flight: capacity is out, and the poll ends rather than
   * keep its thread from the next poll's checks.
   */
  private boolean awaitSlot() {
    long deadline = System.nanoTime() + SLOT_WAIT_NANOS;
    synchronized (slots) {
      while (held.get() >= maxConcurrentRuns && !stopping.get()) {
        long left = deadline - System.nanoTime();
        if (left <= 0 && attemptsInFlight == 0) {
          return false;
        }
        try {
          slots.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.max(left, 1_000_000))));
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return held.get() < maxConcurrentRuns;
    }
  }

  /** Waits for every attempt of the current walk to end (their runs may go on). */
  private void awaitAttempts() {
    boolean interrupted = false;
    synchronized (slots) {
      while (attemptsInFlight > 0) {
        try {
          slots.wait(50);
        } catch (InterruptedException ex) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private enum Attempt {
    WON,
    REFUSED,
    FAILED
  }

  private record Outcome(Attempt kind, @Nullable ContainerLock lock) {}

  /**
   * One lock attempt; a won lock is counted but not yet run.
   *
   * @param uuid the container
   * @param listed its listed record, or null for a container named by an event
   * @param since when it became lockable, as far as known (for the queue-to-lock figure)
   */
  private Outcome tryLock(String uuid, @Nullable Container listed, @Nullable Instant since) {
    events.lockAttempted(uuid);
    ContainerLock lock;
    try {
      lock = listed != null ? containers.lock(listed) : containers.lock(uuid);
    } catch (LockConflictException e) {
      // If a lost answer left the container Locked by this token, the lock may be ours or a
      // sibling's: it is not run, and the orphan sweep unlocks it if nobody starts it.
      Entry en = entry(uuid);
      synchronized (en) {
        en.notBefore = System.nanoTime() + lockRetryInterval.toNanos();
        if (e.observedState() == ContainerState.LOCKED && en.phase == Phase.IDLE) {
          en.phase = Phase.MAYBE_MINE;
        }
      }
      log.debug("lock conflict on {}: {}", uuid, e.getMessage());
      events.lockConflict(uuid);
      return new Outcome(Attempt.REFUSED, null);
    } catch (ArvadosException e) {
      // The lock may have been applied; the orphan sweep takes care of it if so.
      Entry en = entry(uuid);
      synchronized (en) {
        en.notBefore = System.nanoTime() + lockRetryInterval.toNanos();
        if (en.phase == Phase.IDLE) {
          en.phase = Phase.MAYBE_MINE;
        }
      }
      log.warn("could not lock {}: {}", uuid, e.getMessage());
      events.lockFailed(uuid, e);
      return new Outcome(Attempt.FAILED, null);
    }
    events.lockWon(lock);
    if (since != null) {
      Duration waited = Duration.between(since, Instant.now());
      events.queueToLock(uuid, waited.isNegative() ? Duration.ZERO : waited);
    }
    return new Outcome(Attempt.WON, lock);
  }

  /**
   * Makes a won (or adopted) lock's entry RUNNING and wires the lock's loss to the runner's stop
   * signal. The caller has counted the slot in {@code held}.
   *
   * @return the run's stop signal
   */
  private CancellationSource claim(Entry e, ContainerLock lock) {
    CancellationSource stop = new CancellationSource();
    synchronized (e) {
      if (e.phase != Phase.IDLE && e.phase != Phase.MAYBE_MINE) {
        throw new IllegalStateException("container " + e.uuid + " is already " + e.phase);
      }
      e.phase = Phase.RUNNING;
      e.lock = lock;
      e.stop = stop;
      e.sighting = null;
    }
    lock.onLost(
        ex -> {
          events.lostOwnership(e.uuid, ex);
          if (ex.getCause()
              instanceof ArvadosServiceException) { // a write was refused: the guard at work
            events.staleWriteBlocked(e.uuid, ex);
          }
          stop(e, StopReason.LOST);
        });
    return stop;
  }

  /** Claims a lock and runs it on the runner pool. */
  private void startRun(Entry e, ContainerLock lock, @Nullable Container seen) {
    CancellationSource stop = claim(e, lock);
    held.incrementAndGet();
    try {
      runners.execute(() -> run(e, lock, stop, seen));
    } catch (RuntimeException rejected) {
      synchronized (e) {
        e.phase = Phase.UNLOCK_PENDING;
        e.stop = null;
      }
      held.decrementAndGet();
      unlockPending(e, "dispatcher is shutting down");
    }
  }

  private void run(Entry e, ContainerLock lock, CancellationSource stop, @Nullable Container seen) {
    events.runnerStarted(e.uuid);
    Throwable failure = null;
    RunContext ctx = new RunContext(lock, seen, containers, stop.signal());
    boolean unlockLater = false;
    try {
      runner.run(ctx);
    } catch (Throwable ex) {
      failure = ex;
      if (ex instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (!(ex instanceof LostOwnershipException)) {
        log.warn("runner for {} failed: {}", e.uuid, ex.toString());
      }
    } finally {
      try {
        unlockLater = afterRun(e, ctx, stop, failure);
      } finally {
        boolean wasRunning;
        synchronized (e) {
          wasRunning =
              e.phase == Phase.RUNNING; // close() may have taken over a runner that never finished
          if (wasRunning) {
            if (unlockLater) {
              e.phase = Phase.UNLOCK_PENDING;
              e.stop = null;
            } else {
              forget(e);
            }
          }
        }
        if (wasRunning) {
          held.decrementAndGet();
          slotFreed();
          if (streamUp && workWaiting) {
            listRequested.set(true); // capacity freed while work waits: as an event would, poll now
            requestPoll(false);
          }
        }
        events.runnerFinished(e.uuid, failure);
      }
    }
  }

  /**
   * Cleans up a container whose runner is done: unlock if never started, cancel if abandoned
   * Running by a run known to have started it. Runs on the runner's thread, with no monitor held.
   *
   * @return true if the container is still Locked in this epoch and its unlock must be retried
   */
  private boolean afterRun(
      Entry e, RunContext ctx, CancellationSource stop, @Nullable Throwable failure) {
    ContainerLock lock = ctx.lock();
    if (lock.isLost()) {
      return false;
    }
    if (lock.isReleased()) {
      Container last = lock.lastSeen();
      if (last != null && last.state() == ContainerState.QUEUED) {
        backOff(e);
      } else {
        resetBackOff(e);
      }
      return false;
    }
    // A plain read, not lock.verify(): when the runner finished the container through its own
    // handed-off lock, this lock was never used, and its epoch ending is not a loss.
    Container now;
    try {
      now = containers.get(e.uuid);
    } catch (dev.crunchguard.NotFoundException gone) {
      return false;
    } catch (ArvadosException ex) {
      log.warn(
          "cannot check {} after its runner ended ({}); will retry the unlock",
          e.uuid,
          ex.getMessage());
      return true;
    }
    if (!lock.epoch().isCurrentIn(now)) {
      return false;
    }
    if (now.state() == ContainerState.LOCKED) {
      StopReason r = stop.signal().reason();
      boolean wasFailure = r == null || r == StopReason.SHUTDOWN || failure != null;
      if (!unlock(
          lock, failure != null ? "runner failed before Running" : "runner ended before Running")) {
        return true;
      }
      if (wasFailure && r != StopReason.PRIORITY_ZERO) {
        backOff(e);
      }
    } else if (!ctx.isStarted()) {
      // Running in this epoch, but nothing shows that this run started it (the runner refused to
      // start, say): never cancel a run this dispatcher cannot prove is its own.
      log.warn(
          "{} is Running in this dispatcher's epoch but its runner ended without reporting a start; leaving it alone",
          e.uuid);
    } else {
      try {
        lock.cancel("runner exited without finishing the container");
      } catch (LostOwnershipException ex) {
        // someone else owns it now; nothing to clean up
      } catch (ArvadosException ex) {
        log.warn("could not cancel abandoned {}: {}", e.uuid, ex.getMessage());
      }
    }
    return false;
  }

  private void backOff(Entry e) {
    synchronized (e) {
      e.failures++;
      e.notBefore =
          System.nanoTime()
              + Checks.exponentialNanos(
                  lockRetryInterval.toNanos(), maxFailureBackoff.toNanos(), e.failures);
    }
  }

  private static void resetBackOff(Entry e) {
    synchronized (e) {
      e.failures = 0;
      e.notBefore = 0;
    }
  }

  /**
   * The guarded unlock of a held epoch. No monitor may be held.
   *
   * @return true when the epoch is over (unlocked now, or ended elsewhere); false to retry later
   */
  private boolean unlock(ContainerLock lock, String why) {
    try {
      Container after = lock.unlock();
      log.info(
          "unlocked {} ({}){}",
          lock.containerUuid(),
          why,
          after.state() == ContainerState.CANCELLED
              ? "; the server cancelled it after too many dispatch attempts"
              : "");
      events.unlocked(lock.containerUuid(), why);
      return true;
    } catch (LostOwnershipException | IllegalStateException over) {
      return true;
    } catch (ArvadosException ex) {
      log.warn("could not unlock {}: {}; will retry", lock.containerUuid(), ex.getMessage());
      return false;
    }
  }

  /** Unlocks an UNLOCK_PENDING entry; it stays pending if the unlock fails. */
  private void unlockPending(Entry e, String why) {
    ContainerLock lock;
    synchronized (e) {
      lock = e.phase == Phase.UNLOCK_PENDING ? e.lock : null;
    }
    if (lock != null && unlock(lock, why)) {
      synchronized (e) {
        if (e.phase == Phase.UNLOCK_PENDING) {
          forget(e);
        }
      }
    }
  }

  private void retryPendingUnlocks() {
    for (Entry e : entries.values()) {
      ContainerLock lock;
      synchronized (e) {
        lock = e.phase == Phase.UNLOCK_PENDING ? e.lock : null;
      }
      if (lock == null) {
        continue;
      }
      boolean over;
      try {
        over = lock.verify().state() != ContainerState.LOCKED;
      } catch (LostOwnershipException | IllegalStateException ended) {
        over = true;
      } catch (ArvadosException ex) {
        continue; // try again next poll
      }
      if (over) {
        synchronized (e) {
          if (e.phase == Phase.UNLOCK_PENDING) {
            forget(e);
          }
        }
      } else {
        unlockPending(e, "retrying an earlier failed unlock");
      }
    }
  }

  /**
   * Drops IDLE entries that hold nothing worth keeping: no throttle or back-off in force for long.
   */
  private void prune() {
    long now = System.nanoTime();
    long keep = maxFailureBackoff.toNanos() * 4;
    entries
        .values()
        .removeIf(
            e -> {
              synchronized (e) {
                return e.phase == Phase.IDLE && (e.notBefore == 0 || now - e.notBefore > keep);
              }
            });
  }

  /**
   * Whether the last poll found nothing to lock, nothing is held, and no unlock is pending.
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

  /**
   * @return a snapshot of the counters
   */
  public DispatcherStats stats() {
    return counts.snapshot(held.get());
  }

  /**
   * Graceful shutdown: stops polling and locking, signals every runner ({@link
   * StopReason#SHUTDOWN}), waits up to the shutdown timeout for them, interrupts the rest, and
   * unlocks containers that never reached Running. Does not close the {@link ArvadosClient}.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!stopping.compareAndSet(false, true)) {
      return;
    }
    EventStream s;
    synchronized (streamLock) {
      s = stream;
      stream = null;
      streamStatus = EventStreamStatus.OFF; // no more state changes reported
      streamUp = false;
    }
    if (s != null) {
      s.close();
    }
    poller.shutdown();
    pollLock.lock();
    pollLock.unlock();
    lockers.shutdown(); // the last poll waited for its attempts: nothing is in flight
    for (Entry e : entries.values()) {
      stop(e, StopReason.SHUTDOWN);
    }
    runners.shutdown();
    try {
      if (!runners.awaitTermination(shutdownTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
        log.warn("runners did not stop within {}; interrupting them", shutdownTimeout);
        runners.shutdownNow();
        runners.awaitTermination(5, TimeUnit.SECONDS);
      }
      poller.awaitTermination(5, TimeUnit.SECONDS);
      lockers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      runners.shutdownNow();
    }
    for (Entry e : entries.values()) {
      synchronized (e) {
        if (e.phase == Phase.RUNNING
            && e.lock != null
            && !e.lock.isLost()
            && !e.lock.isReleased()) {
          e.phase = Phase.UNLOCK_PENDING; // a runner that never finished its clean-up
          e.stop = null;
          held.decrementAndGet();
        } else if (e.phase == Phase.WATCHING) {
          forget(e);
          held.decrementAndGet();
        }
      }
    }
    retryPendingUnlocks();
  }

  @Override
  public String toString() {
    return "Dispatcher{client="
        + client
        + ", maxConcurrentRuns="
        + maxConcurrentRuns
        + ", stats="
        + stats()
        + '}';
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Every event to the counters first, then to the user's listener, shielded from its exceptions.
   */
  private static final class Events implements DispatchListener {
    private final CountingListener counts;
    private final DispatchListener user;

    Events(CountingListener counts, DispatchListener user) {
      this.counts = counts;
      this.user = user;
    }

    private static void guard(Runnable r) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.warn("dispatch listener threw {}", e.toString());
      }
    }

    @Override
    public void pollCompleted() {
      counts.pollCompleted();
      guard(user::pollCompleted);
    }

    @Override
    public void pollFailed(Exception failure) {
      counts.pollFailed(failure);
      guard(() -> user.pollFailed(failure));
    }

    @Override
    public void eventStreamChanged(EventStreamStatus status, String reason) {
      counts.eventStreamChanged(status, reason);
      guard(() -> user.eventStreamChanged(status, reason));
    }

    @Override
    public void eventPollTriggered() {
      counts.eventPollTriggered();
      guard(user::eventPollTriggered);
    }

    @Override
    public void lockAttempted(String uuid) {
      counts.lockAttempted(uuid);
      guard(() -> user.lockAttempted(uuid));
    }

    @Override
    public void lockWon(ContainerLock lock) {
      counts.lockWon(lock);
      guard(() -> user.lockWon(lock));
    }

    @Override
    public void queueToLock(String uuid, Duration waited) {
      guard(() -> user.queueToLock(uuid, waited));
    }

    @Override
    public void lockConflict(String uuid) {
      counts.lockConflict(uuid);
      guard(() -> user.lockConflict(uuid));
    }

    @Override
    public void lockFailed(String uuid, ArvadosException failure) {
      counts.lockFailed(uuid, failure);
      guard(() -> user.lockFailed(uuid, failure));
    }

    @Override
    public void lostOwnership(String uuid, LostOwnershipException cause) {
      counts.lostOwnership(uuid, cause);
      guard(() -> user.lostOwnership(uuid, cause));
    }

    @Override
    public void staleWriteBlocked(String uuid, LostOwnershipException cause) {
      counts.staleWriteBlocked(uuid, cause);
      guard(() -> user.staleWriteBlocked(uuid, cause));
    }

    @Override
    public void stopRequested(String uuid, StopReason reason) {
      counts.stopRequested(uuid, reason);
      guard(() -> user.stopRequested(uuid, reason));
    }

    @Override
    public void runnerStarted(String uuid) {
      counts.runnerStarted(uuid);
      guard(() -> user.runnerStarted(uuid));
    }

    @Override
    public void runnerFinished(String uuid, @Nullable Throwable failure) {
      counts.runnerFinished(uuid, failure);
      guard(() -> user.runnerFinished(uuid, failure));
    }

    @Override
    public void unlocked(String uuid, String why) {
      counts.unlocked(uuid, why);
      guard(() -> user.unlocked(uuid, why));
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
    private boolean events = true;
    private @Nullable String eventsUrl;
    private Duration eventPollDelay = Duration.ofMillis(5);

    private Builder(ArvadosClient client, ContainerRunner runner) {
      this.client = Objects.requireNonNull(client, "client");
      this.runner = Objects.requireNonNull(runner, "runner");
    }

    /**
     * Time between two polls (default 10 s); positive.
     *
     * @param interval time between two polls (default 10 s); positive
     * @return this builder
     */
    public Builder pollInterval(Duration interval) {
      this.pollInterval = Checks.positive(interval, "pollInterval");
      return this;
    }

    /**
     * @param interval least time between two lock attempts on one container, and the first back-off
     *     after a failed run (default 10 s); positive
     * @return this builder
     */
    public Builder lockRetryInterval(Duration interval) {
      this.lockRetryInterval = Checks.positive(interval, "lockRetryInterval");
      return this;
    }

    /**
     * The longest back-off of a container whose runs keep failing (default 10 min).
     *
     * @param max the longest back-off of a container whose runs keep failing (default 10 min)
     * @return this builder
     */
    public Builder maxFailureBackoff(Duration max) {
      this.maxFailureBackoff = Checks.positive(max, "maxFailureBackoff");
      return this;
    }

    /**
     * The most containers run at once (default 8), 1 to 10000.
     *
     * @param n the most containers run at once (default 8), 1 to 10000
     * @return this builder
     */
    public Builder maxConcurrentRuns(int n) {
      if (n < 1 || n > 10_000) {
        throw new IllegalArgumentException(
            "maxConcurrentRuns must be between 1 and 10000, got " + n);
      }
      this.maxConcurrentRuns = n;
      return this;
    }

    /**
     * Items per list request (default 100), 1 to 1000.
     *
     * @param n items per list request (default 100), 1 to 1000
     * @return this builder
     */
    public Builder pageSize(int n) {
      if (n < 1 || n > 1000) {
        throw new IllegalArgumentException("pageSize must be between 1 and 1000, got " + n);
      }
      this.pageSize = n;
      return this;
    }

    /**
     * Start-up handling of untracked containers locked by this token.
     *
     * @param policy start-up handling of untracked containers locked by this token
     * @return this builder
     */
    public Builder recoveryPolicy(RecoveryPolicy policy) {
      this.recoveryPolicy = Objects.requireNonNull(policy, "recoveryPolicy");
      return this;
    }

    /**
     * How long {@link Dispatcher#close()} waits for runners (default 30 s).
     *
     * @param timeout how long {@link Dispatcher#close()} waits for runners (default 30 s)
     * @return this builder
     */
    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout = Checks.positive(timeout, "shutdownTimeout");
      return this;
    }

    /**
     * How long a container Locked by this token, and not tracked by this dispatcher, may stay
     * Locked in one epoch before this dispatcher unlocks it (guarded) as an orphan: a lock whose
     * answer was lost, or one left by a crashed process that shares the token. Longer than any
     * runner needs to move a container from Locked to Running, because a sibling's lock that is
     * still Locked after it is unlocked too (its runner is then fenced, never doubled). Default 5
     * minutes.
     *
     * @param grace a positive duration
     * @return this builder
     */
    public Builder orphanGrace(Duration grace) {
      this.orphanGrace = Checks.positive(grace, "orphanGrace");
      return this;
    }

    /**
     * Whether to follow the Arvados event stream, so that new work is locked within milliseconds
     * instead of at the next poll (default true). The periodic poll stays; see "Events" in the
     * class description for what events do and do not guarantee. The stream needs a websocket
     * service (arvados-ws): on a cluster without one the dispatcher polls only, says so once at
     * INFO, and reads the discovery document again every few minutes. The stream is opened by
     * {@link Dispatcher#start()} and closed by {@link Dispatcher#close()}; a dispatcher driven only
     * by {@link Dispatcher#pollOnce()} opens none. It costs one websocket connection to arvados-ws
     * per dispatcher, and one GET per container for runners that read {@link
     * RunContext#container()} of a container locked from an event.
     *
     * @param on false to find work by polling only
     * @return this builder
     */
    public Builder events(boolean on) {
      this.events = on;
      return this;
    }

    /**
     * The event stream's URL, instead of the discovery document's {@code websocketUrl}; implies
     * nothing with {@link #events(boolean) events(false)}.
     *
     * @param url {@code wss://host/websocket} (or ws, http, https), without a query
     * @return this builder
     * @throws IllegalArgumentException if the URL is unusable
     */
    public Builder eventsWebsocketUrl(String url) {
      String u = Objects.requireNonNull(url, "url").trim();
      String lower = u.toLowerCase(java.util.Locale.ROOT);
      if (!(lower.startsWith("ws://")
              || lower.startsWith("wss://")
              || lower.startsWith("http://")
              || lower.startsWith("https://"))
          || u.contains("?")) {
        throw new IllegalArgumentException(
            "the events URL must start with ws://, wss://, http:// or https:// and carry no query");
      }
      this.eventsUrl = u;
      return this;
    }

    /**
     * How long a poll triggered by an event waits for more events before it starts (default 5 ms):
     * every event until it starts is served by it. Longer saves list requests when containers
     * arrive a few milliseconds apart, at the cost of as much latency. Zero to 1 s.
     *
     * @param delay the delay
     * @return this builder
     * @throws IllegalArgumentException if negative or over a second
     */
    public Builder eventPollDelay(Duration delay) {
      Objects.requireNonNull(delay, "eventPollDelay");
      if (delay.isNegative() || delay.compareTo(Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException(
            "eventPollDelay must be between 0 and 1 s, got " + delay);
      }
      this.eventPollDelay = delay;
      return this;
    }

    /**
     * Receives events.
     *
     * @param listener receives events
     * @return this builder
     */
    public Builder listener(DispatchListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * @return a dispatcher, not yet started
     */
    public Dispatcher build() {
      return new Dispatcher(this);
    }
  }
}

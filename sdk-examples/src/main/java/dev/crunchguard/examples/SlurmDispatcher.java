package dev.crunchguard.examples;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosException;
import dev.crunchguard.CancellationSignal;
import dev.crunchguard.CancellationSource;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerQuery;
import dev.crunchguard.ContainerState;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.StopReason;
import dev.crunchguard.dispatch.DispatchListener;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.RunContext;
import dev.crunchguard.examples.SlurmCommands.SlurmException;
import dev.crunchguard.examples.cli.Durations;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dispatcher like Arvados' crunch-dispatch-slurm ({@code dispatch-slurm}, {@link
 * DispatchSlurmCommand}), built on the SDK's {@link Dispatcher}: every lock it wins becomes one
 * Slurm batch job that runs the example runner ({@link ExampleRunner}, {@code
 * crunchguard-examples.jar run}) with the lock handed over through the job's environment. The
 * runner refuses to start unless the container is still Locked in that epoch, and its writes carry
 * the epoch's {@code auth_uuid}, so a job the dispatcher lost track of can never overwrite a newer
 * epoch.
 *
 * <h2>One run = one job</h2>
 *
 * The SDK calls {@link #run} on a runner thread for each won lock. It submits the job ({@code
 * sbatch --job-name=<uuid> --comment=<auth_uuid> --no-requeue --nice=… --cpus-per-task=… --mem=…},
 * the script on stdin, credentials only in the environment) and then follows the job in the shared
 * squeue snapshots until one of these happens:
 *
 * <ul>
 *   <li>the SDK's stop signal fires (cancelled, priority 0, unlocked, locked again, finished,
 *       lost): the job is cancelled ({@code scancel}, pending then running with {@code --batch
 *       --signal=TERM}) and followed until it has left the queue;
 *   <li>the job is <em>gone</em>: absent from a snapshot that started after its sbatch returned. If
 *       the container is still Locked in this epoch it is unlocked (guarded); if it is Running in
 *       this epoch it is cancelled (guarded: it cannot touch a newer epoch);
 *   <li>the dispatcher shuts down: a job that never ran is cancelled (the SDK unlocks its
 *       container); a running one is left running, for the next dispatcher to adopt.
 * </ul>
 *
 * {@link RunContext#reportStarted()} is called when squeue showed the job running (or the record
 * showed it Running in this epoch), except on shutdown, so that the SDK cancels a container this
 * run left Running but never one a surviving job is still working on.
 *
 * <h2>One poll thread</h2>
 *
 * Every poll interval one {@code squeue --all --format=…} run lists every job; runner threads wait
 * for the next snapshot, never call squeue themselves. After each snapshot, one batched read of the
 * followed containers gives their priorities, and a job whose nice no longer matches is reniced
 * ({@code scontrol update JobName=<uuid> Nice=<n>}). Every Slurm command has a timeout; a failed
 * squeue is skipped (no job is judged gone on it).
 *
 * <h2>Start-up</h2>
 *
 * Before locking anything, one snapshot and one read of the containers named by its jobs:
 *
 * <ul>
 *   <li>a job whose container is final or Queued, or Locked/Running in another epoch than its
 *       comment, is cancelled;
 *   <li>a job whose container is Locked/Running in the job's epoch by this dispatcher's token is
 *       adopted: followed like a job of its own, without a second sbatch.
 * </ul>
 *
 * The SDK's orphan sweep ({@code orphanGrace}) unlocks containers of this token left Locked without
 * a job, and also adopted ones whose job stays pending longer than the grace; choose it longer than
 * your queue waits.
 */
final class SlurmDispatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SlurmDispatcher.class);
  private static final int UUID_BATCH = 20;

  /** Polls a finished container's job may take to exit before it is cancelled. */
  private static final int FINISH_GRACE_POLLS = 10;

  /**
   * Settings.
   *
   * @param partition sbatch {@code --partition}, or null for the cluster's default
   * @param pollInterval API poll and squeue interval
   * @param concurrency the most jobs submitted at once
   * @param orphanGrace the SDK's orphan grace
   * @param runnerArgv the job's command, e.g. {@code java -jar crunchguard-examples.jar run}
   * @param reserveMiB memory added to {@code runtime_constraints.ram} for the runner itself
   * @param outputPattern sbatch {@code --output}, or null for Slurm's default
   * @param cancelTimeout how long to keep cancelling a job that stays in the queue
   */
  record Options(
      @Nullable String partition,
      Duration pollInterval,
      int concurrency,
      Duration orphanGrace,
      List<String> runnerArgv,
      long reserveMiB,
      @Nullable String outputPattern,
      Duration cancelTimeout) {
    Options {
      runnerArgv = List.copyOf(runnerArgv);
    }
  }

  /** One job this dispatcher follows: submitted by a run, or adopted at start-up. */
  private static final class Followed {
    final String uuid;
    final String epoch;
    final ContainerLock lock;
    final CancellationSignal signal;

    /** Adopted jobs only: this dispatcher owns their stop request (a run's comes from the SDK). */
    final @Nullable CancellationSource source;

    final boolean adopted;
    volatile String jobId = "";
    volatile long submittedNanos;
    volatile long priority;
    volatile boolean seenRunning;

    Followed(
        String uuid,
        String epoch,
        ContainerLock lock,
        CancellationSignal signal,
        @Nullable CancellationSource source,
        long priority) {
      this.uuid = uuid;
      this.epoch = epoch;
      this.lock = lock;
      this.signal = signal;
      this.source = source;
      this.adopted = source != null;
      this.priority = priority;
    }
  }

  private enum Ending {
    STOPPED,
    GONE
  }

  private final ArvadosClient client;
  private final Slurm slurm;
  private final Options options;
  private final Map<String, String> jobEnvironment;
  private final Dispatcher dispatcher;
  private final Map<String, Followed> followed = new ConcurrentHashMap<>();

  /**
   * Epochs whose lock this process won (uuid + " " + auth_uuid), so a run knows its job is its to
   * submit.
   */
  private final Set<String> wonHere = ConcurrentHashMap.newKeySet();

  private final ScheduledExecutorService poller;
  private final ExecutorService adoptedPool;
  private final Object snapshots = new Object();
  private Slurm.@Nullable Snapshot latest;

  /** Set once the poll thread is about to stop: nobody waits for another snapshot then. */
  private boolean closing;

  private final AtomicLong seq = new AtomicLong();
  private final AtomicLong submitted = new AtomicLong();
  private final AtomicLong gone = new AtomicLong();
  private final AtomicLong cancels = new AtomicLong();
  private final AtomicLong renices = new AtomicLong();
  private final AtomicLong adoptedCount = new AtomicLong();
  private final AtomicLong orphansCancelled = new AtomicLong();
  private final AtomicLong squeueFailures = new AtomicLong();

  /**
   * @param client the dispatcher's client (its token locks containers)
   * @param commands how Slurm commands run
   * @param options settings
   * @param apiEnvironment {@code ARVADOS_API_HOST}, {@code ARVADOS_API_TOKEN} and {@code
   *     ARVADOS_API_HOST_INSECURE} for the jobs' runners: put in sbatch's environment, never on a
   *     command line
   * @param listener the SDK dispatcher's listener
   */
  SlurmDispatcher(
      ArvadosClient client,
      SlurmCommands commands,
      Options options,
      Map<String, String> apiEnvironment,
      DispatchListener listener) {
    this.client = client;
    this.slurm = new Slurm(commands);
    this.options = options;
    this.jobEnvironment = Map.copyOf(apiEnvironment);
    this.dispatcher =
        Dispatcher.builder(client, this::run)
            .maxConcurrentRuns(options.concurrency())
            .pollInterval(options.pollInterval())
            .lockRetryInterval(options.pollInterval())
            .orphanGrace(options.orphanGrace())
            .listener(
                new DispatchListener() {
                  @Override
                  public void lockWon(ContainerLock lock) {
                    wonHere.add(lock.containerUuid() + " " + epochOf(lock.epoch()));
                    listener.lockWon(lock);
                  }

                  @Override
                  public void lockConflict(String uuid) {
                    listener.lockConflict(uuid);
                  }

                  @Override
                  public void lostOwnership(String uuid, LostOwnershipException cause) {
                    listener.lostOwnership(uuid, cause);
                  }

                  @Override
                  public void stopRequested(String uuid, StopReason reason) {
                    listener.stopRequested(uuid, reason);
                  }

                  @Override
                  public void staleWriteBlocked(String uuid, LostOwnershipException cause) {
                    listener.staleWriteBlocked(uuid, cause);
                  }

                  @Override
                  public void runnerStarted(String uuid) {
                    listener.runnerStarted(uuid);
                  }

                  @Override
                  public void runnerFinished(String uuid, @Nullable Throwable failure) {
                    listener.runnerFinished(uuid, failure);
                  }

                  @Override
                  public void unlocked(String uuid, String why) {
                    listener.unlocked(uuid, why);
                  }

                  @Override
                  public void pollFailed(Exception failure) {
                    listener.pollFailed(failure);
                  }
                })
            .build();
    AtomicInteger n = new AtomicInteger();
    this.poller =
        Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "crunchguard-slurm-poll"));
    this.adoptedPool =
        Executors.newCachedThreadPool(
            r -> daemon(r, "crunchguard-slurm-adopted-" + n.incrementAndGet()));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** The epoch a job is tagged with: the auth_uuid, or lock_count for an unfenced container. */
  static String epochOf(LockEpoch h) {
    return h.authUuid() != null ? h.authUuid() : "lock_count=" + h.lockCount();
  }

  private static String epochOf(Container c) {
    return c.authUuid() != null ? c.authUuid() : "lock_count=" + c.lockCount();
  }

  /**
   * Takes one snapshot, cancels stale jobs and adopts this token's, then starts polling squeue and
   * the API.
   *
   * @throws SlurmException if squeue does not answer
   */
  void start() {
    Slurm.Snapshot first = slurm.squeue(seq.incrementAndGet());
    publish(first);
    recover(first);
    // tick catches everything, so the future has no failure to report; close() stops it.
    ScheduledFuture<?> unused =
        poller.scheduleWithFixedDelay(
            this::tick,
            options.pollInterval().toNanos(),
            options.pollInterval().toNanos(),
            TimeUnit.NANOSECONDS);
    dispatcher.start();
  }

  /**
   * The job's command: this JVM's java running the example runner, from {@code jar} if given, else
   * from this JVM's own jar ({@code java -jar crunchguard-examples.jar run}) or class path.
   */
  static List<String> runnerArgv(@Nullable String jar, Duration watch) {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    String cp = System.getProperty("java.class.path");
    List<String> argv = new ArrayList<>(List.of(java, "-Xmx128m"));
    if (jar != null) {
      argv.addAll(List.of("-jar", jar));
    } else if (!cp.contains(File.pathSeparator) && cp.endsWith(".jar")) {
      argv.addAll(List.of("-jar", new File(cp).getAbsolutePath()));
    } else {
      argv.addAll(List.of("-cp", cp, Main.class.getName()));
    }
    argv.addAll(List.of("run", "--watch-interval", watch.toMillis() + "ms"));
    return argv;
  }

  // ---- the runner side: one won lock, one job ----

  private void run(RunContext ctx) throws InterruptedException {
    ContainerLock lock = ctx.lock();
    String uuid = ctx.containerUuid();
    String epoch = epochOf(lock.epoch());
    if (!wonHere.remove(uuid + " " + epoch)) {
      // Not a lock this process won (the SDK only adopts with RecoveryPolicy.ADOPT): never a second
      // job.
      log.warn("{} was handed over without a lock won here; not submitting a job", uuid);
      return;
    }
    Container c = ctx.container();
    Followed f =
        new Followed(
            uuid, epoch, lock, ctx.cancellation(), null, c.priority() == null ? 0 : c.priority());
    Map<String, String> env = new LinkedHashMap<>(jobEnvironment);
    env.putAll(lock.epoch().toEnvironment());
    Slurm.JobRequest req =
        new Slurm.JobRequest(
            uuid,
            epoch,
            Slurm.cpus(c.runtimeConstraints()),
            Slurm.memoryMiB(c.runtimeConstraints(), options.reserveMiB()),
            Slurm.nice(f.priority),
            options.partition(),
            options.outputPattern());
    // A failure (or a timeout after Slurm took the job): the SDK unlocks the container and backs
    // off;
    // a job that was queued anyway refuses to start, its epoch having ended.
    f.jobId = slurm.submit(req, options.runnerArgv(), env);
    f.submittedNanos = System.nanoTime();
    submitted.incrementAndGet();
    log.info("submitted {} as Slurm job {}", uuid, f.jobId);
    followed.put(uuid, f);
    try {
      Ending end = follow(f);
      if (end == Ending.GONE) {
        jobGone(f);
      } else if (ctx.cancellation().reason() == StopReason.SHUTDOWN) {
        if (!f.seenRunning) {
          cancelQuietly(
              f, true); // the SDK unlocks the container: its pending job would only refuse to start
        }
      } else if (ctx.cancellation().reason() == StopReason.FINISHED && leavesOnItsOwn(f)) {
        log.debug(
            "Slurm job {} of {} ended after its runner finished the container", f.jobId, uuid);
      } else {
        cancelUntilGone(f);
      }
    } finally {
      followed.remove(uuid, f);
      if (f.seenRunning && ctx.cancellation().reason() != StopReason.SHUTDOWN) {
        ctx.reportStarted();
      }
    }
  }

  /** Waits on the snapshots until the stop signal fires or the job is gone. */
  private Ending follow(Followed f) throws InterruptedException {
    long seen = 0;
    f.signal.onCancel(r -> wakeWaiters());
    while (true) {
      Slurm.Snapshot s = awaitSnapshot(seen, f.signal, Duration.ofDays(1));
      if (s == null) {
        return Ending.STOPPED;
      }
      seen = s.seq();
      Slurm.Job j = s.job(f.jobId);
      if (j != null) {
        if (j.running() && !f.seenRunning) {
          f.seenRunning = true;
          log.info("Slurm job {} of {} is running", f.jobId, f.uuid);
        }
      } else if (s.startedAfter(f.submittedNanos)) {
        return Ending.GONE;
      }
    }
  }

  /** The job left the queue on its own: clean up what its runner left in this epoch. */
  private void jobGone(Followed f) {
    gone.incrementAndGet();
    Container c;
    try {
      c = client.containers().get(f.uuid);
    } catch (ArvadosException e) {
      log.warn(
          "Slurm job {} of {} is gone, and the container cannot be read ({}); the SDK cleans up",
          f.jobId,
          f.uuid,
          e.getMessage());
      return;
    }
    if (!f.epoch.equals(epochOf(c))) {
      return; // finished, or another epoch: nothing of this run's to clean up
    }
    try {
      if (c.state() == ContainerState.LOCKED) {
        log.info(
            "Slurm job {} of {} is gone while the container is Locked: unlocking it",
            f.jobId,
            f.uuid);
        f.lock.unlock();
      } else if (c.state() == ContainerState.RUNNING) {
        log.info(
            "Slurm job {} of {} is gone while the container is Running: cancelling it",
            f.jobId,
            f.uuid);
        f.seenRunning =
            true; // Running in this epoch: only this epoch's runner could have done that
        // No runtime_status: a dispatcher's cancel is administrative; the run's record is its
        // runner's.
        f.lock.cancel();
        log.info("cancelled {}", f.uuid);
      }
    } catch (LostOwnershipException | IllegalStateException e) {
      log.info("{} moved to another epoch meanwhile; leaving it", f.uuid);
    } catch (ArvadosException e) {
      log.warn("cleaning up {} after its job disappeared failed: {}", f.uuid, e.getMessage());
    }
  }

  /**
   * After the runner finished the container, its job only has to exit: waits for a snapshot without
   * it, for at most {@link #FINISH_GRACE_POLLS} polls, so that a finished job is not signalled.
   */
  private boolean leavesOnItsOwn(Followed f) throws InterruptedException {
    long deadline =
        System.nanoTime() + options.pollInterval().multipliedBy(FINISH_GRACE_POLLS).toNanos();
    long seen = seqNow();
    while (true) {
      Slurm.Snapshot s =
          awaitSnapshot(seen, null, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      if (s == null) {
        return false;
      }
      seen = s.seq();
      if (s.job(f.jobId) == null && s.startedAfter(f.submittedNanos)) {
        return true;
      }
    }
  }

  /**
   * Cancels the job and repeats on each snapshot that still shows it, up to {@code cancelTimeout}.
   */
  private void cancelUntilGone(Followed f) throws InterruptedException {
    long deadline = System.nanoTime() + options.cancelTimeout().toNanos();
    while (true) {
      long before = System.nanoTime();
      cancelQuietly(f, false);
      Slurm.Snapshot s;
      do {
        s =
            awaitSnapshot(
                seqNow(), null, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      } while (s != null && !s.startedAfter(before));
      if (s == null) {
        if (!isClosing()) {
          log.warn(
              "Slurm job {} of {} is still listed {} after scancel; giving up",
              f.jobId,
              f.uuid,
              Durations.format(options.cancelTimeout()));
        }
        return;
      }
      if (s.job(f.jobId) == null) {
        return;
      }
    }
  }

  private void cancelQuietly(Followed f, boolean pendingOnly) {
    try {
      slurm.cancel(f.uuid, f.jobId, pendingOnly);
      cancels.incrementAndGet();
      log.info("cancelled Slurm job {} of {} ({})", f.jobId, f.uuid, f.signal.reason());
    } catch (SlurmException e) {
      log.warn("{}", e.getMessage());
    }
  }

  // ---- snapshots ----

  private boolean isClosing() {
    synchronized (snapshots) {
      return closing;
    }
  }

  private long seqNow() {
    synchronized (snapshots) {
      return latest == null ? 0 : latest.seq();
    }
  }

  private void publish(Slurm.Snapshot s) {
    synchronized (snapshots) {
      latest = s;
      snapshots.notifyAll();
    }
  }

  private void wakeWaiters() {
    synchronized (snapshots) {
      snapshots.notifyAll();
    }
  }

  /**
   * The first snapshot newer than {@code afterSeq}; null if {@code signal} fired first, on timeout
   * or when closing.
   */
  private Slurm.@Nullable Snapshot awaitSnapshot(
      long afterSeq, @Nullable CancellationSignal signal, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (snapshots) {
      while (true) {
        if (closing || (signal != null && signal.isCancelled())) {
          return null;
        }
        if (latest != null && latest.seq() > afterSeq) {
          return latest;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        TimeUnit.NANOSECONDS.timedWait(snapshots, left);
      }
    }
  }

  /**
   * One poll: squeue, then priorities (and, for adopted jobs, the epoch) of the followed
   * containers.
   */
  private void tick() {
    Slurm.Snapshot s;
    try {
      s = slurm.squeue(seq.incrementAndGet());
    } catch (SlurmException e) {
      squeueFailures.incrementAndGet();
      log.warn("{}; no job is judged on this poll", e.getMessage());
      return;
    } catch (RuntimeException e) {
      squeueFailures.incrementAndGet();
      log.warn("squeue poll failed: {}", e.toString());
      return;
    }
    publish(s);
    try {
      refreshContainers(s);
    } catch (ArvadosException e) {
      log.warn("reading the followed containers failed: {}", e.getMessage());
    } catch (RuntimeException e) {
      log.warn("priority update failed: {}", e.toString());
    }
  }

  private void refreshContainers(Slurm.Snapshot s) {
    List<String> uuids = new ArrayList<>(followed.keySet());
    for (Container c : read(uuids)) {
      Followed f = followed.get(c.uuid());
      if (f == null) {
        continue;
      }
      if (f.adopted) {
        StopReason why = adoptedStop(f, c);
        if (why != null && f.source != null) {
          f.source.cancel(why);
          continue;
        }
      }
      long p = c.priority() == null ? 0 : c.priority();
      f.priority = p;
      Slurm.Job j = s.job(f.jobId);
      if (p > 0 && j != null && j.nice() != Slurm.nice(p) && !f.signal.isCancelled()) {
        try {
          slurm.setNice(f.uuid, Slurm.nice(p));
          renices.incrementAndGet();
          log.info("priority of {} is {}: nice {} -> {}", f.uuid, p, j.nice(), Slurm.nice(p));
        } catch (SlurmException e) {
          log.warn("{}", e.getMessage());
        }
      }
    }
  }

  /** The SDK watches the containers it runs; adopted ones are watched here. */
  private static @Nullable StopReason adoptedStop(Followed f, Container c) {
    ContainerState st = c.state();
    if (st == ContainerState.COMPLETE) {
      return StopReason.FINISHED;
    } else if (st == ContainerState.CANCELLED) {
      return StopReason.CANCELLED;
    } else if (st == ContainerState.QUEUED) {
      return StopReason.UNLOCKED;
    } else if (!f.epoch.equals(epochOf(c))) {
      return StopReason.RELOCKED;
    } else if (c.priority() != null && c.priority() == 0) {
      return StopReason.PRIORITY_ZERO;
    }
    return null;
  }

  private List<Container> read(List<String> uuids) {
    List<Container> out = new ArrayList<>();
    for (int i = 0; i < uuids.size(); i += UUID_BATCH) {
      List<String> batch = uuids.subList(i, Math.min(uuids.size(), i + UUID_BATCH));
      ContainerQuery q =
          ContainerQuery.builder()
              .filter("uuid", "in", batch)
              .pageSize(UUID_BATCH)
              .select("uuid", "state", "priority", "auth_uuid", "locked_by_uuid", "lock_count")
              .build();
      try (Stream<Container> st = client.containers().list(q)) {
        st.forEach(out::add);
      }
    }
    return out;
  }

  // ---- start-up: stale jobs and adoption ----

  private void recover(Slurm.Snapshot s) {
    Map<String, List<Slurm.Job>> byName = Slurm.byName(s);
    byName.keySet().removeIf(name -> !Slurm.isContainerUuid(name));
    if (byName.isEmpty()) {
      return;
    }
    String me = client.tokenUuid();
    Map<String, Container> containers = new HashMap<>();
    for (Container c : read(new ArrayList<>(byName.keySet()))) {
      containers.put(c.uuid(), c);
    }
    for (Map.Entry<String, List<Slurm.Job>> e : byName.entrySet()) {
      Container c = containers.get(e.getKey());
      if (c == null) {
        continue; // not a container of this cluster (or not readable): not ours to judge
      }
      for (Slurm.Job j : e.getValue()) {
        boolean live = c.state() == ContainerState.LOCKED || c.state() == ContainerState.RUNNING;
        if (!live || !j.epoch().equals(epochOf(c))) {
          String why =
              live
                  ? "its container is locked in another epoch"
                  : "its container is " + c.state().wireName();
          log.info("cancelling Slurm job {} of {}: {}", j.id(), c.uuid(), why);
          try {
            slurm.cancel(c.uuid(), j.id(), false);
            orphansCancelled.incrementAndGet();
          } catch (SlurmException ex) {
            log.warn("{}", ex.getMessage());
          }
        } else if (Objects.equals(me, c.lockedByUuid())) {
          adopt(c, j, s);
        }
      }
    }
  }

  private void adopt(Container c, Slurm.Job j, Slurm.Snapshot s) {
    if (followed.containsKey(c.uuid())) {
      return;
    }
    ContainerLock lock =
        client
            .containers()
            .resume(LockEpoch.of(c.uuid(), c.authUuid(), c.lockedByUuid(), c.lockCount()));
    CancellationSource source = new CancellationSource();
    Followed f =
        new Followed(
            c.uuid(),
            epochOf(c),
            lock,
            source.signal(),
            source,
            c.priority() == null ? 0 : c.priority());
    f.jobId = j.id();
    f.submittedNanos = s.startedNanos() - 1; // seen in s: any later snapshot may show it gone
    f.seenRunning = j.running();
    followed.put(c.uuid(), f);
    adoptedCount.incrementAndGet();
    log.info(
        "adopting Slurm job {} of {} ({} in its epoch)", j.id(), c.uuid(), c.state().wireName());
    adoptedPool.execute(
        () -> {
          try {
            Ending end = follow(f);
            if (end == Ending.GONE) {
              jobGone(f);
            } else if (f.signal.reason() == StopReason.FINISHED && leavesOnItsOwn(f)) {
              log.debug(
                  "adopted Slurm job {} of {} ended after its runner finished the container",
                  f.jobId,
                  f.uuid);
            } else if (f.signal.reason() != StopReason.SHUTDOWN) {
              cancelUntilGone(f);
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            followed.remove(f.uuid, f);
          }
        });
  }

  // ---- life cycle ----

  /**
   * Waits until the SDK dispatcher is idle and no adopted job is followed.
   *
   * @return false on timeout
   */
  boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (dispatcher.awaitIdle(Duration.ofMillis(200))
          && followed.isEmpty()
          && dispatcher.isIdle()) {
        return true;
      }
      Thread.sleep(50);
    }
    return false;
  }

  /**
   * @return the SDK dispatcher, for its statistics
   */
  Dispatcher dispatcher() {
    return dispatcher;
  }

  /**
   * @return counters of the Slurm side, for logs and tests
   */
  Map<String, Long> slurmStats() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("submitted", submitted.get());
    m.put("gone", gone.get());
    m.put("cancels", cancels.get());
    m.put("renices", renices.get());
    m.put("adopted", adoptedCount.get());
    m.put("orphansCancelled", orphansCancelled.get());
    m.put("squeueFailures", squeueFailures.get());
    return m;
  }

  /**
   * Stops locking and tells every run to stop (see the class comment for what happens to its job);
   * jobs that are running keep running. Does not close the client. Idempotent.
   */
  @Override
  public void close() {
    dispatcher.close(); // its runs still get snapshots while they stop
    for (Followed f : followed.values()) {
      if (f.source != null) {
        f.source.cancel(StopReason.SHUTDOWN); // the runs got theirs from dispatcher.close()
      }
    }
    synchronized (snapshots) {
      closing = true;
      snapshots.notifyAll();
    }
    adoptedPool.shutdown();
    poller.shutdownNow();
    try {
      adoptedPool.awaitTermination(10, TimeUnit.SECONDS);
      poller.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.crunchguard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosException;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.RetryPolicy;
import dev.crunchguard.StopReason;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ArvadosSimulatorExtension;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultKind;
import dev.crunchguard.testkit.FaultRule;
import dev.crunchguard.testkit.LeakCheckExtension;
import dev.crunchguard.testkit.RandomFaults;
import dev.crunchguard.testkit.RivalWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DispatcherTest {
  static final String TOKEN = "dispatchtoken0123456789abcdef";
  static final String SECOND_DISPATCHER_TOKEN = "seconddispatchtoken987654321";

  @RegisterExtension
  static final ArvadosSimulatorExtension SIMULATOR =
      new ArvadosSimulatorExtension(
              () ->
                  ArvadosSimulator.builder()
                      .adminToken(TOKEN)
                      .adminToken(SECOND_DISPATCHER_TOKEN)
                      .maxDispatchAttempts(3))
          .perMethod();

  /** A closed dispatcher leaves no poll or runner thread, and no request in flight. */
  @RegisterExtension final LeakCheckExtension leaks = new LeakCheckExtension();

  ArvadosSimulator sim;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start(ArvadosSimulator sim) {
    this.sim = leaks.watch(sim);
  }

  @AfterEach
  void stop() throws Exception {
    Collections.reverse(closeables);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  ArvadosClient client(String token) {
    ArvadosClient c =
        ArvadosClient.builder()
            .baseUrl(sim.baseUrl())
            .token(token)
            .retryPolicy(
                RetryPolicy.builder()
                    .initialBackoff(Duration.ofMillis(5))
                    .maxBackoff(Duration.ofMillis(50))
                    .build())
            .build();
    closeables.add(c);
    return c;
  }

  Dispatcher.Builder dispatcher(String token, ContainerRunner runner) {
    return Dispatcher.builder(client(token), runner)
        .pollInterval(Duration.ofMillis(50))
        .lockRetryInterval(Duration.ofMillis(200))
        .shutdownTimeout(Duration.ofSeconds(5));
  }

  Dispatcher track(Dispatcher d) {
    closeables.add(d);
    return d;
  }

  static void await(BooleanSupplier cond, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  /** A runner that completes its container at once. */
  static final ContainerRunner COMPLETE =
      ctx -> {
        ctx.lock().markRunning();
        ctx.lock().complete(0, null);
      };

  @Test
  void locksHighestPriorityFirst_andRunsEachOnce() throws Exception {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    String low = sim.createContainer(ContainerSpec.builder().priority(1).build());
    String high = sim.createContainer(ContainerSpec.builder().priority(900).build());
    String mid = sim.createContainer(ContainerSpec.builder().priority(50).build());
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      order.add(ctx.containerUuid());
                      COMPLETE.run(ctx);
                    })
                .maxConcurrentRuns(1)
                .build());

    for (int i = 0; i < 3; i++) {
      d.pollOnce();
      await(() -> d.stats().active() == 0, "run to finish");
    }

    assertThat(order).containsExactly(high, mid, low);
    assertThat(sim.containers()).allSatisfy(c -> assertThat(c.state()).isEqualTo("Complete"));
    assertThat(d.stats().locksWon()).isEqualTo(3);
    sim.checkSafety().assertSafe();
  }

  @Test
  void lockAttempts_runInParallel_butAtMostFourAtOnce() throws Exception {
    for (int i = 0; i < 12; i++) {
      sim.createContainer(ContainerSpec.builder().priority(1 + i).build());
    }
    // Every lock is held back in the server, so the attempts of one poll overlap.
    sim.faults()
        .add(
            FaultRule.of(FaultKind.DELAY)
                .on(Endpoint.LOCK)
                .always()
                .delay(Duration.ofMillis(150))
                .build());
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger inFlight =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger most =
        new java.util.concurrent.atomic.AtomicInteger();
    // The dispatcher's own view: an attempt starts at lockAttempted and ends at its outcome.
    DispatchListener counting =
        new DispatchListener() {
          @Override
          public void lockAttempted(String uuid) {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          }

          @Override
          public void lockWon(ContainerLock lock) {
            inFlight.decrementAndGet();
          }

          @Override
          public void lockConflict(String uuid) {
            inFlight.decrementAndGet();
          }

          @Override
          public void lockFailed(String uuid, ArvadosException failure) {
            inFlight.decrementAndGet();
          }
        };
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      release.await();
                      COMPLETE.run(ctx);
                    })
                .maxConcurrentRuns(12)
                .listener(counting)
                .build());
    try {
      d.pollOnce();
    } finally {
      release.countDown();
    }

    assertThat(d.stats().locksWon()).isEqualTo(12);
    // At once: more than one attempt (parallel), never more than four.
    assertThat(most.get()).isBetween(2, 4);
    await(() -> d.stats().active() == 0, "runs to finish");
    sim.checkSafety().assertSafe();
  }

  @Test
  void onePollLocksTheWholeBacklog_althoughEachLockShiftsTheQueuesOffsets() throws Exception {
    // 250 Queued containers, pages of 20: plain offset paging would skip as many containers as
    // each page had just locked, and one poll would lock only about half of them.
    for (int i = 0; i < 250; i++) {
      sim.createContainer(ContainerSpec.builder().priority(1 + i % 7).build());
    }
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      release.await();
                      COMPLETE.run(ctx);
                    })
                .maxConcurrentRuns(300)
                .pageSize(20)
                .build());
    try {
      d.pollOnce();
      assertThat(sim.containers()).allSatisfy(c -> assertThat(c.state()).isEqualTo("Locked"));
      assertThat(d.stats().locksWon()).isEqualTo(250);
      // One list request per page, plus the last, short one: no listing of the whole queue per
      // lock.
      assertThat(sim.requestCount(Endpoint.LIST)).isLessThanOrEqualTo(250 / 20 + 3);
    } finally {
      release.countDown();
    }
    await(() -> d.stats().active() == 0, "runs to finish");
    sim.checkSafety().assertSafe();
  }

  @Test
  void queuedContainerAtPriorityZero_isNotLocked() {
    String zero = sim.createContainer(ContainerSpec.builder().priority(0).build());
    Dispatcher d = track(dispatcher(TOKEN, COMPLETE).build());
    d.pollOnce();
    assertThat(sim.container(zero).state()).isEqualTo("Queued");
    assertThat(d.stats().lockAttempts()).isZero();
    assertThat(d.isIdle()).isTrue();
  }

  @Test
  void lockConflict_isCountedAndReported_notFatal() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    List<String> conflicts = new ArrayList<>();
    Dispatcher slow =
        track(
            dispatcher(SECOND_DISPATCHER_TOKEN, COMPLETE)
                .listener(
                    new DispatchListener() {
                      @Override
                      public void lockConflict(String containerUuid) {
                        conflicts.add(containerUuid);
                      }
                    })
                .build());
    Dispatcher fast =
        track(dispatcher(TOKEN, ctx -> ctx.cancellation().await(Duration.ofSeconds(5))).build());
    // the slow dispatcher's lock request is held back in the server long enough for the fast one to
    // lock first
    sim.faults()
        .add(
            FaultRule.of(FaultKind.DELAY)
                .on(Endpoint.LOCK)
                .container(uuid)
                .times(1)
                .delay(Duration.ofMillis(500))
                .build());

    Thread t = new Thread(slow::pollOnce);
    t.start();
    await(() -> sim.requestCount(Endpoint.LOCK, uuid) == 1, "the slow lock request to arrive");
    fast.pollOnce();
    t.join();

    assertThat(fast.stats().locksWon()).isEqualTo(1);
    assertThat(slow.stats().lockConflicts()).isEqualTo(1);
    assertThat(slow.stats().locksWon()).isZero();
    assertThat(slow.stats().pollFailures()).isZero();
    assertThat(conflicts).containsExactly(uuid);
  }

  @Test
  void relockBySameToken_signalsRunnerToStop_andLeavesNewEpochAlone() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    AtomicReference<StopReason> reason = new AtomicReference<>();
    CountDownLatch running = new CountDownLatch(1);
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      running.countDown();
                      ctx.cancellation().await(Duration.ofSeconds(10));
                      reason.set(ctx.cancellation().reason());
                    })
                .build());
    d.pollOnce();
    assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();

    // another process that shares the token requeues and re-locks it: locked_by_uuid does not
    // change
    ArvadosClient sameToken = client(TOKEN);
    sameToken.containers().unlock(uuid);
    ContainerLock newEpoch = sameToken.containers().lock(uuid);
    d.pollOnce();
    await(() -> reason.get() != null, "the stop signal");

    assertThat(reason.get()).isEqualTo(StopReason.RELOCKED);
    assertThat(d.stats().relocksDetected()).isEqualTo(1);
    await(() -> d.stats().active() == 0, "run to finish");
    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    assertThat(sim.container(uuid).authUuid()).isEqualTo(newEpoch.authUuid());
  }

  @Test
  void cancelledContainer_signalsRunner() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    AtomicReference<StopReason> reason = new AtomicReference<>();
    CountDownLatch running = new CountDownLatch(1);
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      ctx.lock().markRunning();
                      running.countDown();
                      ctx.cancellation().await(Duration.ofSeconds(10));
                      reason.set(ctx.cancellation().reason());
                    })
                .build());
    d.pollOnce();
    assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
    try (RivalWriter otherAdmin = RivalWriter.forSimulator(sim, SECOND_DISPATCHER_TOKEN)) {
      assertThat(otherAdmin.cancel(uuid).status()).isEqualTo(200); // a non-holder admin cancels
    }

    d.pollOnce();
    await(() -> reason.get() != null, "the stop signal");
    assertThat(reason.get()).isEqualTo(StopReason.CANCELLED);
  }

  @Test
  void priorityZero_signalsRunner_andUnlocksWhatNeverStarted() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    AtomicReference<StopReason> reason = new AtomicReference<>();
    CountDownLatch started = new CountDownLatch(1);
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      started.countDown();
                      ctx.cancellation().await(Duration.ofSeconds(10));
                      reason.set(ctx.cancellation().reason());
                    })
                .build());
    d.pollOnce();
    assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();

    sim.setPriority(uuid, 0);
    d.pollOnce();
    await(() -> d.stats().active() == 0, "run to finish");

    assertThat(reason.get()).isEqualTo(StopReason.PRIORITY_ZERO);
    assertThat(sim.container(uuid).state()).isEqualTo("Queued");
    assertThat(d.stats().unlocks()).isEqualTo(1);
  }

  @Test
  void runnerFailingBeforeRunning_isUnlocked_andBackedOff() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      throw new IllegalStateException("node broke");
                    })
                .lockRetryInterval(Duration.ofSeconds(30))
                .build());

    d.pollOnce();
    await(() -> d.stats().active() == 0, "run to finish");
    assertThat(sim.container(uuid).state()).isEqualTo("Queued");
    assertThat(sim.container(uuid).lockCount()).isEqualTo(1);

    d.pollOnce();
    d.pollOnce();
    assertThat(sim.container(uuid).lockCount()).as("backed off: no lock/unlock loop").isEqualTo(1);
    assertThat(d.stats().runnersFailed()).isEqualTo(1);
    assertThat(d.stats().unlocks()).isEqualTo(1);
  }

  @Test
  void containerThatKeepsFailing_isLeftForMaxDispatchAttemptsToCancel() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    AtomicInteger runs = new AtomicInteger();
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      runs.incrementAndGet();
                      throw new IllegalStateException("always fails");
                    })
                .lockRetryInterval(Duration.ofMillis(20))
                .maxFailureBackoff(Duration.ofMillis(80))
                .build());
    d.start();

    await(() -> sim.container(uuid).state().equals("Cancelled"), "the server to cancel it");
    assertThat(sim.container(uuid).lockCount()).isEqualTo(3);
    assertThat(runs.get()).isEqualTo(3);
    assertThat(sim.container(uuid).runtimeStatusJson()).contains("MaxDispatchAttempts");
  }

  @Test
  void runnerReturningWhileRunning_getsContainerCancelled() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    Dispatcher d = track(dispatcher(TOKEN, ctx -> ctx.lock().markRunning()).build());
    d.pollOnce();
    await(() -> d.stats().active() == 0, "run to finish");
    assertThat(sim.container(uuid).state()).isEqualTo("Cancelled");
    assertThat(sim.container(uuid).runtimeStatusJson()).contains("runner exited");
  }

  @Test
  void untrackedLockOfItsToken_isUnlocked_onlyAfterStayingLockedInOneEpochForTheOrphanGrace()
      throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock leftover = client(TOKEN).containers().lock(uuid);
    List<String> seenEpochs = Collections.synchronizedList(new ArrayList<>());
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      seenEpochs.add(ctx.lock().authUuid());
                      COMPLETE.run(ctx);
                    })
                .orphanGrace(Duration.ofMillis(300))
                .build());

    d.pollOnce();
    assertThat(sim.container(uuid).state()).as("within the grace").isEqualTo("Locked");
    assertThat(d.stats().unlocks()).isZero();
    Thread.sleep(350);
    d.pollOnce();
    d.pollOnce();
    await(
        () -> d.stats().active() == 0 && sim.container(uuid).state().equals("Complete"),
        "run to finish");

    assertThat(d.stats().unlocks()).isEqualTo(1);
    assertThat(seenEpochs).hasSize(1).doesNotContain(leftover.authUuid());
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
    assertThat(sim.container(uuid).lockCount()).isEqualTo(2);
  }

  @Test
  void startupRecovery_adopt_handsLeftoverLockToRunner() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock leftover = client(TOKEN).containers().lock(uuid);
    List<String> seenEpochs = Collections.synchronizedList(new ArrayList<>());
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      seenEpochs.add(ctx.lock().authUuid());
                      COMPLETE.run(ctx);
                    })
                .recoveryPolicy(RecoveryPolicy.ADOPT)
                .build());

    d.pollOnce();
    await(() -> d.stats().active() == 0, "run to finish");

    assertThat(seenEpochs).containsExactly(leftover.authUuid());
    assertThat(sim.container(uuid).lockCount()).isEqualTo(1);
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
  }

  @Test
  void orphanSweep_forgetsAContainer_whoseEpochMovesOnWithinTheGrace() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ArvadosClient other = client(TOKEN);
    ContainerLock first = other.containers().lock(uuid);
    Dispatcher d = track(dispatcher(TOKEN, COMPLETE).orphanGrace(Duration.ofMillis(300)).build());
    d.pollOnce(); // start-up: epoch 1 may be this dispatcher's (an earlier run of it)
    first.unlock();
    ContainerLock second =
        other.containers().lock(uuid); // a sibling's new lock, taken after start-up
    Thread.sleep(350);
    d.pollOnce();
    d.pollOnce();

    assertThat(sim.container(uuid).authUuid()).isEqualTo(second.authUuid());
    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    assertThat(d.stats().unlocks()).isZero();
  }

  @Test
  void lockWhoseAnswerWasLost_isNeverRun_andIsUnlockedAfterTheGrace_thenRunOnceInANewEpoch()
      throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    sim.faults()
        .add(
            FaultRule.of(FaultKind.LOST_RESPONSE)
                .on(Endpoint.LOCK)
                .container(uuid)
                .times(1)
                .build());
    List<String> seenEpochs = Collections.synchronizedList(new ArrayList<>());
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      seenEpochs.add(ctx.lock().authUuid());
                      COMPLETE.run(ctx);
                    })
                .orphanGrace(Duration.ofMillis(300))
                .build());

    d.pollOnce();
    String lostEpoch = sim.container(uuid).authUuid();
    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    assertThat(d.stats().lockConflicts()).isEqualTo(1);
    assertThat(seenEpochs).isEmpty();

    d.start();
    await(() -> sim.container(uuid).state().equals("Complete"), "the container to complete");
    assertThat(seenEpochs).hasSize(1).doesNotContain(lostEpoch);
    assertThat(sim.container(uuid).lockCount())
        .as("one attempt burned by the ambiguous lock")
        .isEqualTo(2);
    sim.checkSafety().assertSafe();
  }

  @Test
  void runnerThatNeverStarted_isNoReasonToCancel_aContainerRunningInItsEpoch() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ArvadosClient sibling = client(TOKEN);
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      // Someone else (a sibling that also holds this epoch) moves it to Running;
                      // this run refuses.
                      sibling.containers().resume(ctx.lock().epoch()).markRunning();
                      throw new IllegalStateException("refusing to start: Running, not Locked");
                    })
                .build());

    d.pollOnce();
    await(() -> d.stats().active() == 0, "run to finish");

    assertThat(sim.container(uuid).state()).isEqualTo("Running");
  }

  @Test
  void runnerThatReportedItsStart_getsItsAbandonedRunningContainerCancelled() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ArvadosClient runnerProcess = client(TOKEN);
    Dispatcher d =
        track(
            dispatcher(
                    TOKEN,
                    ctx -> {
                      ctx.reportStarted();
                      runnerProcess.containers().resume(ctx.lock().epoch()).markRunning();
                      throw new IllegalStateException("runner process crashed");
                    })
                .build());

    d.pollOnce();
    await(
        () -> d.stats().active() == 0 && sim.container(uuid).state().equals("Cancelled"),
        "the cancel");
  }

  @Test
  void locksOfSameTokenTakenAfterStartUp_byASibling_areLeftToTheirOwner() throws Exception {
    Dispatcher d = track(dispatcher(TOKEN, COMPLETE).orphanGrace(Duration.ofMillis(100)).build());
    d.pollOnce();
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock othersLock = client(TOKEN).containers().lock(uuid);

    d.pollOnce();
    Thread.sleep(150);
    d.pollOnce();

    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    assertThat(sim.container(uuid).authUuid()).isEqualTo(othersLock.authUuid());
    assertThat(d.stats().unlocks()).isZero();
  }

  @Test
  void gracefulShutdown_signalsRunners_andUnlocksWhatNeverStarted() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    AtomicReference<StopReason> reason = new AtomicReference<>();
    CountDownLatch started = new CountDownLatch(1);
    Dispatcher d =
        dispatcher(
                TOKEN,
                ctx -> {
                  started.countDown();
                  ctx.cancellation().await(Duration.ofSeconds(10));
                  reason.set(ctx.cancellation().reason());
                })
            .build();
    d.start();
    assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();

    d.close();

    assertThat(reason.get()).isEqualTo(StopReason.SHUTDOWN);
    assertThat(sim.container(uuid).state()).isEqualTo("Queued");
    assertThat(d.stats().active()).isZero();
  }

  @Test
  void runnerThatIgnoresShutdown_isInterrupted_andItsContainerUnlocked() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    CountDownLatch started = new CountDownLatch(1);
    Dispatcher d =
        dispatcher(
                TOKEN,
                ctx -> {
                  started.countDown();
                  Thread.sleep(60_000);
                })
            .shutdownTimeout(Duration.ofMillis(200))
            .build();
    d.start();
    assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();

    d.close();

    assertThat(sim.container(uuid).state()).isEqualTo("Queued");
  }

  @Test
  void listenerExceptions_doNotStopTheDispatcher() throws Exception {
    sim.createContainer(ContainerSpec.builder().build());
    Dispatcher d =
        track(
            dispatcher(TOKEN, COMPLETE)
                .listener(
                    new DispatchListener() {
                      @Override
                      public void lockWon(ContainerLock lock) {
                        throw new IllegalStateException("metrics backend down");
                      }
                    })
                .build());
    d.pollOnce();
    await(() -> d.stats().active() == 0, "run to finish");
    assertThat(sim.containers()).allSatisfy(c -> assertThat(c.state()).isEqualTo("Complete"));
  }

  @Test
  void awaitIdle_returnsOnceQueueIsDrained() throws Exception {
    for (int i = 0; i < 5; i++) {
      sim.createContainer(ContainerSpec.builder().build());
    }
    Dispatcher d = track(dispatcher(TOKEN, COMPLETE).maxConcurrentRuns(2).build());
    d.start();
    assertThat(d.awaitIdle(Duration.ofSeconds(20))).isTrue();
    assertThat(sim.containers()).allSatisfy(c -> assertThat(c.state()).isEqualTo("Complete"));
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "shared token: {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void racingDispatchersUnderFaults_runEachContainerInOneEpochOnly(boolean sharedToken)
      throws Exception {
    long seed = System.nanoTime();
    System.out.println("racingDispatchersUnderFaults seed=" + seed);
    int n = 60;
    for (int i = 0; i < n; i++) {
      sim.createContainer(ContainerSpec.builder().priority(1 + i % 7).build());
    }
    sim.faults()
        .random(
            RandomFaults.seed(seed)
                .on(Endpoint.LOCK, Endpoint.UPDATE, Endpoint.LIST, Endpoint.GET, Endpoint.UNLOCK)
                .rate(FaultKind.LOST_RESPONSE, 0.03)
                .rate(FaultKind.SERVICE_UNAVAILABLE, 0.03)
                .rate(FaultKind.DELAY, 0.05)
                .delay(Duration.ofMillis(5))
                .build());
    ConcurrentHashMap<String, AtomicInteger> completions = new ConcurrentHashMap<>();
    ContainerRunner runner =
        ctx -> {
          ctx.lock().markRunning();
          Thread.sleep(5);
          ctx.lock().complete(0, null);
          completions
              .computeIfAbsent(ctx.containerUuid(), k -> new AtomicInteger())
              .incrementAndGet();
        };
    Dispatcher a =
        track(
            dispatcher(TOKEN, runner)
                .maxConcurrentRuns(4)
                .lockRetryInterval(Duration.ofMillis(20))
                .orphanGrace(Duration.ofSeconds(1))
                .build());
    Dispatcher b =
        track(
            dispatcher(sharedToken ? TOKEN : SECOND_DISPATCHER_TOKEN, runner)
                .maxConcurrentRuns(4)
                .lockRetryInterval(Duration.ofMillis(20))
                .orphanGrace(Duration.ofSeconds(1))
                .build());
    a.start();
    b.start();

    await(
        () ->
            sim.containers().stream()
                .allMatch(c -> c.state().equals("Complete") || c.state().equals("Cancelled")),
        "every container to be final (seed " + seed + ")");
    // A runner counts its completion after the server accepted it: wait for the runs to end too.
    await(
        () -> a.stats().active() == 0 && b.stats().active() == 0,
        "the runs to end (seed " + seed + ")");

    sim.checkSafety().assertSafe();
    assertThat(completions.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
    // Every Complete container was run from a won lock. A container may also end Cancelled without
    // one: lost lock answers and their orphan sweeps use up attempts, and the server cancels at
    // MaxDispatchAttempts (3 here), never the dispatchers.
    long complete = sim.containers().stream().filter(c -> c.state().equals("Complete")).count();
    assertThat(a.stats().locksWon() + b.stats().locksWon()).isGreaterThanOrEqualTo(complete);
    assertThat(completions).hasSize((int) complete);
    assertThat(sim.containers())
        .filteredOn(c -> c.state().equals("Cancelled"))
        .allSatisfy(c -> assertThat(c.lockCount()).as(c.uuid()).isGreaterThanOrEqualTo(3));
  }
}

package dev.crunchguard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.StopReason;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.RivalWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher with events (its default) against the simulator's event stream. Most tests use a
 * periodic poll of an hour, so that only events can explain a prompt lock.
 */
class DispatcherEventsTest {
  static final String TOKEN = "events-dispatch-token-0123456789";
  static final String OTHER = "events-other-admin-token-987654";
  static final Duration NEVER = Duration.ofHours(1);

  ArvadosSimulator sim;
  final List<AutoCloseable> closeables = new ArrayList<>();
  final CountDownLatch release = new CountDownLatch(1);
  final List<String> streamChanges = Collections.synchronizedList(new ArrayList<>());

  /** Holds its container Running until the test releases it, then completes it. */
  final ContainerRunner holding =
      ctx -> {
        ctx.lock().markRunning();
        if (release.await(20, TimeUnit.SECONDS) && !ctx.cancellation().isCancelled()) {
          ctx.lock().complete(0, null);
        }
      };

  static final ContainerRunner COMPLETE =
      ctx -> {
        ctx.lock().markRunning();
        ctx.lock().complete(0, null);
      };

  @AfterEach
  void stop() throws Exception {
    release.countDown();
    Collections.reverse(closeables);
    for (AutoCloseable c : closeables) {
      c.close();
    }
    if (sim != null) {
      sim.close();
    }
  }

  void startSim(boolean events) {
    sim =
        ArvadosSimulator.builder()
            .adminToken(TOKEN)
            .adminToken(OTHER)
            .events(events)
            .recordHistory(false)
            .build()
            .start();
  }

  Dispatcher dispatcher(Duration pollInterval, ContainerRunner runner, int concurrency) {
    ArvadosClient client = ArvadosClient.builder().baseUrl(sim.baseUrl()).token(TOKEN).build();
    closeables.add(client);
    Dispatcher d =
        Dispatcher.builder(client, runner) // events are on by default
            .pollInterval(pollInterval)
            .maxConcurrentRuns(concurrency)
            .shutdownTimeout(Duration.ofSeconds(5))
            .listener(
                new DispatchListener() {
                  @Override
                  public void eventStreamChanged(EventStreamStatus status, String reason) {
                    streamChanges.add(status.name());
                  }
                })
            .build();
    closeables.add(d);
    return d;
  }

  static void await(BooleanSupplier cond, Duration limit, String what) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + limit + " waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  /** Started, connected, and the polls of the start-up (first poll, subscription gap) are done. */
  void startAndSettle(Dispatcher d) throws InterruptedException {
    d.start();
    await(() -> d.stats().eventStream() == EventStreamStatus.UP, Duration.ofSeconds(10), "UP");
    await(() -> d.stats().polls() >= 2, Duration.ofSeconds(10), "the start-up polls");
    Thread.sleep(100);
  }

  String state(String uuid) {
    return sim.container(uuid).state();
  }

  @Test
  void aNewQueuedContainer_isLockedOnItsEvent_withoutWaitingForThePeriodicPoll() throws Exception {
    startSim(true);
    Dispatcher d = dispatcher(NEVER, holding, 4);
    startAndSettle(d);
    long polls = d.stats().polls();
    sim.resetRequestCounts();

    long t0 = System.nanoTime();
    String uuid = sim.createContainer();
    await(() -> !state(uuid).equals("Queued"), Duration.ofSeconds(5), "the lock");
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(took).isLessThan(Duration.ofSeconds(2));
    assertThat(sim.container(uuid).lockedByUuid()).isEqualTo(sim.tokenUuid(TOKEN));
    assertThat(d.stats().eventPolls()).isGreaterThanOrEqualTo(1);
    await(() -> d.stats().polls() > polls, Duration.ofSeconds(2), "the triggered poll's end");
    await(() -> state(uuid).equals("Running"), Duration.ofSeconds(5), "Running");
    Thread.sleep(200); // its own Locked and Running events trigger nothing
    // The event names the container: it is locked directly, with no list; then the runner's
    // Running. The runner never asked for the record, so nothing read it.
    assertThat(sim.requestCounts())
        .containsEntry("containers.lock", 1L)
        .containsEntry("containers.update", 1L)
        .hasSize(2);
    assertThat(streamChanges).containsExactly("UP");
  }

  @Test
  void aContainerLockedFromItsEvent_givesTheRunnerItsFullRecord_readOnFirstUse() throws Exception {
    startSim(true);
    List<List<String>> commands = Collections.synchronizedList(new ArrayList<>());
    Dispatcher d =
        dispatcher(
            NEVER,
            ctx -> {
              commands.add(ctx.container().command());
              commands.add(ctx.container().command()); // the second call reads nothing
              ctx.lock().markRunning();
              ctx.lock().complete(0, null);
            },
            2);
    startAndSettle(d);
    sim.resetRequestCounts();

    String uuid =
        sim.createContainer(
            ContainerSpec.builder().command(List.of("echo", "from-the-record")).build());
    await(() -> state(uuid).equals("Complete"), Duration.ofSeconds(5), "Complete");
    Thread.sleep(200); // its own Complete event reads nothing either

    assertThat(commands)
        .containsExactly(List.of("echo", "from-the-record"), List.of("echo", "from-the-record"));
    assertThat(sim.requestCounts())
        .containsEntry("containers.lock", 1L)
        .containsEntry("containers.get", 1L)
        .containsEntry("containers.update", 2L)
        .hasSize(3);
  }

  @Test
  void moreNamedContainersThanFreeCapacity_areTakenFromTheQueueInPriorityOrder() throws Exception {
    startSim(true);
    ArvadosClient client = ArvadosClient.builder().baseUrl(sim.baseUrl()).token(TOKEN).build();
    closeables.add(client);
    Dispatcher d =
        Dispatcher.builder(client, holding)
            .events(true)
            .pollInterval(NEVER)
            .maxConcurrentRuns(2)
            .eventPollDelay(Duration.ofMillis(400)) // all five events fall in one window
            .shutdownTimeout(Duration.ofSeconds(5))
            .build();
    closeables.add(d);
    startAndSettle(d);
    sim.resetRequestCounts();

    List<String> uuids = new ArrayList<>();
    for (long priority : new long[] {3, 9, 1, 7, 5}) {
      uuids.add(sim.createContainer(ContainerSpec.builder().priority(priority).build()));
    }
    await(
        () -> uuids.stream().filter(u -> state(u).equals("Running")).count() == 2,
        Duration.ofSeconds(5),
        "two Running");
    Thread.sleep(200);

    // Five candidates for two free slots: the queue's order decides, not the events' order.
    assertThat(uuids.stream().map(this::state))
        .containsExactly("Queued", "Running", "Queued", "Running", "Queued");
    assertThat(sim.requestCount(Endpoint.LIST)).isEqualTo(1);
    assertThat(sim.requestCount(Endpoint.LOCK)).isEqualTo(2);
  }

  @Test
  void aNamedContainerThatIsNoLongerLockable_costsOneRefusedLock_andIsThrottled() throws Exception {
    startSim(true);
    Dispatcher d = dispatcher(NEVER, holding, 4);
    startAndSettle(d);
    sim.resetRequestCounts();

    // Priority 0 (a held request): the event shows Queued, the lock endpoint refuses it.
    String uuid = sim.createContainer(ContainerSpec.builder().priority(0).build());
    await(() -> d.stats().lockConflicts() >= 1, Duration.ofSeconds(5), "the refused lock");
    Thread.sleep(200);

    assertThat(state(uuid)).isEqualTo("Queued");
    assertThat(sim.requestCounts()).containsEntry("containers.lock", 1L).hasSize(1);
  }

  @Test
  void aBurstOfHundredsOfEvents_isServedByAFewPolls() throws Exception {
    startSim(true);
    int n = 300;
    Dispatcher d = dispatcher(NEVER, COMPLETE, n);
    startAndSettle(d);
    long polls = d.stats().polls();
    long eventPolls = d.stats().eventPolls();
    sim.resetRequestCounts();

    List<String> uuids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      uuids.add(sim.createContainer());
    }
    await(
        () -> uuids.stream().allMatch(u -> state(u).equals("Complete")),
        Duration.ofSeconds(30),
        "every container complete");

    // Every triggered poll finishes (the last ones may still run: a Complete event's check).
    await(
        () -> d.stats().polls() - polls == d.stats().eventPolls() - eventPolls,
        Duration.ofSeconds(5),
        "the triggered polls to finish");
    long triggered = d.stats().polls() - polls;
    // Per event, that would be 300 polls. The creates take a while, so the events come in
    // several windows; each triggered poll locks what its window named, without a list.
    assertThat(triggered).isBetween(1L, n / 10L);
    assertThat(sim.requestCount(Endpoint.LIST)).isLessThan(100);
    assertThat(sim.requestCount(Endpoint.LOCK)).isEqualTo(n); // one lock per container
  }

  @Test
  void aTrackedEpochEndedElsewhere_isNoticedAtOnce() throws Exception {
    startSim(true);
    CountDownLatch stopped = new CountDownLatch(1);
    StopReason[] why = new StopReason[1];
    Dispatcher d =
        dispatcher(
            NEVER,
            ctx -> {
              ctx.lock().markRunning();
              if (ctx.cancellation().await(Duration.ofSeconds(20))) {
                why[0] = ctx.cancellation().reason();
                stopped.countDown();
              }
            },
            2);
    startAndSettle(d);
    String uuid = sim.createContainer();
    await(() -> state(uuid).equals("Running"), Duration.ofSeconds(5), "Running");

    try (RivalWriter otherAdmin = RivalWriter.forSimulator(sim, OTHER)) {
      assertThat(otherAdmin.cancel(uuid).status()).isEqualTo(200);
    }

    assertThat(stopped.await(2, TimeUnit.SECONDS)).isTrue();
    assertThat(why[0]).isEqualTo(StopReason.CANCELLED);
  }

  @Test
  void eventPollDelay_isValidated() {
    startSim(false);
    ArvadosClient client = ArvadosClient.builder().baseUrl(sim.baseUrl()).token(TOKEN).build();
    closeables.add(client);
    Dispatcher.Builder b = Dispatcher.builder(client, COMPLETE);

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> b.eventPollDelay(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> b.eventPollDelay(Duration.ofSeconds(2)))
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> b.eventsWebsocketUrl("ftp://host/websocket"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(b.eventPollDelay(Duration.ZERO)).isSameAs(b);
  }

  @Test
  void aDroppedEvent_isRepairedByThePeriodicPoll() throws Exception {
    startSim(true);
    Dispatcher d = dispatcher(Duration.ofMillis(700), holding, 4);
    startAndSettle(d);
    long eventPolls = d.stats().eventPolls();

    sim.events().dropNext(1);
    String uuid = sim.createContainer();
    await(() -> !state(uuid).equals("Queued"), Duration.ofSeconds(5), "the lock");

    assertThat(sim.events().droppedEvents()).isEqualTo(1);
    assertThat(d.stats().eventPolls()).isEqualTo(eventPolls); // no event asked for that poll
  }

  @Test
  void onAClusterWithoutAStream_theDefaultDispatchesByPolling_andSaysSoOnceAtInfoNotAsAWarning()
      throws Exception {
    ch.qos.logback.classic.Logger root =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
        new ch.qos.logback.core.read.ListAppender<>();
    logs.setContext(root.getLoggerContext());
    logs.start();
    root.addAppender(logs);
    closeables.add(() -> root.detachAppender(logs));
    startSim(false); // the discovery document's websocketUrl is empty
    Dispatcher d = dispatcher(Duration.ofMillis(100), COMPLETE, 4);
    d.start();
    await(() -> d.stats().eventStream() == EventStreamStatus.DOWN, Duration.ofSeconds(10), "DOWN");

    List<String> uuids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      uuids.add(sim.createContainer());
    }
    await(
        () -> uuids.stream().allMatch(u -> state(u).equals("Complete")),
        Duration.ofSeconds(10),
        "every container complete");
    Thread.sleep(1500); // would be three retries at the connection back-off (from 500 ms)

    assertThat(streamChanges).containsExactly("DOWN");
    assertThat(d.stats().eventStream()).isEqualTo(EventStreamStatus.DOWN);
    assertThat(d.stats().eventPolls()).isZero();
    List<String> said = new ArrayList<>();
    synchronized (logs) {
      for (ch.qos.logback.classic.spi.ILoggingEvent e : logs.list) {
        if (e.getLoggerName().startsWith("dev.crunchguard")
            && e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.INFO)) {
          said.add(e.getLevel() + " " + e.getFormattedMessage());
        }
      }
    }
    assertThat(said).noneMatch(line -> line.startsWith("WARN") || line.startsWith("ERROR"));
    assertThat(said.stream().filter(line -> line.contains("runs no websocket service")))
        .as("the stream's line and the dispatcher's, once each: no recheck within minutes")
        .hasSize(2)
        .allMatch(line -> line.startsWith("INFO"))
        .anyMatch(line -> line.contains("no event stream") && line.contains("polling every"));
  }

  @Test
  void aStreamThatGoesDown_isReportedOnce_pollingGoesOn_andItComesBack() throws Exception {
    startSim(true);
    Dispatcher d = dispatcher(Duration.ofMillis(200), COMPLETE, 4);
    startAndSettle(d);

    sim.events().restart(Duration.ofSeconds(2));
    await(() -> d.stats().eventStream() == EventStreamStatus.DOWN, Duration.ofSeconds(5), "DOWN");
    String during = sim.createContainer();
    await(() -> state(during).equals("Complete"), Duration.ofSeconds(5), "polling alone");
    await(() -> d.stats().eventStream() == EventStreamStatus.UP, Duration.ofSeconds(15), "UP");

    assertThat(streamChanges).containsExactly("UP", "DOWN", "UP");
  }
}

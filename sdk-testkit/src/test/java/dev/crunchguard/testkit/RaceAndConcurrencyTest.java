package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Atomicity (the simulator's default), the real server's update window (an option;
 * src/docs/simulator.md, section 5), and the checker on live races.
 */
class RaceAndConcurrencyTest {
  ArvadosSimulator sim;
  Fixtures fx;
  Http http;
  ExecutorService pool = Executors.newFixedThreadPool(24);

  @BeforeEach
  void start() {
    sim = Fixtures.builder().threads(24).build().start();
    fx = new Fixtures(sim);
    http = fx.http;
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
    sim.close();
  }

  @Test
  void manyThreadsLockingTheSameContainer_exactlyOneWins() {
    try (RivalWriter systemRoot = RivalWriter.forSimulator(sim, SYSTEM_ROOT);
        RivalWriter secondDispatcher = RivalWriter.forSimulator(sim, Fixtures.SECOND_DISPATCHER)) {
      for (int round = 0; round < 3; round++) {
        String u = fx.queued();
        List<RivalWriter.Response> answers =
            StartGate.race(
                    20,
                    Duration.ofSeconds(30),
                    i -> (i % 2 == 0 ? systemRoot : secondDispatcher).lock(u))
                .values();
        assertThat(answers).filteredOn(r -> r.status() == 200).hasSize(1);
        assertThat(answers)
            .filteredOn(r -> r.status() != 200)
            .hasSize(19)
            .allSatisfy(
                r -> {
                  assertThat(r.status()).isEqualTo(422);
                  assertThat(r.errors().get(0)).contains("cannot lock when Locked");
                });
        assertThat(sim.container(u).lockCount()).isEqualTo(1);
        assertThat(
                sim.history(u).stream().filter(e -> e.action() == WriteAction.LOCK && e.accepted()))
            .hasSize(1);
      }
    }
  }

  @Test
  void concurrentGuardedWritersWithStaleEpochs_areSafeWhenCheckAndWriteIsAtomic() {
    String u = fx.queued();
    String epoch = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    assertThat(
            http.put(c(u))
                .token(SYSTEM_ROOT)
                .header("X-Crunch-Guard-Client", "runner-0")
                .json("{\"container\":{\"state\":\"Running\",\"auth_uuid\":\"" + epoch + "\"}}")
                .send()
                .status())
        .isEqualTo(200);
    List<Integer> statuses =
        StartGate.race(
                16,
                Duration.ofSeconds(30),
                i -> {
                  String claimed = i % 2 == 0 ? epoch : "zzzzz-gj3su-staleepoch00000";
                  return http.put(c(u))
                      .token(SYSTEM_ROOT)
                      .header("X-Crunch-Guard-Client", "runner-" + (i % 2))
                      .json("{\"container\":{\"progress\":0.5,\"auth_uuid\":\"" + claimed + "\"}}")
                      .send()
                      .status();
                })
            .values();
    assertThat(statuses).containsOnly(200, 422);
    assertThat(statuses).filteredOn(st -> st == 200).hasSize(8);
    SafetyReport r = sim.checkSafety();
    assertThat(r.isSafe()).as(r.summary()).isTrue();
  }

  @Test
  void unrelatedContainersAreNotSerialised() throws Exception {
    String a = fx.running();
    String b = fx.running();
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> holder =
        CompletableFuture.runAsync(
            () ->
                sim.service()
                    .withRowLock(
                        a,
                        () -> {
                          held.countDown();
                          try {
                            release.await(20, TimeUnit.SECONDS);
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                          }
                        }),
            pool);
    assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
    Future<Integer> blocked =
        pool.submit(() -> http.update(a, SYSTEM_ROOT, "{\"progress\":0.1}").status());
    long t0 = System.nanoTime();
    assertThat(http.update(b, SYSTEM_ROOT, "{\"progress\":0.2}").status()).isEqualTo(200);
    assertThat(http.lock(fx.queued(), SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.get("arvados/v1/containers").token(SYSTEM_ROOT).send().status()).isEqualTo(200);
    assertThat(http.show(a, SYSTEM_ROOT).status())
        .as("reads never take the row lock")
        .isEqualTo(200);
    // These completed while A's row lock was held (the holder waits up to 20 s for release): had
    // they been serialised behind A they could only have finished after that timeout.
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
    Thread.sleep(100);
    assertThat(blocked.isDone()).as("the write to the held container waits").isFalse();
    release.countDown();
    assertThat(blocked.get(10, TimeUnit.SECONDS)).isEqualTo(200);
    holder.get(10, TimeUnit.SECONDS);
  }

  @Test
  void headerClaimedEpochIsNotEnforced_checkerReportsStaleWrite() {
    String u = fx.queued();
    String e1 = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    http.unlock(u, SYSTEM_ROOT);
    String e2 = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    Http.Res r =
        http.put(c(u))
            .token(SYSTEM_ROOT)
            .header("X-Crunch-Guard-Epoch", e1)
            .header("X-Crunch-Guard-Client", "old-runner")
            .json("{\"container\":{\"runtime_status\":{\"activity\":\"stale\"}}}")
            .send();
    assertThat(r.status()).isEqualTo(200);
    SafetyReport rep = sim.checkSafety();
    assertThat(rep.violations(SafetyViolation.Property.STALE_EPOCH_WRITE))
        .singleElement()
        .satisfies(v -> assertThat(v.epoch()).isEqualTo(e2));
  }

  /** Parks every update inside the window until {@code release} opens; counts arrivals. */
  private CountDownLatch parkInWindow(CountDownLatch arrived, CountDownLatch release) {
    sim.service()
        .setWindowHook(
            () -> {
              arrived.countDown();
              try {
                release.await(20, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    return release;
  }

  /**
   * A guarded update validates, parks in the window, the container is re-locked, then it writes.
   */
  @Test
  void realServerWindow_staleGuardedWriteIsAcceptedAndTheCheckerCatchesIt() throws Exception {
    sim.setUpdateRaceWindow(Duration.ZERO);
    CountDownLatch validated = new CountDownLatch(1);
    CountDownLatch release = parkInWindow(validated, new CountDownLatch(1));
    String u = fx.queued();
    String e1 = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    Future<Http.Res> slow =
        pool.submit(
            () ->
                http.put(c(u))
                    .token(SYSTEM_ROOT)
                    .header("X-Crunch-Guard-Client", "runner-1")
                    .json(
                        "{\"container\":{\"runtime_status\":{\"activity\":\"from e1\"},\"auth_uuid\":\""
                            + e1
                            + "\"}}")
                    .send());
    assertThat(validated.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(http.unlock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    String e2 = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    release.countDown();
    assertThat(slow.get(10, TimeUnit.SECONDS).status())
        .as("validated against the pre-lock snapshot")
        .isEqualTo(200);
    assertThat(sim.container(u).authUuid()).isEqualTo(e2);
    assertThat(sim.container(u).runtimeStatusJson()).contains("from e1");
    SafetyReport rep = sim.checkSafety();
    assertThat(rep.violations(SafetyViolation.Property.STALE_EPOCH_WRITE))
        .singleElement()
        .satisfies(v -> assertThat(v.epoch()).isEqualTo(e2));

    // The same interleaving with the simulator's default atomic check-and-write is rejected.
    sim.service().setWindowHook(null);
    sim.setUpdateRaceWindow(null);
    sim.clearHistory();
    Http.Res atomic =
        http.put(c(u))
            .token(SYSTEM_ROOT)
            .json(
                "{\"container\":{\"runtime_status\":{\"activity\":\"from e1\"},\"auth_uuid\":\""
                    + e1
                    + "\"}}")
            .send();
    assertThat(atomic.status()).isEqualTo(422);
    assertThat(sim.checkSafety().isSafe()).isTrue();
  }

  @Test
  void realServerWindow_pauseAloneOpensTheWindow() throws Exception {
    sim.setUpdateRaceWindow(Duration.ofMillis(300));
    String u = fx.queued();
    String e1 = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    long t0 = System.nanoTime();
    assertThat(
            http.put(c(u))
                .token(SYSTEM_ROOT)
                .json("{\"container\":{\"priority\":2,\"auth_uuid\":\"" + e1 + "\"}}")
                .send()
                .status())
        .isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(290));
    assertThat(sim.container(u).priority()).isEqualTo(2);
  }

  @Test
  void realServerWindow_twoRunnersBothStartTheContainer() throws Exception {
    sim.setUpdateRaceWindow(Duration.ZERO);
    CountDownLatch bothValidated = new CountDownLatch(2);
    parkInWindow(bothValidated, bothValidated);
    String u = fx.queued();
    String e1 = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    List<Future<Http.Res>> fs = new ArrayList<>();
    for (String client : List.of("runner-a", "runner-b")) {
      fs.add(
          pool.submit(
              () ->
                  http.put(c(u))
                      .token(SYSTEM_ROOT)
                      .header("X-Crunch-Guard-Client", client)
                      .json("{\"container\":{\"state\":\"Running\",\"auth_uuid\":\"" + e1 + "\"}}")
                      .send()));
    }
    for (Future<Http.Res> f : fs) {
      assertThat(f.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
    }
    SafetyReport rep = sim.checkSafety();
    assertThat(rep.violations(SafetyViolation.Property.RUNNING_MORE_THAN_ONCE_PER_EPOCH))
        .hasSize(1);
    assertThat(rep.violations(SafetyViolation.Property.MULTIPLE_RUNNERS_PER_EPOCH)).hasSize(1);
    assertThat(rep.violations(SafetyViolation.Property.STALE_EPOCH_WRITE)).isEmpty();
    // Both were validated against the Locked snapshot and accepted; the history records the state
    // current at write time, so the second shows Running before and is flagged as a second client.
    List<HistoryEvent> running =
        sim.history(u).stream().filter(e -> "Running".equals(e.requestedState())).toList();
    assertThat(running).hasSize(2).allMatch(HistoryEvent::accepted);
    assertThat(running).extracting(HistoryEvent::stateBefore).containsExactly("Locked", "Running");
  }

  @Test
  void oneRunnerPerEpochAcrossAttemptsIsSafe() {
    String u = fx.queued();
    String e1 = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    assertThat(
            http.put(c(u))
                .token(SYSTEM_ROOT)
                .header("X-Crunch-Guard-Client", "runner-a")
                .json(
                    "{\"container\":{\"runtime_status\":{\"activity\":\"starting\"},\"auth_uuid\":\""
                        + e1
                        + "\"}}")
                .send()
                .status())
        .isEqualTo(200);
    assertThat(http.unlock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    String e2 = http.lock(u, SYSTEM_ROOT).str("auth_uuid");
    for (String body :
        List.of(
            "{\"state\":\"Running\"",
            "{\"progress\":1.0",
            "{\"state\":\"Complete\",\"exit_code\":0")) {
      assertThat(
              http.put(c(u))
                  .token(SYSTEM_ROOT)
                  .header("X-Crunch-Guard-Client", "runner-b")
                  .json("{\"container\":" + body + ",\"auth_uuid\":\"" + e2 + "\"}}")
                  .send()
                  .status())
          .isEqualTo(200);
    }
    SafetyReport r = sim.checkSafety();
    assertThat(r.isSafe()).as(r.summary()).isTrue();
    assertThat(r.eventsChecked()).isGreaterThanOrEqualTo(8);
  }
}

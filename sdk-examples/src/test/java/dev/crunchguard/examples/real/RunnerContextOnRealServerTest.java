package dev.crunchguard.examples.real;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerState;
import dev.crunchguard.ContainerUpdate;
import dev.crunchguard.runner.RunOutcome;
import dev.crunchguard.runner.RunResult;
import dev.crunchguard.runner.RunnerContext;
import dev.crunchguard.testkit.ProxiedWrite;
import dev.crunchguard.testkit.RealArvados;
import dev.crunchguard.testkit.RequiresRealArvados;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The runner's ownership watch on the real server: a long command is stopped within a watch
 * interval when the epoch ends or the priority falls to 0.
 */
@RequiresRealArvados
class RunnerContextOnRealServerTest {
  private static final Duration WATCH = Duration.ofMillis(200);

  private final RealArvados arv;
  private RealServer real;

  RunnerContextOnRealServerTest(RealArvados arv) {
    this.arv = arv;
  }

  @BeforeEach
  void start() {
    real = new RealServer(arv);
  }

  @AfterEach
  void stop() {
    real.close();
  }

  /** Runs {@code sleep 60} for the lock's epoch in another thread, through the proxy. */
  private CompletableFuture<RunResult> runSleeper(ContainerLock dispatcherLock) {
    RunnerContext ctx =
        RunnerContext.builder(real.admin, dispatcherLock.epoch())
            .watchInterval(WATCH)
            .killGrace(Duration.ofSeconds(2))
            .start();
    return CompletableFuture.supplyAsync(
        () -> {
          try (ctx) {
            return ctx.runCommand(List.of("sleep", "60"));
          }
        });
  }

  private void awaitState(String uuid, ContainerState state) throws InterruptedException {
    for (int i = 0; i < 200 && real.read(uuid).state() != state; i++) {
      Thread.sleep(50);
    }
    assertThat(real.read(uuid).state()).isEqualTo(state);
  }

  @Test
  void aRunnerWhoseEpochEnded_stopsItsCommandAndWritesNothingMore() throws Exception {
    String uuid = real.create("sleep", "60");
    ContainerLock dispatcherLock = real.direct.containers().lock(uuid);
    CompletableFuture<RunResult> run = runSleeper(dispatcherLock);
    awaitState(uuid, ContainerState.RUNNING);
    for (int i = 0; i < 100 && real.proxy.writes(uuid).isEmpty(); i++) {
      Thread.sleep(20); // the proxy logs the runner's Running just after the server applied it
    }
    int writesBefore = real.proxy.writes(uuid).size();
    assertThat(writesBefore).isEqualTo(1);

    long t0 = System.nanoTime();
    dispatcherLock.cancel("ended by the test"); // directly: the proxy sees only the runner
    RunResult result = run.get(30, TimeUnit.SECONDS);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(result.outcome()).isEqualTo(RunOutcome.LOST);
    assertThat(took)
        .as("stopped within a few watch intervals, not after the 60 s sleep")
        .isLessThan(Duration.ofSeconds(10));
    assertThat(real.proxy.writes(uuid)).as("no write after the epoch ended").hasSize(writesBefore);
    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.CANCELLED);
    assertThat(c.exitCode()).isNull();
  }

  @Test
  void priorityZero_cancelsTheRunAndTheContainer() throws Exception {
    String uuid = real.create("sleep", "60");
    ContainerLock dispatcherLock = real.direct.containers().lock(uuid);
    CompletableFuture<RunResult> run = runSleeper(dispatcherLock);
    awaitState(uuid, ContainerState.RUNNING);

    dispatcherLock.update(ContainerUpdate.builder().priority(0).build());
    RunResult result = run.get(30, TimeUnit.SECONDS);

    assertThat(result.outcome()).isEqualTo(RunOutcome.CANCELLED);
    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.CANCELLED);
    assertThat(real.proxy.writes(uuid))
        .last()
        .satisfies(
            w -> {
              assertThat(w.carriedAuthUuid()).isTrue();
              assertThat(w.status()).isEqualTo(200);
            });
    assertThat(real.proxy.writes(uuid)).extracting(ProxiedWrite::status).containsOnly(200);
  }
}

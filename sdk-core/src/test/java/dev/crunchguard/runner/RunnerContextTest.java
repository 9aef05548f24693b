package dev.crunchguard.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.RetryPolicy;
import dev.crunchguard.StopReason;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ArvadosSimulatorExtension;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultKind;
import dev.crunchguard.testkit.FaultProxy;
import dev.crunchguard.testkit.FaultRule;
import dev.crunchguard.testkit.LeakCheckExtension;
import dev.crunchguard.testkit.RivalWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class RunnerContextTest {
  static final String TOKEN = "runnertesttoken0123456789abc";
  static final String OTHER_ADMIN_TOKEN = "otheradmintoken9876543210xyz";
  static final Duration WATCH = Duration.ofMillis(200);

  @RegisterExtension
  static final ArvadosSimulatorExtension SIMULATOR =
      new ArvadosSimulatorExtension(
              () -> ArvadosSimulator.builder().adminToken(TOKEN).adminToken(OTHER_ADMIN_TOKEN))
          .perMethod();

  /** A closed runner context leaves no ownership-watch thread, and no request in flight. */
  @RegisterExtension final LeakCheckExtension leaks = new LeakCheckExtension();

  ArvadosSimulator sim;
  ArvadosClient dispatcher;
  ArvadosClient runner;

  @BeforeEach
  void start(ArvadosSimulator sim) {
    this.sim = leaks.watch(sim);
    dispatcher = client();
    runner = client();
  }

  ArvadosClient client() {
    return ArvadosClient.builder()
        .baseUrl(sim.baseUrl())
        .token(TOKEN)
        .retryPolicy(
            RetryPolicy.builder()
                .initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(20))
                .build())
        .build();
  }

  @AfterEach
  void stop() {
    dispatcher.close();
    runner.close();
  }

  /** Waits up to 10 s for the file the command creates once it runs. */
  static void awaitFile(Path file) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Files.exists(file) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  RunnerContext context(LockEpoch handoff) {
    return RunnerContext.builder(runner, handoff)
        .watchInterval(WATCH)
        .killGrace(Duration.ofSeconds(1))
        .start();
  }

  @Test
  void refusesToStart_whenTheHandedOffEpochEnded() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    dispatcher.containers().unlock(uuid);
    dispatcher.containers().lock(uuid);

    assertThatThrownBy(() -> context(handoff)).isInstanceOf(LostOwnershipException.class);
  }

  @Test
  void refusesToStart_whenAlreadyRunning() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    ContainerLock lock = dispatcher.containers().lock(uuid);
    lock.markRunning();

    assertThatThrownBy(() -> context(lock.epoch()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Running");
  }

  @Test
  void runCommand_recordsExitCodeAndCompletes() {
    String uuid =
        sim.createContainer(ContainerSpec.builder().command("sh", "-c", "exit 3").build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    try (RunnerContext ctx = context(handoff)) {
      assertThat(ctx.container().command()).containsExactly("sh", "-c", "exit 3");
      RunResult r = ctx.runCommand(ctx.container().command());
      assertThat(r.outcome()).isEqualTo(RunOutcome.COMPLETED);
      assertThat(r.exitCode()).isEqualTo(3);
    }
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
    assertThat(sim.container(uuid).exitCode()).isEqualTo(3L);
  }

  @Test
  void commandThatCannotStart_cancelsTheContainer() {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    try (RunnerContext ctx = context(handoff)) {
      RunResult r = ctx.runCommand(List.of("/nonexistent/crunchguard-no-such-binary"));
      assertThat(r.outcome()).isEqualTo(RunOutcome.FAILED_TO_START);
    }
    assertThat(sim.container(uuid).state()).isEqualTo("Cancelled");
    assertThat(sim.container(uuid).runtimeStatusJson()).contains("could not start");
  }

  @Test
  void ownershipWatch_firesWithinOneIntervalOfARelock() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    try (RunnerContext ctx = context(handoff)) {
      CompletableFuture<Long> lostAt = new CompletableFuture<>();
      ctx.onLost(e -> lostAt.complete(System.nanoTime()));
      dispatcher.containers().unlock(uuid);
      long relockedAt = System.nanoTime();
      dispatcher.containers().lock(uuid);

      long detected = lostAt.get(5, TimeUnit.SECONDS);
      assertThat(Duration.ofNanos(detected - relockedAt)).isLessThan(WATCH.plusSeconds(2));
      assertThat(ctx.lock().isLost()).isTrue();
      assertThat(ctx.cancellation().reason()).isEqualTo(StopReason.LOST);
    }
  }

  @Test
  void ownershipWatch_stopsTheChild_whenTheContainerIsCancelledUnderIt(@TempDir Path dir)
      throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    Path marker = dir.resolve("started");
    try (RunnerContext ctx = context(handoff)) {
      CompletableFuture<RunResult> result =
          CompletableFuture.supplyAsync(
              () -> ctx.runCommand(List.of("sh", "-c", "touch " + marker + "; exec sleep 30")));
      awaitFile(marker);
      assertThat(sim.container(uuid).state()).isEqualTo("Running");

      long cancelledAt = System.nanoTime();
      try (RivalWriter otherAdmin = RivalWriter.forSimulator(sim, OTHER_ADMIN_TOKEN)) {
        assertThat(otherAdmin.cancel(uuid).status()).isEqualTo(200);
      }
      RunResult r = result.get(10, TimeUnit.SECONDS);
      long stoppedAfter = System.nanoTime() - cancelledAt;

      assertThat(r.outcome()).isEqualTo(RunOutcome.LOST);
      assertThat(r.exitCode()).isNull();
      assertThat(Duration.ofNanos(stoppedAfter)).isLessThan(WATCH.plusSeconds(3));
    }
    assertThat(sim.container(uuid).state()).isEqualTo("Cancelled");
  }

  @Test
  void childIgnoringSigterm_isKilledAfterTheGrace_evenWhenTheContextIsClosedMeanwhile(
      @TempDir Path dir) throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    Path marker = dir.resolve("started");
    RunnerContext ctx = context(handoff);
    CompletableFuture<RunResult> result =
        CompletableFuture.supplyAsync(
            () ->
                ctx.runCommand(
                    List.of(
                        "sh",
                        "-c",
                        "trap '' TERM; touch " + marker + "; while true; do sleep 0.1; done")));
    awaitFile(marker);
    ctx.close(); // the watch thread is gone before the stop: the SIGKILL must not depend on it
    ctx.shutdown();

    RunResult r = result.get(15, TimeUnit.SECONDS);
    assertThat(r.outcome()).isEqualTo(RunOutcome.CANCELLED);
  }

  @Test
  void aGrandchildIgnoringSigterm_isKilledAfterTheGrace_thoughTheCommandItselfExitedOnSigterm(
      @TempDir Path dir) throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    Path pidFile = dir.resolve("grandchild.pid");
    Path written = dir.resolve("written");
    long pid = 0;
    try (RunnerContext ctx = context(handoff)) {
      // sh dies of the SIGTERM; its child ignores it and is re-parented once sh is gone.
      CompletableFuture<RunResult> result =
          CompletableFuture.supplyAsync(
              () ->
                  ctx.runCommand(
                      List.of(
                          "sh",
                          "-c",
                          "(trap '' TERM; exec sleep 300) & echo $! > "
                              + pidFile
                              + "; mv "
                              + pidFile
                              + " "
                              + written
                              + "; wait")));
      awaitFile(written);
      pid = Long.parseLong(Files.readString(written).trim());
      ctx.shutdown();
      assertThat(result.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(RunOutcome.CANCELLED);

      ProcessHandle grandchild = ProcessHandle.of(pid).orElse(null);
      long killDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6); // grace 1 s
      while (grandchild != null && grandchild.isAlive() && System.nanoTime() < killDeadline) {
        Thread.sleep(20);
      }
      assertThat(grandchild != null && grandchild.isAlive())
          .as("the grandchild that ignored SIGTERM got the SIGKILL")
          .isFalse();
    } finally {
      if (pid != 0) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  @Test
  void priorityZero_stopsTheChild_andCancels(@TempDir Path dir) throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    Path marker = dir.resolve("started");
    try (RunnerContext ctx = context(handoff)) {
      CompletableFuture<RunResult> result =
          CompletableFuture.supplyAsync(
              () -> ctx.runCommand(List.of("sh", "-c", "touch " + marker + "; exec sleep 30")));
      awaitFile(marker);
      sim.setPriority(uuid, 0);
      RunResult r = result.get(10, TimeUnit.SECONDS);
      assertThat(r.outcome()).isEqualTo(RunOutcome.CANCELLED);
    }
    assertThat(sim.container(uuid).state()).isEqualTo("Cancelled");
  }

  /**
   * The watch runs at a fixed rate: with every read taking 150 ms and a 200 ms interval, a check
   * still starts every 200 ms (about 10 reads in 2 s), where a fixed delay (interval after the
   * previous check returned) would give one every 350 ms (about 6).
   */
  @Test
  void ownershipWatch_startsACheckEveryInterval_evenWhenEachReadIsSlow() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().build());
    LockEpoch handoff = dispatcher.containers().lock(uuid).epoch();
    try (FaultProxy proxy = FaultProxy.builder(sim.baseUrl()).build().start();
        ArvadosClient slow =
            ArvadosClient.builder().baseUrl(proxy.baseUrl()).token(TOKEN).build()) {
      proxy
          .faults()
          .add(
              FaultRule.of(FaultKind.DELAY)
                  .on(Endpoint.GET)
                  .container(uuid)
                  .delay(Duration.ofMillis(150))
                  .always()
                  .build());
      long reads;
      try (RunnerContext ctx = RunnerContext.builder(slow, handoff).watchInterval(WATCH).start()) {
        long before = proxy.requestCount(Endpoint.GET, uuid);
        Thread.sleep(2_000);
        reads = proxy.requestCount(Endpoint.GET, uuid) - before;
        assertThat(ctx.lock().isLost()).isFalse();
      }
      // close() does not wait for the check in flight: let it (held 150 ms by the proxy) finish
      // before the proxy goes, or its read would wait for the client's timeout.
      Thread.sleep(WATCH.toMillis());

      assertThat(reads).as("watch reads in 2 s").isBetween(8L, 11L);
    }
  }
}

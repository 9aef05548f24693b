package dev.crunchguard.examples.real;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.Container;
import dev.crunchguard.ContainerState;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.examples.Main;
import dev.crunchguard.runner.RunOutcome;
import dev.crunchguard.runner.RunResult;
import dev.crunchguard.runner.RunnerContext;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.ProxiedWrite;
import dev.crunchguard.testkit.RealArvados;
import dev.crunchguard.testkit.RequiresRealArvados;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code Dispatcher} + {@code RunnerContext}, and the example {@code LocalDispatcher} in its own
 * JVM, running real commands for containers of the real server. These lock every Queued container
 * with priority above 0 on the server: run them against a server or test cluster of their own.
 */
@RequiresRealArvados
class DispatchOnRealServerTest {
  private final RealArvados arv;
  private RealServer real;

  DispatchOnRealServerTest(RealArvados arv) {
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

  private void awaitFinished(List<String> uuids, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (uuids.stream()
          .map(real::read)
          .allMatch(
              c -> c.state() == ContainerState.COMPLETE || c.state() == ContainerState.CANCELLED)) {
        return;
      }
      Thread.sleep(100);
    }
  }

  /** Each container's writes were exactly lock, Running and Complete, both updates fenced. */
  private void assertThreeFencedWrites(String uuid) {
    assertThat(real.proxy.writes(uuid))
        .filteredOn(w -> w.endpoint() != Endpoint.CREATE)
        .extracting(ProxiedWrite::endpoint, ProxiedWrite::carriedAuthUuid, ProxiedWrite::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Endpoint.LOCK, false, 200),
            org.assertj.core.groups.Tuple.tuple(Endpoint.UPDATE, true, 200),
            org.assertj.core.groups.Tuple.tuple(Endpoint.UPDATE, true, 200));
  }

  @Test
  void dispatcherWithRunnerContexts_runsRealCommandsAndRecordsTheirExitCodes() throws Exception {
    String ok = real.create("true");
    String fails = real.create("false");
    String three = real.create("sh", "-c", "exit 3");
    Map<String, RunResult> results = new ConcurrentHashMap<>();

    try (Dispatcher dispatcher =
        Dispatcher.builder(
                real.admin,
                ctx -> {
                  try (RunnerContext runner =
                      RunnerContext.builder(real.admin, ctx.lock().epoch())
                          .watchInterval(Duration.ofMillis(200))
                          .start()) {
                    results.put(
                        ctx.containerUuid(), runner.runCommand(runner.container().command()));
                  }
                })
            .pollInterval(Duration.ofMillis(200))
            .maxConcurrentRuns(3)
            .build()) {
      dispatcher.start();
      awaitFinished(List.of(ok, fails, three), Duration.ofSeconds(60));
    }

    assertThat(results.get(ok)).isEqualTo(new RunResult(RunOutcome.COMPLETED, 0, null));
    assertThat(results.get(fails)).isEqualTo(new RunResult(RunOutcome.COMPLETED, 1, null));
    assertThat(results.get(three)).isEqualTo(new RunResult(RunOutcome.COMPLETED, 3, null));
    for (Map.Entry<String, Long> e : Map.of(ok, 0L, fails, 1L, three, 3L).entrySet()) {
      Container c = real.read(e.getKey());
      assertThat(c.state()).as(e.getKey()).isEqualTo(ContainerState.COMPLETE);
      assertThat(c.exitCode()).as(e.getKey()).isEqualTo(e.getValue());
      assertThat(c.lockCount()).as(e.getKey()).isEqualTo(1);
      assertThreeFencedWrites(e.getKey());
    }
  }

  /**
   * The default {@code AmbiguousLockPolicy.REFUSE} does not run a lock it cannot prove its own; the
   * orphan sweep unlocks it (guarded) after {@code orphanGrace}, and the next poll locks it again.
   */
  @Test
  void aDispatcherWhoseLockAnswerIsLost_sweepsTheOrphanAndRunsTheContainerExactlyOnce()
      throws Exception {
    String uuid = real.create("true");
    real.proxy
        .faults()
        .add(
            dev.crunchguard.testkit.FaultRule.of(dev.crunchguard.testkit.FaultKind.LOST_RESPONSE)
                .on(Endpoint.LOCK)
                .container(uuid)
                .build());
    java.util.concurrent.atomic.AtomicInteger runs =
        new java.util.concurrent.atomic.AtomicInteger();

    try (Dispatcher dispatcher =
        Dispatcher.builder(
                real.admin,
                ctx -> {
                  if (ctx.containerUuid().equals(uuid)) {
                    runs.incrementAndGet();
                  }
                  try (RunnerContext runner =
                      RunnerContext.builder(real.admin, ctx.lock().epoch())
                          .watchInterval(Duration.ofMillis(200))
                          .start()) {
                    runner.runCommand(runner.container().command());
                  }
                })
            .pollInterval(Duration.ofMillis(200))
            .lockRetryInterval(Duration.ofMillis(200))
            .orphanGrace(Duration.ofSeconds(1))
            .build()) {
      dispatcher.start();
      awaitFinished(List.of(uuid), Duration.ofSeconds(60));
    }

    assertThat(runs).hasValue(1);
    Container c = real.read(uuid);
    assertThat(c.state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(c.exitCode()).isZero();
    assertThat(c.lockCount()).as("the orphaned epoch, then the one that ran").isEqualTo(2);
    List<ProxiedWrite> writes = real.proxy.writes(uuid);
    assertThat(writes)
        .extracting(ProxiedWrite::endpoint, ProxiedWrite::carriedAuthUuid, ProxiedWrite::fault)
        .containsSubsequence(
            org.assertj.core.groups.Tuple.tuple(
                Endpoint.LOCK, false, dev.crunchguard.testkit.FaultKind.LOST_RESPONSE),
            org.assertj.core.groups.Tuple.tuple(
                Endpoint.UPDATE, true, null), // the guarded sweep: PUT Queued
            org.assertj.core.groups.Tuple.tuple(Endpoint.LOCK, false, null),
            org.assertj.core.groups.Tuple.tuple(Endpoint.UPDATE, true, null), // Running
            org.assertj.core.groups.Tuple.tuple(Endpoint.UPDATE, true, null)); // Complete
  }

  @Test
  void localDispatcher_runsEachCommandInARunnerProcessAgainstTheRealServer() throws Exception {
    String ok = real.create("true");
    String fails = real.create("false");
    String three = real.create("sh", "-c", "exit 3");
    String missing = real.create("/nonexistent/crunchguard-binary");

    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "dispatch",
            "--until-idle",
            "--concurrency",
            "2",
            "--poll-interval",
            "300ms",
            "--watch-interval",
            "300ms",
            "--timeout",
            "120s");
    pb.environment().put("ARVADOS_API_HOST", real.proxy.baseUrl());
    pb.environment().put("ARVADOS_API_TOKEN", arv.adminToken());
    pb.environment().remove("ARVADOS_API_HOST_INSECURE");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    boolean exited = p.waitFor(150, TimeUnit.SECONDS);
    if (!exited) {
      p.destroyForcibly();
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(exited).as(output).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).doesNotContain(arv.adminToken());
    assertThat(real.read(ok).state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(real.read(ok).exitCode()).isZero();
    assertThat(real.read(fails).exitCode()).isEqualTo(1L);
    assertThat(real.read(three).state()).isEqualTo(ContainerState.COMPLETE);
    assertThat(real.read(three).exitCode()).isEqualTo(3L);
    assertThat(real.read(missing).state()).isEqualTo(ContainerState.CANCELLED);
    for (String u : List.of(ok, fails, three, missing)) {
      assertThat(real.read(u).lockCount()).as(u).isEqualTo(1);
    }
    for (String u : List.of(ok, fails, three)) {
      assertThreeFencedWrites(u);
    }
  }
}

package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.dispatch.DispatchListener;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.RivalWriter;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link SlurmDispatcher} on a real Slurm ({@code src/ci/slurm.sh}) and the simulator: every job is
 * a real sbatch job running the example runner in its own JVM. Skipped without Slurm (see {@link
 * RealSlurm}).
 */
@ExtendWith(RealSlurm.class)
class SlurmDispatcherRealSlurmTest {
  static final String TOKEN = "realslurmtesttoken0123456789a";
  static final Duration POLL = Duration.ofMillis(300);
  static final Duration WATCH = Duration.ofMillis(500);

  ArvadosSimulator sim;
  ArvadosClient client;
  Path logs;
  final List<SlurmDispatcher> dispatchers = new ArrayList<>();
  final List<String> uuids = new ArrayList<>();
  final Slurm slurm = new Slurm(SlurmCommands.processes(Duration.ofSeconds(30), 2));
  RivalWriter user;

  @BeforeEach
  void setUp() throws IOException {
    sim = ArvadosSimulator.builder().adminToken(TOKEN).build().start();
    client =
        ArvadosClient.builder()
            .baseUrl(sim.baseUrl())
            .token(TOKEN)
            .clientId("slurm-dispatcher")
            .build();
    logs = Files.createTempDirectory("crunchguard-slurm-test-");
    user = RivalWriter.builder(sim.baseUrl(), TOKEN).clientId("user").build();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (SlurmDispatcher d : dispatchers) {
      d.close();
    }
    for (Slurm.Job j : slurm.squeue(0).jobs()) {
      if (uuids.contains(j.name())) {
        slurm.cancel(j.name(), j.id(), false);
      }
    }
    client.close();
    sim.close();
    user.close();
    try (Stream<Path> s = Files.walk(logs)) {
      s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }
  }

  String container(long priority, String... command) {
    String uuid =
        sim.createContainer(ContainerSpec.builder().command(command).priority(priority).build());
    uuids.add(uuid);
    return uuid;
  }

  SlurmDispatcher dispatcher() {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> runner =
        List.of(
            java,
            "-Xmx96m",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "run",
            "--watch-interval",
            WATCH.toMillis() + "ms",
            "--kill-grace",
            "1s");
    SlurmDispatcher.Options o =
        new SlurmDispatcher.Options(
            null,
            POLL,
            8,
            Duration.ofMinutes(5),
            runner,
            0,
            logs + "/%x-%j.out",
            Duration.ofSeconds(30));
    SlurmDispatcher d =
        new SlurmDispatcher(
            client,
            SlurmCommands.processes(Duration.ofSeconds(30), 3),
            o,
            Map.of(ArvadosClient.ENV_API_HOST, sim.baseUrl(), ArvadosClient.ENV_API_TOKEN, TOKEN),
            new DispatchListener() {});
    dispatchers.add(d);
    return d;
  }

  void await(String what, Duration max, BooleanSupplier cond) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        StringBuilder threads = new StringBuilder();
        Thread.getAllStackTraces()
            .forEach(
                (t, st) -> {
                  if (t.getName().startsWith("crunchguard")) {
                    threads.append(t.getName()).append('\n');
                    for (StackTraceElement e : st) {
                      threads.append("  ").append(e).append('\n');
                    }
                  }
                });
        throw new AssertionError(
            "timed out after "
                + max.toSeconds()
                + " s waiting for "
                + what
                + "; job logs:\n"
                + jobLogs()
                + "\nthreads:\n"
                + threads);
      }
      Thread.sleep(100);
    }
  }

  String jobLogs() throws IOException {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> s = Files.list(logs)) {
      for (Path p : s.sorted().toList()) {
        sb.append("--- ").append(p.getFileName()).append('\n').append(Files.readString(p));
      }
    }
    return sb.toString();
  }

  List<Slurm.Job> jobsOf(String uuid) {
    return slurm.squeue(0).jobs().stream().filter(j -> j.name().equals(uuid)).toList();
  }

  boolean state(String uuid, String state) {
    return sim.container(uuid).state().equals(state);
  }

  void cancelAsUser(String uuid) {
    assertThat(user.cancel(uuid).status()).isEqualTo(200);
  }

  @Test
  void containers_allCompleteWithTheirExitCodes_oneSlurmJobEach() throws Exception {
    List<String> cs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      cs.add(container(10 + i, "sh", "-c", "exit " + i));
    }
    SlurmDispatcher d = dispatcher();
    d.start();

    assertThat(d.awaitIdle(Duration.ofSeconds(90))).as("idle; job logs:\n%s", jobLogs()).isTrue();
    for (int i = 0; i < 4; i++) {
      assertThat(sim.container(cs.get(i)).state()).isEqualTo("Complete");
      assertThat(sim.container(cs.get(i)).exitCode()).isEqualTo((long) i);
      assertThat(sim.container(cs.get(i)).lockCount()).isEqualTo(1);
    }
    assertThat(d.slurmStats()).containsEntry("submitted", 4L).containsEntry("cancels", 0L);
    try (Stream<Path> s = Files.list(logs)) {
      assertThat(s.map(p -> p.getFileName().toString().replaceAll("-[0-9]+\\.out$", "")))
          .containsExactlyInAnyOrderElementsOf(cs);
    }
    assertThat(jobLogs()).doesNotContain(TOKEN);
    sim.checkSafety().assertSafe();
  }

  @Test
  void aCancelledContainer_andOneWhosePriorityFallsToZero_haveTheirRunningJobsCancelled()
      throws Exception {
    String cancelled = container(10, "sleep", "120");
    String zero = container(10, "sleep", "120");
    SlurmDispatcher d = dispatcher();
    d.start();
    await(
        "both Running",
        Duration.ofSeconds(60),
        () -> state(cancelled, "Running") && state(zero, "Running"));

    cancelAsUser(cancelled);
    sim.setPriority(zero, 0);

    await(
        "both jobs gone",
        Duration.ofSeconds(30),
        () -> jobsOf(cancelled).isEmpty() && jobsOf(zero).isEmpty());
    await("priority 0 cancelled", Duration.ofSeconds(15), () -> state(zero, "Cancelled"));
    assertThat(d.slurmStats().get("cancels")).isGreaterThanOrEqualTo(2);
    assertThat(d.slurmStats()).containsEntry("submitted", 2L);
    assertThat(d.awaitIdle(Duration.ofSeconds(20))).isTrue();
    sim.checkSafety().assertSafe();
  }

  @Test
  void aPriorityChange_changesTheJobsNiceInSlurm() throws Exception {
    String uuid = container(100, "sleep", "120");
    SlurmDispatcher d = dispatcher();
    d.start();
    await("job listed", Duration.ofSeconds(30), () -> !jobsOf(uuid).isEmpty());
    assertThat(jobsOf(uuid).get(0).nice()).isEqualTo(Slurm.nice(100));

    sim.setPriority(uuid, 900);
    await(
        "nice " + Slurm.nice(900),
        Duration.ofSeconds(15),
        () -> jobsOf(uuid).stream().allMatch(j -> j.nice() == Slurm.nice(900)));
    assertThat(d.slurmStats().get("renices")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void aJobThatDisappearsWhileItsContainerRuns_getsTheContainerCancelled_notRunAgain()
      throws Exception {
    String uuid = container(10, "sleep", "120");
    SlurmDispatcher d = dispatcher();
    d.start();
    await(
        "Running", Duration.ofSeconds(60), () -> state(uuid, "Running") && !jobsOf(uuid).isEmpty());
    String job = jobsOf(uuid).get(0).id();

    // the runner dies without a word (SIGKILL to the batch step only, so that it cannot see its
    // command die first and record that), and Slurm ends the job with it
    assertThat(
            new ProcessBuilder("scancel", "--batch", "--signal=KILL", job)
                .inheritIO()
                .start()
                .waitFor())
        .isZero();

    await("Cancelled", Duration.ofSeconds(30), () -> state(uuid, "Cancelled"));
    assertThat(d.slurmStats())
        .as("%s", sim.history(uuid))
        .containsEntry("gone", 1L)
        .containsEntry("submitted", 1L);
    assertThat(sim.container(uuid).lockCount()).isEqualTo(1);
    sim.checkSafety().assertSafe();
  }

  @Test
  void aRestartedDispatcher_adoptsItsRunningJobs_andCancelsJobsOfFinishedContainers()
      throws Exception {
    String a = container(10, "sh", "-c", "sleep 5; exit 4");
    String b = container(10, "sh", "-c", "sleep 5; exit 5");
    SlurmDispatcher first = dispatcher();
    first.start();
    await("both Running", Duration.ofSeconds(60), () -> state(a, "Running") && state(b, "Running"));
    first.close(); // its jobs keep running
    assertThat(jobsOf(a)).hasSize(1);
    assertThat(jobsOf(b)).hasSize(1);
    // a leftover job of a container that is already final
    String done = container(10, "true");
    sim.setPriority(done, 0);
    Slurm.JobRequest leftover =
        new Slurm.JobRequest(done, "zzzzz-gj3su-0123456789abcde", 1, null, 0, null, "/dev/null");
    slurm.submit(leftover, List.of("sleep", "120"), Map.of());
    user.cancel(done);

    SlurmDispatcher second = dispatcher();
    second.start();

    assertThat(second.slurmStats())
        .containsEntry("adopted", 2L)
        .containsEntry("orphansCancelled", 1L);
    await("leftover job cancelled", Duration.ofSeconds(15), () -> jobsOf(done).isEmpty());
    assertThat(second.awaitIdle(Duration.ofSeconds(60))).isTrue();
    assertThat(sim.container(a).exitCode()).isEqualTo(4L);
    assertThat(sim.container(b).exitCode()).isEqualTo(5L);
    assertThat(List.of(a, b))
        .allSatisfy(
            u -> {
              assertThat(sim.container(u).state()).isEqualTo("Complete");
              assertThat(sim.container(u).lockCount()).isEqualTo(1);
            });
    assertThat(second.slurmStats()).containsEntry("submitted", 0L);
    sim.checkSafety().assertSafe();
  }

  Process dispatchSlurm(String... flags) throws IOException {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "dispatch-slurm",
                "--poll-interval",
                POLL.toMillis() + "ms",
                "--watch-interval",
                WATCH.toMillis() + "ms",
                "--log-dir",
                logs.toString(),
                "--reserve-ram",
                "0"));
    cmd.addAll(List.of(flags));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put(ArvadosClient.ENV_API_HOST, sim.baseUrl());
    pb.environment().put(ArvadosClient.ENV_API_TOKEN, TOKEN);
    pb.environment().remove(ArvadosClient.ENV_API_HOST_INSECURE);
    return pb.start();
  }

  @Test
  void theDispatchSlurmCommand_killedAndStartedAgain_adoptsItsJobs_andEveryContainerCompletesOnce()
      throws Exception {
    String a = container(10, "sh", "-c", "sleep 4; exit 2");
    String b = container(10, "sh", "-c", "sleep 4; exit 3");
    Process first = dispatchSlurm();
    try {
      await(
          "both Running", Duration.ofSeconds(60), () -> state(a, "Running") && state(b, "Running"));
    } finally {
      first
          .destroyForcibly()
          .waitFor(); // SIGKILL: no shutdown hook, no state left but Slurm's and the server's
    }
    assertThat(jobsOf(a)).hasSize(1);

    Process second = dispatchSlurm("--until-idle", "--timeout", "60s");
    boolean exited = second.waitFor(90, java.util.concurrent.TimeUnit.SECONDS);
    if (!exited) {
      second.destroyForcibly();
    }
    String output =
        new String(second.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

    assertThat(exited).as(output).isTrue();
    assertThat(second.exitValue()).as(output).isZero();
    assertThat(output).contains("adopted=2", "submitted=0").doesNotContain(TOKEN);
    assertThat(sim.container(a).exitCode()).isEqualTo(2L);
    assertThat(sim.container(b).exitCode()).isEqualTo(3L);
    assertThat(List.of(a, b))
        .allSatisfy(
            u -> {
              assertThat(sim.container(u).state()).isEqualTo("Complete");
              assertThat(sim.container(u).lockCount()).isEqualTo(1);
            });
    sim.checkSafety().assertSafe();
  }

  @Test
  void theSeedRace_withTheGuard_fencesEveryFirstJobWithinOneWatchInterval_andAcceptsNoStaleWrite()
      throws Exception {
    SlurmRaceDemo demo =
        new SlurmRaceDemo(
            2, Duration.ofSeconds(3), WATCH, POLL, Duration.ofSeconds(90), System.err);

    SlurmRaceDemo.Result guarded = demo.run(true);
    SlurmRaceDemo.Result plain = demo.run(false);
    System.err.print(SlurmRaceDemo.report(guarded, plain));

    assertThat(guarded.hidden()).isEqualTo(2);
    assertThat(guarded.relocks()).isEqualTo(2);
    assertThat(guarded.jobsSubmitted()).isEqualTo(4);
    assertThat(guarded.firstJobsFenced()).isEqualTo(2);
    assertThat(guarded.maxStopMillis()).isLessThan(WATCH.toMillis() + 1000);
    assertThat(guarded.staleAccepted()).isZero();
    assertThat(guarded.completed()).isEqualTo(2);
    assertThat(guarded.completedTwice()).isZero();
    assertThat(guarded.safety().isSafe()).as(guarded.safety().summary()).isTrue();
    assertThat(guarded.ok()).isTrue();
    // the same race with plain updates: the first jobs' writes land in the second epoch
    assertThat(plain.hidden()).isEqualTo(2);
    assertThat(plain.staleAccepted()).isGreaterThanOrEqualTo(2);
    assertThat(plain.safety().isSafe()).isFalse();
  }
}

package dev.crunchguard.examples;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.dispatch.DispatchListener;
import dev.crunchguard.runner.RunResult;
import dev.crunchguard.runner.RunnerContext;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSnapshot;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.HistoryEvent;
import dev.crunchguard.testkit.SafetyReport;
import dev.crunchguard.testkit.SafetyViolation;
import dev.crunchguard.testkit.WriteAction;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * The seed race on a real Slurm ({@code slurm-demo}, {@link SlurmDemoCommand}): the race Crunch
 * Guard exists for, where it really happens. A {@link SlurmDispatcher} on the embedded simulator
 * submits one job per container; each job's runner passes its start-up check and then stages for a
 * while (standing for crunch-run loading an image, the container still Locked). Just then the
 * dispatcher loses track of the job: the squeue snapshot that first shows it running is doctored to
 * leave it out, as a slow or restarted slurmctld can. The dispatcher finds the job gone, unlocks
 * the container, locks it again and submits a second job, while the first still runs.
 *
 * <p>With the guard, the first job's runner is fenced: its ownership watch sees the epoch end
 * within one watch interval, stops its staging child, and its writes are refused; the second job
 * completes the container, once. With plain updates (as today's runners write, no {@code
 * auth_uuid}), the first runner's writes are accepted over the second epoch. Both runs are reported
 * side by side from the simulator's history.
 */
final class SlurmRaceDemo {
  static final String TOKEN = "slurmdemotoken0123456789abcdef";

  /**
   * What a {@code slurm-demo-runner} reports in its job's log: one JSON line per event on stdout
   * ({@code {"event":"staging","at_millis":…}}, then {@code "fenced"} when its watch stopped the
   * staging child), written and read by Gson. Other lines in the log (the SDK's, the command's) are
   * not JSON objects and are skipped.
   */
  record RunnerEvent(String event, long atMillis) {
    static final String STAGING = "staging";
    static final String FENCED = "fenced";
    private static final Gson GSON =
        new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .create();

    String toJson() {
      return GSON.toJson(this);
    }

    /** The events in a job's log, in order; none if it does not exist yet. */
    static List<RunnerEvent> in(Path log) {
      List<RunnerEvent> out = new ArrayList<>();
      try {
        if (!Files.exists(log)) {
          return out;
        }
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          if (line.startsWith("{\"event\"")) {
            try {
              out.add(GSON.fromJson(line, RunnerEvent.class));
            } catch (JsonParseException partial) {
              // the last line of a log still being written
            }
          }
        }
      } catch (IOException e) {
        // a log being written or removed: no events yet
      }
      return out;
    }
  }

  private final int containers;
  private final Duration stage;
  private final Duration watch;
  private final Duration poll;
  private final Duration timeout;
  private final PrintStream progress;

  /** The figures of one run. */
  record Result(
      String mode,
      int containers,
      long completed,
      long completedTwice,
      long notFinal,
      long hidden,
      long relocks,
      long jobsSubmitted,
      long staleBlocked,
      long staleAccepted,
      long firstJobsFenced,
      long maxStopMillis,
      Duration wall,
      SafetyReport safety) {
    boolean ok() {
      return notFinal == 0
          && completedTwice == 0
          && safety.isSafe()
          && hidden == containers
          && relocks >= containers
          && firstJobsFenced == containers;
    }
  }

  SlurmRaceDemo(
      int containers,
      Duration stage,
      Duration watch,
      Duration poll,
      Duration timeout,
      PrintStream progress) {
    this.containers = containers;
    this.stage = stage;
    this.watch = watch;
    this.poll = poll;
    this.timeout = timeout;
    this.progress = progress;
  }

  /**
   * Hides each container's job, once, from the first snapshot that shows it running with its runner
   * past its start-up check ({@code ready}, read from the job's log).
   */
  static final class Hiding implements SlurmCommands {
    private final SlurmCommands delegate;
    private final java.util.function.Predicate<String> ready;
    private final Set<String> hidden = ConcurrentHashMap.newKeySet();
    private final AtomicLong count = new AtomicLong();

    Hiding(SlurmCommands delegate, java.util.function.Predicate<String> ready) {
      this.delegate = delegate;
      this.ready = ready;
    }

    @Override
    public Result run(List<String> argv, @Nullable String stdin, Map<String, String> env) {
      Result r = delegate.run(argv, stdin, env);
      if (!argv.get(0).equals("squeue") || r.exitCode() != 0) {
        return r;
      }
      StringBuilder kept = new StringBuilder();
      for (String line : r.stdout().split("\n")) {
        String[] f = line.strip().split("\\|", 5);
        if (f.length == 5
            && Slurm.isContainerUuid(f[1])
            && f[3].equals("RUNNING")
            && !hidden.contains(f[1])
            && ready.test(f[1] + "-" + f[0])
            && hidden.add(f[1])) {
          count.incrementAndGet();
          continue; // the dispatcher loses track of this job
        }
        kept.append(line).append('\n');
      }
      return new Result(r.exitCode(), kept.toString(), r.stderr());
    }

    long count() {
      return count.get();
    }
  }

  Result run(boolean guarded) throws Exception {
    String mode = guarded ? "guarded" : "plain";
    Path logs = Files.createTempDirectory("crunchguard-slurm-demo-");
    long wall0 = System.currentTimeMillis();
    long nanos0 = System.nanoTime();
    try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken(TOKEN).build().start();
        ArvadosClient client =
            ArvadosClient.builder()
                .baseUrl(sim.baseUrl())
                .token(TOKEN)
                .clientId("slurm-dispatcher")
                .build()) {
      List<String> uuids = new ArrayList<>();
      for (int i = 0; i < containers; i++) {
        uuids.add(
            sim.createContainer(
                ContainerSpec.builder()
                    .command("sh", "-c", "sleep 1; exit " + i)
                    .priority(500)
                    .build()));
      }
      Hiding slurm =
          new Hiding(
              SlurmCommands.processes(Duration.ofSeconds(30), 3),
              job ->
                  RunnerEvent.in(logs.resolve(job + ".out")).stream()
                      .anyMatch(e -> e.event().equals(RunnerEvent.STAGING)));
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
              "slurm-demo-runner",
              "--mode",
              mode,
              "--stage",
              stage.toMillis() + "ms",
              "--watch-interval",
              watch.toMillis() + "ms");
      SlurmDispatcher.Options o =
          new SlurmDispatcher.Options(
              null,
              poll,
              containers * 2,
              Duration.ofMinutes(5),
              runner,
              0,
              logs + "/%x-%j.out",
              Duration.ofSeconds(60));
      Map<String, String> env =
          Map.of(ArvadosClient.ENV_API_HOST, sim.baseUrl(), ArvadosClient.ENV_API_TOKEN, TOKEN);
      long start = System.nanoTime();
      long notFinal;
      long submitted;
      try (SlurmDispatcher d =
          new SlurmDispatcher(client, slurm, o, env, new DispatchListener() {})) {
        d.start();
        long deadline = start + timeout.toNanos();
        long lastReport = 0;
        while (true) {
          notFinal = sim.containers().stream().filter(c -> !isFinal(c)).count();
          if (notFinal == 0 || System.nanoTime() > deadline) {
            break;
          }
          if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(2)) {
            progress.printf(
                "  [%s] %d/%d containers final, %d jobs hidden from squeue%n",
                mode, containers - notFinal, containers, slurm.count());
            lastReport = System.nanoTime();
          }
          Thread.sleep(200);
        }
        awaitJobsGone(uuids, Duration.ofSeconds(60)); // the first jobs too: their writes come late
        submitted = d.slurmStats().get("submitted");
      }
      Duration wall = Duration.ofNanos(System.nanoTime() - start);
      return summarize(mode, sim, logs, wall0, nanos0, notFinal, slurm.count(), submitted, wall);
    } finally {
      deleteQuietly(logs);
    }
  }

  private static void awaitJobsGone(List<String> uuids, Duration max) throws InterruptedException {
    Slurm s = new Slurm(SlurmCommands.processes(Duration.ofSeconds(30), 1));
    long deadline = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < deadline) {
      if (s.squeue(0).jobs().stream().noneMatch(j -> uuids.contains(j.name()))) {
        return;
      }
      Thread.sleep(250);
    }
  }

  private static boolean isFinal(ContainerSnapshot c) {
    return c.state().equals("Complete") || c.state().equals("Cancelled");
  }

  private Result summarize(
      String mode,
      ArvadosSimulator sim,
      Path logs,
      long wall0,
      long nanos0,
      long notFinal,
      long hidden,
      long submitted,
      Duration wall)
      throws IOException {
    List<HistoryEvent> history = sim.history();
    long relocks = 0;
    long staleBlocked = 0;
    Map<String, Long> completions = new HashMap<>();
    Map<String, Long> unlockedAtMillis = new HashMap<>();
    for (HistoryEvent e : history) {
      if (e.action() == WriteAction.LOCK && e.accepted() && e.lockCountBefore() >= 1) {
        relocks++;
      }
      if (e.action() == WriteAction.UPDATE && !e.accepted() && e.staleEpochRejection()) {
        staleBlocked++;
      }
      if (e.accepted() && "Complete".equals(e.requestedState())) {
        completions.merge(e.containerUuid(), 1L, Long::sum);
      }
      if (e.accepted() && "Locked".equals(e.stateBefore()) && "Queued".equals(e.stateAfter())) {
        unlockedAtMillis.putIfAbsent(
            e.containerUuid(), wall0 + (e.monotonicNanos() - nanos0) / 1_000_000);
      }
    }
    long fenced = 0;
    long maxStop = 0;
    try (Stream<Path> files = Files.list(logs)) {
      for (Path p : files.toList()) {
        String uuid = p.getFileName().toString().replaceAll("-[0-9]+\\.out$", "");
        for (RunnerEvent e : RunnerEvent.in(p)) {
          if (e.event().equals(RunnerEvent.FENCED)) {
            fenced++;
            Long unlocked = unlockedAtMillis.get(uuid);
            if (unlocked != null) {
              maxStop = Math.max(maxStop, e.atMillis() - unlocked);
            }
          }
        }
      }
    }
    SafetyReport safety = sim.checkSafety();
    long staleAccepted = safety.violations(SafetyViolation.Property.STALE_EPOCH_WRITE).size();
    long completed = sim.containers().stream().filter(c -> c.state().equals("Complete")).count();
    long twice = completions.values().stream().filter(n -> n > 1).count();
    return new Result(
        mode,
        containers,
        completed,
        twice,
        notFinal,
        hidden,
        relocks,
        submitted,
        staleBlocked,
        staleAccepted,
        fenced,
        maxStop,
        wall,
        safety);
  }

  static String report(Result g, @Nullable Result p) {
    StringBuilder sb = new StringBuilder();
    String fmt = "%-46s %14s %14s%n";
    sb.append(String.format(Locale.ROOT, fmt, "", "with guard", p == null ? "" : "plain updates"));
    row(sb, fmt, "containers", g.containers(), p == null ? null : (long) p.containers());
    row(sb, fmt, "  completed", g.completed(), p == null ? null : p.completed());
    row(sb, fmt, "  not final at the end", g.notFinal(), p == null ? null : p.notFinal());
    row(sb, fmt, "jobs hidden from one squeue snapshot", g.hidden(), p == null ? null : p.hidden());
    row(sb, fmt, "re-locks (container locked again)", g.relocks(), p == null ? null : p.relocks());
    row(sb, fmt, "Slurm jobs submitted", g.jobsSubmitted(), p == null ? null : p.jobsSubmitted());
    row(
        sb,
        fmt,
        "first jobs fenced off by their watch",
        g.firstJobsFenced(),
        p == null ? null : p.firstJobsFenced());
    sb.append(
        String.format(
            Locale.ROOT,
            fmt,
            "  slowest stop after the unlock",
            g.firstJobsFenced() == 0 ? "-" : g.maxStopMillis() + " ms",
            p == null ? "" : p.firstJobsFenced() == 0 ? "-" : p.maxStopMillis() + " ms"));
    row(
        sb,
        fmt,
        "stale writes refused by the server",
        g.staleBlocked(),
        p == null ? null : p.staleBlocked());
    row(
        sb,
        fmt,
        "stale writes accepted (must be 0)",
        g.staleAccepted(),
        p == null ? null : p.staleAccepted());
    row(
        sb,
        fmt,
        "containers completed twice (must be 0)",
        g.completedTwice(),
        p == null ? null : p.completedTwice());
    sb.append(
        String.format(
            Locale.ROOT,
            fmt,
            "wall time",
            String.format(Locale.ROOT, "%.1f s", g.wall().toMillis() / 1000.0),
            p == null ? "" : String.format(Locale.ROOT, "%.1f s", p.wall().toMillis() / 1000.0)));
    sb.append(
        String.format(
            Locale.ROOT,
            fmt,
            "safety check (simulator history)",
            g.safety().isSafe() ? "PASS" : "FAIL",
            p == null ? "" : p.safety().isSafe() ? "PASS" : "FAIL"));
    return sb.toString();
  }

  private static void row(StringBuilder sb, String fmt, String label, long g, @Nullable Long p) {
    sb.append(String.format(Locale.ROOT, fmt, label, g, p == null ? "" : p.toString()));
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp dir
    }
  }

  // ---- the demo's runner, inside each Slurm job ----

  /**
   * {@code slurm-demo-runner --mode guarded|plain --stage D --watch-interval D}: checks that the
   * container is Locked, stages for {@code --stage} (a child process, standing for an image load),
   * then runs the container's command. {@code guarded} is the example runner's {@link
   * RunnerContext} with a staging step; {@code plain} checks and writes as today's runners do,
   * without the epoch.
   */
  static int runner(
      boolean guarded, Duration stage, Duration watch, PrintStream out, PrintStream err)
      throws Exception {
    return guarded ? guardedRunner(stage, watch, out, err) : plainRunner(stage, out, err);
  }

  private static void report(PrintStream out, String event) {
    out.println(new RunnerEvent(event, System.currentTimeMillis()).toJson());
    out.flush();
  }

  private static Process stager(Duration stage) throws IOException {
    return new ProcessBuilder(
            "sleep", String.format(Locale.ROOT, "%.3f", stage.toMillis() / 1000.0))
        .inheritIO()
        .start();
  }

  private static int guardedRunner(Duration stage, Duration watch, PrintStream out, PrintStream err)
      throws Exception {
    RunnerContext ctx;
    try {
      ctx =
          RunnerContext.builder(ArvadosClient.fromEnvironment(), LockEpoch.fromEnvironment())
              .watchInterval(watch)
              .killGrace(Duration.ofSeconds(1))
              .closeClient(true)
              .start();
    } catch (IllegalStateException | IllegalArgumentException | LostOwnershipException e) {
      err.println("slurm-demo-runner: refusing to start: " + e.getMessage());
      return ExampleRunner.REFUSED_TO_START;
    }
    try (ctx) {
      report(out, RunnerEvent.STAGING);
      Process staging = stager(stage);
      ctx.onLost(
          e -> {
            if (staging.isAlive()) {
              staging.destroyForcibly();
              report(out, RunnerEvent.FENCED);
              err.println("slurm-demo-runner: fenced off; staging child stopped");
            }
          });
      staging.waitFor();
      RunResult r = ctx.runCommand(ctx.container().command()); // refused when the epoch has ended
      err.println(
          "slurm-demo-runner: "
              + r.outcome()
              + (r.exitCode() == null ? "" : " exit_code=" + r.exitCode()));
      switch (r.outcome()) {
        case COMPLETED:
          return 0;
        case LOST:
          return 4;
        default:
          return 3;
      }
    }
  }

  private static int plainRunner(Duration stage, PrintStream out, PrintStream err)
      throws Exception {
    LockEpoch h = LockEpoch.fromEnvironment();
    OkHttpClient http = new OkHttpClient();
    try (ArvadosClient c = ArvadosClient.fromEnvironment()) {
      PlainWriter w =
          new PlainWriter(
              http,
              c.baseUrl(),
              System.getenv(ArvadosClient.ENV_API_TOKEN),
              "slurm-job-" + System.getenv().getOrDefault("SLURM_JOB_ID", "?"));
      JsonObject now = w.read(h.containerUuid());
      if (now == null || !"Locked".equals(now.get("state").getAsString())) {
        err.println("slurm-demo-runner: refusing to start: the container is not Locked");
        return ExampleRunner.REFUSED_TO_START;
      }
      List<String> command =
          c.containers().get(h.containerUuid()).command(); // a read, as crunch-run does
      report(out, RunnerEvent.STAGING);
      stager(stage).waitFor();
      JsonObject running = new JsonObject();
      running.addProperty("state", "Running");
      int s1 = w.update(h.containerUuid(), running, h.authUuid());
      int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
      JsonObject complete = new JsonObject();
      complete.addProperty("state", "Complete");
      complete.addProperty("exit_code", exit);
      int s2 = w.update(h.containerUuid(), complete, h.authUuid());
      err.println("slurm-demo-runner: plain writes answered " + s1 + ", " + s2);
      return 0;
    } finally {
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }
}

package dev.crunchguard.benchmarks;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.crunchguard.examples.cli.Cli;
import dev.crunchguard.examples.cli.Durations;
import dev.crunchguard.examples.cli.VersionProvider;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code bench}: Crunch Guard's benchmarks, each against a baseline measured in the same run.
 * Progress goes to stderr, the report to stdout (Markdown, or one JSON object with {@code --json}).
 * Parts (select with {@code --parts a,b}): {@code overhead}, {@code jmh}, {@code requests}, {@code
 * dispatch}, {@code loss}, {@code memory}, {@code simulator}, {@code latency}; {@code all} runs
 * them all. {@code real} (parts 2 and 3 against a real Arvados server, {@link RealServerBench})
 * runs only when named: its Dispatchers lock whatever is queued on that server. {@code --smoke}
 * shrinks every parameter so the whole command finishes in seconds (the figures are then
 * meaningless; it checks that the command works).
 */
@Command(
    name = "bench",
    description = {
      "Crunch Guard's benchmarks (src/docs/performance.md), each against a baseline measured in"
          + " the same run. Progress on stderr, the report on stdout: Markdown, or one JSON object"
          + " with --json. Options left out take the defaults shown (or, with --smoke, tiny ones)."
    })
final class Bench implements Callable<Integer> {
  static final String TITLE = "Crunch Guard benchmark report";

  static final List<String> PARTS =
      List.of("overhead", "jmh", "requests", "dispatch", "loss", "memory", "simulator", "latency");

  /** Parts that {@code all} leaves out: they change a server outside this process. */
  static final List<String> NAMED_ONLY = List.of("real");

  @ParentCommand BenchmarksMain main;
  @Spec CommandSpec spec;

  @Option(
      names = "--parts",
      split = ",",
      paramLabel = "<part>",
      description =
          "comma-separated: overhead,jmh,requests,dispatch,loss,memory,simulator,latency or all"
              + " (default all); real (against the server of CRUNCHGUARD_ARVADOS_URL) only when"
              + " named")
  List<String> partNames = new ArrayList<>(List.of("all"));

  @Option(
      names = "--smoke",
      description =
          "tiny parameters for a quick check that the command works (figures meaningless)")
  boolean smoke;

  @Option(names = "--json", description = "print the report as one JSON object (src/docs/cli.md)")
  boolean json;

  @Option(
      paramLabel = "<n>",
      names = "--pairs",
      description = "1. measured guarded/raw pairs per server (20000)")
  @Nullable Integer pairs;

  @Option(
      paramLabel = "<n>",
      names = "--warmup-pairs",
      description = "1. warm-up pairs per server (5000)")
  @Nullable Integer warmupPairs;

  @Option(paramLabel = "<n>", names = "--jmh-forks", description = "1. JMH forks (1)")
  @Nullable Integer jmhForks;

  @Option(paramLabel = "<n>", names = "--jmh-warmup", description = "1. JMH warm-up iterations (3)")
  @Nullable Integer jmhWarmup;

  @Option(
      paramLabel = "<n>",
      names = "--jmh-iterations",
      description = "1. JMH measured iterations (5)")
  @Nullable Integer jmhIterations;

  @Option(
      names = "--jmh-time",
      paramLabel = "<duration>",
      description = "1. time per JMH iteration (2s)")
  @Nullable Duration jmhTime;

  @Option(
      paramLabel = "<n>",
      names = "--lifecycles",
      description = "2. containers per request-count scenario (200)")
  @Nullable Integer lifecycles;

  @Option(
      names = "--sizes",
      split = ",",
      paramLabel = "<n>",
      description = "3. containers per dispatch run (1000,10000)")
  @Nullable List<Integer> sizes;

  @Option(
      names = "--dispatchers",
      split = ",",
      paramLabel = "<n>",
      description = "3. racing dispatchers (1,2,4,8)")
  @Nullable List<Integer> dispatchers;

  @Option(
      paramLabel = "<n>",
      names = "--concurrency",
      description = "3. runner threads per dispatcher (8)")
  @Nullable Integer concurrency;

  @Option(
      names = "--poll-interval",
      paramLabel = "<duration>",
      description = "3. dispatcher poll interval (10ms)")
  @Nullable Duration pollInterval;

  @Option(
      names = "--ceiling-threads",
      split = ",",
      paramLabel = "<n>",
      description = "3. raw-HTTP ceiling threads (8,16)")
  @Nullable List<Integer> ceilingThreads;

  @Option(
      names = "--intervals",
      split = ",",
      paramLabel = "<duration>",
      description = "4. watch intervals (100ms,250ms,500ms,1s)")
  @Nullable List<Duration> intervals;

  @Option(paramLabel = "<n>", names = "--trials", description = "4. trials per interval (12)")
  @Nullable Integer trials;

  @Option(
      paramLabel = "<n>",
      names = "--locks",
      description = "5. ContainerLocks held for the heap measurement (10000)")
  @Nullable Integer locks;

  @Option(
      names = "--tracked",
      split = ",",
      paramLabel = "<n>",
      description = "5. tracked containers for the dispatcher heap slope (200,1000)")
  @Nullable List<Integer> tracked;

  @Option(
      paramLabel = "<n>",
      names = "--startups",
      description = "5. fresh JVMs for the start-up time (5)")
  @Nullable Integer startups;

  @Option(
      names = "--sim-sizes",
      split = ",",
      paramLabel = "<n>",
      description = "6. containers in the simulator (1000,100000)")
  @Nullable List<Integer> simSizes;

  @Option(
      names = "--sim-duration",
      paramLabel = "<duration>",
      description = "6. measured time per operation (3s)")
  @Nullable Duration simDuration;

  @Option(paramLabel = "<n>", names = "--sim-threads", description = "6. client threads (8)")
  @Nullable Integer simThreads;

  @Option(
      paramLabel = "<n>",
      names = "--latency-containers",
      description = "7. containers arriving per configuration (1000)")
  @Nullable Integer latencyContainers;

  @Option(
      paramLabel = "<per second>",
      names = "--arrival-rate",
      description = "7. mean arrivals per second, Poisson (50)")
  @Nullable Double arrivalRate;

  @Option(
      names = "--event-poll-delays",
      split = ",",
      paramLabel = "<duration>",
      description = "7. eventPollDelay of each events configuration (5ms,50ms)")
  @Nullable List<Duration> eventPollDelays;

  @Option(
      names = "--latency-polls",
      split = ",",
      paramLabel = "<duration>",
      description =
          "7. poll interval of each polling-only configuration; the longest is also the events"
              + " configurations' periodic poll and the requests baseline (10s,1s)")
  @Nullable List<Duration> latencyPolls;

  @Option(
      paramLabel = "<n>",
      names = "--real-lifecycles",
      description = "8. containers per request-count scenario on the real server (100)")
  @Nullable Integer realLifecycles;

  @Option(
      paramLabel = "<n>",
      names = "--real-containers",
      description = "8. containers per dispatch and ceiling run on the real server (300)")
  @Nullable Integer realContainers;

  @Option(
      names = "--real-dispatchers",
      split = ",",
      paramLabel = "<n>",
      description = "8. racing dispatchers on the real server (1,4)")
  @Nullable List<Integer> realDispatchers;

  @Option(
      paramLabel = "<n>",
      names = "--real-ceiling-threads",
      description = "8. raw-HTTP ceiling threads on the real server (8)")
  @Nullable Integer realCeilingThreads;

  @Option(
      names = "--real-poll-interval",
      paramLabel = "<duration>",
      description = "8. dispatcher poll interval on the real server (100ms)")
  @Nullable Duration realPollInterval;

  /** A count option: its value, checked, or the default. */
  private int count(@Nullable Integer value, String option, int dflt, int min) {
    return value == null ? dflt : (int) Cli.inRange(spec, option, value, min, Integer.MAX_VALUE);
  }

  /** A list option of positive counts: its value, checked, or the default. */
  private List<Integer> counts(@Nullable List<Integer> value, String option, List<Integer> dflt) {
    if (value == null) {
      return dflt;
    }
    for (int v : value) {
      Cli.inRange(spec, option, v, 1, Integer.MAX_VALUE);
    }
    return value;
  }

  private static long took(PrintStream err, String part, long since) {
    long now = System.nanoTime();
    err.printf(
        "[bench] part %s took %.1f s (load average %s)%n",
        part, (now - since) / 1e9, Machine.loadAverage());
    return now;
  }

  @Override
  public Integer call() throws Exception {
    Set<String> parts = new LinkedHashSet<>();
    for (String p : partNames) {
      String t = p.trim();
      if (t.equals("all")) {
        parts.addAll(PARTS);
      } else if (PARTS.contains(t) || NAMED_ONLY.contains(t)) {
        parts.add(t);
      } else {
        throw Cli.usageError(
            spec,
            "unknown part: "
                + t
                + " (one of "
                + String.join(",", PARTS)
                + ", "
                + String.join(",", NAMED_ONLY)
                + ", all)");
      }
    }
    PrintStream out = main.out;
    PrintStream err =
        new PrintStream(new Elapsed(main.err), true, java.nio.charset.StandardCharsets.UTF_8);
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      // SDK info lines (unlocks, stop signals) would drown the progress; warnings still show.
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    Heap.quick = smoke;
    // Every parameter is read and checked before the first part runs.
    int pairsN = count(pairs, "--pairs", smoke ? 50 : 20_000, 1);
    int warm = count(warmupPairs, "--warmup-pairs", smoke ? 20 : 5_000, 0);
    int forks = count(jmhForks, "--jmh-forks", smoke ? 0 : 1, 0);
    int wi = count(jmhWarmup, "--jmh-warmup", smoke ? 0 : 3, 0);
    int mi = count(jmhIterations, "--jmh-iterations", smoke ? 1 : 5, 1);
    String time =
        (jmhTime != null ? jmhTime : Duration.ofMillis(smoke ? 100 : 2000)).toMillis() + "ms";
    int lifecyclesN = count(lifecycles, "--lifecycles", smoke ? 10 : 200, 1);
    List<Integer> sizesN = counts(sizes, "--sizes", smoke ? List.of(30) : List.of(1_000, 10_000));
    List<Integer> dispatchersN =
        counts(dispatchers, "--dispatchers", smoke ? List.of(1, 2) : List.of(1, 2, 4, 8));
    int concurrencyN = count(concurrency, "--concurrency", smoke ? 2 : 8, 1);
    Duration poll = pollInterval == null ? Duration.ofMillis(10) : pollInterval;
    List<Integer> ceiling =
        counts(ceilingThreads, "--ceiling-threads", smoke ? List.of(2) : List.of(8, 16));
    List<Duration> watchIntervals =
        intervals != null
            ? intervals
            : smoke
                ? List.of(Duration.ofMillis(50))
                : List.of(
                    Duration.ofMillis(100),
                    Duration.ofMillis(250),
                    Duration.ofMillis(500),
                    Duration.ofSeconds(1));
    int trialsN = count(trials, "--trials", smoke ? 1 : 12, 1);
    int locksN = count(locks, "--locks", smoke ? 30 : 10_000, 1);
    List<Integer> trackedN =
        counts(tracked, "--tracked", smoke ? List.of(5, 15) : List.of(200, 1_000));
    int startupsN = count(startups, "--startups", smoke ? 1 : 5, 1);
    List<Integer> simSizesN =
        counts(simSizes, "--sim-sizes", smoke ? List.of(100) : List.of(1_000, 100_000));
    Duration simTime =
        simDuration != null ? simDuration : smoke ? Duration.ofMillis(100) : Duration.ofSeconds(3);
    int simThreadsN = count(simThreads, "--sim-threads", smoke ? 2 : 8, 1);
    int latencyN = count(latencyContainers, "--latency-containers", smoke ? 30 : 1_000, 1);
    double rate = arrivalRate == null ? (smoke ? 200 : 50) : arrivalRate;
    if (!(rate > 0 && rate <= 100_000)) {
      throw Cli.usageError(spec, "--arrival-rate must be above 0 and at most 100000, got " + rate);
    }
    List<Duration> delays =
        eventPollDelays != null
            ? eventPollDelays
            : smoke
                ? List.of(QueueToLockLatency.DEFAULT_DELAY, Duration.ofMillis(20))
                : List.of(QueueToLockLatency.DEFAULT_DELAY, Duration.ofMillis(50));
    for (Duration d : delays) {
      if (d.compareTo(Duration.ofSeconds(1)) > 0) {
        throw Cli.usageError(
            spec, "--event-poll-delays must be at most 1s each, got " + Durations.format(d));
      }
    }
    List<Duration> latencyPollsN =
        latencyPolls != null
            ? latencyPolls
            : smoke
                ? List.of(Duration.ofSeconds(1), Duration.ofMillis(200))
                : List.of(Duration.ofSeconds(10), Duration.ofSeconds(1));
    RealServerBench.Settings real =
        new RealServerBench.Settings(
            count(realLifecycles, "--real-lifecycles", smoke ? 5 : 100, 1),
            count(realContainers, "--real-containers", smoke ? 10 : 300, 1),
            counts(realDispatchers, "--real-dispatchers", smoke ? List.of(1, 2) : List.of(1, 4)),
            concurrencyN,
            realPollInterval == null ? Duration.ofMillis(100) : realPollInterval,
            count(realCeilingThreads, "--real-ceiling-threads", smoke ? 2 : 8, 1));

    Report rep = new Report();
    Instant started = Instant.now();
    String loadAtStart = Machine.loadAverage();
    long t0 = System.nanoTime();

    long p0 = System.nanoTime();
    if (parts.contains("overhead") || parts.contains("jmh")) {
      List<GuardOverhead.Interleaved> runs = new ArrayList<>();
      if (parts.contains("overhead")) {
        try (Child sim = OverheadFixture.startSim(2)) {
          runs.add(GuardOverhead.interleaved("simulator", sim, 0, warm, pairsN, err));
          runs.add(GuardOverhead.interleaved("fixed", sim, 1, warm, pairsN, err));
        }
      }
      List<GuardOverhead.JmhRow> jmh = List.of();
      String jmhDesc = "";
      if (parts.contains("jmh")) {
        jmh =
            GuardOverhead.jmh(
                forks,
                wi,
                mi,
                time,
                smoke ? 20 : 3_000,
                smoke ? List.of("simulator") : List.of("simulator", "fixed"),
                err);
        jmhDesc =
            forks
                + " fork(s), "
                + wi
                + " warm-up + "
                + mi
                + " measured iterations of "
                + time
                + ", -prof gc";
      }
      GuardOverhead.report(rep, runs, jmh, jmhDesc);
      p0 = took(err, "1", p0);
    }
    if (parts.contains("requests")) {
      RequestCount.run(rep, lifecyclesN, err);
      p0 = took(err, "2", p0);
    }
    if (parts.contains("dispatch")) {
      DispatchThroughput.run(rep, sizesN, dispatchersN, concurrencyN, poll, ceiling, err);
      p0 = took(err, "3", p0);
    }
    if (parts.contains("loss")) {
      LossDetection.run(rep, watchIntervals, trialsN, err);
      p0 = took(err, "4", p0);
    }
    if (parts.contains("memory")) {
      MemoryBench.run(rep, locksN, trackedN, startupsN, smoke, err);
      p0 = took(err, "5", p0);
    }
    if (parts.contains("simulator")) {
      SimulatorCapacity.run(rep, simSizesN, simTime, simThreadsN, err);
      p0 = took(err, "6", p0);
    }
    if (parts.contains("latency")) {
      QueueToLockLatency.run(rep, latencyN, rate, delays, latencyPollsN, err);
      p0 = took(err, "7", p0);
    }
    if (parts.contains("real")) {
      RealServerBench.run(rep, real, main.env, err);
      took(err, "8", p0);
    }

    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    String loadAtEnd = Machine.loadAverage();
    List<String> argv = spec.commandLine().getParseResult().originalArgs();
    String command =
        "java -jar sdk-benchmarks/target/crunchguard-benchmarks.jar " + String.join(" ", argv);
    if (json) {
      JsonObject o = new JsonObject();
      o.addProperty("report", "bench");
      o.addProperty("version", VersionProvider.VERSION);
      o.addProperty("title", TITLE);
      o.addProperty("command", command);
      JsonArray partsRun = new JsonArray();
      parts.forEach(partsRun::add);
      o.add("parts", partsRun);
      o.addProperty("smoke", smoke);
      o.addProperty("started", started.toString());
      o.addProperty("seconds", took.toMillis() / 1000.0);
      o.add("machine", Machine.json());
      JsonObject load = new JsonObject();
      load.addProperty("start", loadAtStart);
      load.addProperty("end", loadAtEnd);
      o.add("load_average", load);
      JsonObject content = rep.json();
      o.add("sections", content.get("sections"));
      o.add("targets", content.get("targets"));
      out.println(new GsonBuilder().disableHtmlEscaping().create().toJson(o));
    } else {
      String preamble =
          "Generated by `"
              + command
              + "` on "
              + started
              + ", in "
              + took.toSeconds()
              + " s"
              + (smoke ? " (**smoke run: tiny parameters, figures not meaningful**)" : "")
              + ".\n\nMachine:\n\n"
              + Machine.describe()
              + "* Load average (1 / 5 / 15 min) at start: "
              + loadAtStart
              + "; at end: "
              + loadAtEnd
              + " (a load above the 2 CPUs means other processes competed for them during the run)\n";
      out.print(rep.render(TITLE, preamble));
    }
    out.flush();
    err.printf("[bench] done in %d s%n", took.toSeconds());
    return Cli.OK;
  }
}

package dev.crunchguard.benchmarks;

import dev.crunchguard.examples.Flags;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code bench}: Crunch Guard's benchmarks, each against a baseline measured in the same run.
 * Progress goes to stderr, the Markdown report to stdout. Parts (select with {@code --parts a,b}):
 * {@code overhead}, {@code jmh}, {@code requests}, {@code dispatch}, {@code loss}, {@code memory},
 * {@code simulator}; {@code all} runs them all. {@code --smoke} shrinks every parameter so the
 * whole command finishes in seconds (the figures are then meaningless; it checks that the command
 * works).
 */
public final class Bench {
  static final List<String> PARTS =
      List.of("overhead", "jmh", "requests", "dispatch", "loss", "memory", "simulator");

  public static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar crunchguard-examples.jar bench [flags]",
          "  --parts LIST            comma-separated: overhead,jmh,requests,dispatch,loss,memory,simulator or all (default all)",
          "  --smoke                 tiny parameters for a quick check that the command works (figures meaningless)",
          "  1. --pairs N            measured guarded/raw pairs per server (default 20000), --warmup-pairs N (5000)",
          "     --jmh-forks N (1) --jmh-warmup N (3) --jmh-iterations N (5) --jmh-time D (2s)",
          "  2. --lifecycles N       containers per request-count scenario (default 200)",
          "  3. --sizes LIST         containers per dispatch run (default 1000,10000)",
          "     --dispatchers LIST   racing dispatchers (default 1,2,4,8); --concurrency N runner threads each (8)",
          "     --poll-interval D    dispatcher poll interval (default 10ms); --ceiling-threads LIST (8,16)",
          "  4. --intervals LIST     watch intervals (default 100ms,250ms,500ms,1s); --trials N per interval (12)",
          "  5. --locks N            ContainerLocks held for the heap measurement (default 10000)",
          "     --tracked LIST       tracked containers for the dispatcher heap slope (default 200,1000)",
          "     --startups N         fresh JVMs for the start-up time (default 5)",
          "  6. --sim-sizes LIST     containers in the simulator (default 1000,100000); --sim-duration D (3s)",
          "     --sim-threads N      client threads (default 8)",
          "");

  private Bench() {}

  /** Runs the bench command; returns the exit status. */
  public static int main(List<String> argv, PrintStream out, PrintStream err) throws Exception {
    Flags a;
    try {
      a =
          Flags.parse(
              argv,
              Set.of("smoke"),
              Set.of(
                  "parts",
                  "pairs",
                  "warmup-pairs",
                  "jmh-forks",
                  "jmh-warmup",
                  "jmh-iterations",
                  "jmh-time",
                  "lifecycles",
                  "sizes",
                  "dispatchers",
                  "concurrency",
                  "poll-interval",
                  "ceiling-threads",
                  "intervals",
                  "trials",
                  "locks",
                  "tracked",
                  "startups",
                  "sim-sizes",
                  "sim-duration",
                  "sim-threads"));
    } catch (Flags.UsageException e) {
      err.println(e.getMessage());
      err.print(USAGE);
      return 2;
    }
    try {
      return run(a, argv, out, err);
    } catch (Flags.UsageException e) {
      err.println(e.getMessage());
      err.print(USAGE);
      return 2;
    }
  }

  /** Internal helper processes of the benchmarks: {@code bench-serve} and {@code bench-startup}. */
  public static int helper(String command, List<String> argv, PrintStream out) throws Exception {
    switch (command) {
      case "bench-serve":
        return BenchServer.main(
            Flags.parse(
                argv,
                Set.of(),
                Set.of(
                    "kind",
                    "containers",
                    "tokens",
                    "body-file",
                    "max-dispatch-attempts",
                    "threads",
                    "seed")),
            out);
      case "bench-startup":
        return MemoryBench.startupChild(
            Flags.parse(argv, Set.of(), Set.of("url", "token", "uuid")), out);
      default:
        throw new Flags.UsageException("unknown helper " + command);
    }
  }

  private static long took(PrintStream err, String part, long since) {
    long now = System.nanoTime();
    err.printf(
        "[bench] part %s took %.1f s (load average %s)%n",
        part, (now - since) / 1e9, Machine.loadAverage());
    return now;
  }

  private static int run(Flags a, List<String> argv, PrintStream out, PrintStream rawErr)
      throws Exception {
    PrintStream err =
        new PrintStream(new Elapsed(rawErr), true, java.nio.charset.StandardCharsets.UTF_8);
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      // SDK info lines (unlocks, stop signals) would drown the progress; warnings still show.
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    boolean smoke = a.bool("smoke");
    Heap.quick = smoke;
    Set<String> parts = new LinkedHashSet<>();
    for (String p : a.string("parts", "all").split(",")) {
      String t = p.trim();
      if (t.equals("all")) {
        parts.addAll(PARTS);
      } else if (PARTS.contains(t)) {
        parts.add(t);
      } else {
        throw new Flags.UsageException(
            "unknown part: " + t + " (one of " + String.join(",", PARTS) + ", all)");
      }
    }
    Report rep = new Report();
    Instant started = Instant.now();
    String loadAtStart = Machine.loadAverage();
    long t0 = System.nanoTime();

    long p0 = System.nanoTime();
    if (parts.contains("overhead") || parts.contains("jmh")) {
      List<GuardOverhead.Interleaved> runs = new ArrayList<>();
      if (parts.contains("overhead")) {
        int pairs = a.integer("pairs", smoke ? 50 : 20_000);
        int warm = a.integer("warmup-pairs", smoke ? 20 : 5_000);
        try (Child sim = OverheadFixture.startSim(2)) {
          runs.add(GuardOverhead.interleaved("simulator", sim, 0, warm, pairs, err));
          runs.add(GuardOverhead.interleaved("fixed", sim, 1, warm, pairs, err));
        }
      }
      List<GuardOverhead.JmhRow> jmh = List.of();
      String jmhDesc = "";
      if (parts.contains("jmh")) {
        int forks = a.integer("jmh-forks", smoke ? 0 : 1);
        int wi = a.integer("jmh-warmup", smoke ? 0 : 3);
        int mi = a.integer("jmh-iterations", smoke ? 1 : 5);
        String time = a.string("jmh-time", smoke ? "100ms" : "2s");
        Flags.parseDuration("jmh-time", time);
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
      RequestCount.run(rep, a.integer("lifecycles", smoke ? 10 : 200), err);
      p0 = took(err, "2", p0);
    }
    if (parts.contains("dispatch")) {
      DispatchThroughput.run(
          rep,
          a.integers("sizes", smoke ? List.of(30) : List.of(1_000, 10_000)),
          a.integers("dispatchers", smoke ? List.of(1, 2) : List.of(1, 2, 4, 8)),
          a.integer("concurrency", smoke ? 2 : 8),
          a.duration("poll-interval", Duration.ofMillis(10)),
          a.integers("ceiling-threads", smoke ? List.of(2) : List.of(8, 16)),
          err);
      p0 = took(err, "3", p0);
    }
    if (parts.contains("loss")) {
      LossDetection.run(
          rep,
          a.durations(
              "intervals",
              smoke
                  ? List.of(Duration.ofMillis(50))
                  : List.of(
                      Duration.ofMillis(100),
                      Duration.ofMillis(250),
                      Duration.ofMillis(500),
                      Duration.ofSeconds(1))),
          a.integer("trials", smoke ? 1 : 12),
          err);
      p0 = took(err, "4", p0);
    }
    if (parts.contains("memory")) {
      MemoryBench.run(
          rep,
          a.integer("locks", smoke ? 30 : 10_000),
          a.integers("tracked", smoke ? List.of(5, 15) : List.of(200, 1_000)),
          a.integer("startups", smoke ? 1 : 5),
          smoke,
          err);
      p0 = took(err, "5", p0);
    }
    if (parts.contains("simulator")) {
      SimulatorCapacity.run(
          rep,
          a.integers("sim-sizes", smoke ? List.of(100) : List.of(1_000, 100_000)),
          a.duration("sim-duration", smoke ? Duration.ofMillis(100) : Duration.ofSeconds(3)),
          a.integer("sim-threads", smoke ? 2 : 8),
          err);
      took(err, "6", p0);
    }

    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    String preamble =
        "Generated by `java -jar sdk-examples/target/crunchguard-examples.jar bench "
            + String.join(" ", argv)
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
            + Machine.loadAverage()
            + " (a load above the 2 CPUs means other processes competed for them during the run)\n";
    out.print(rep.render("Crunch Guard benchmark report", preamble));
    out.flush();
    err.printf("[bench] done in %d s%n", took.toSeconds());
    return 0;
  }
}

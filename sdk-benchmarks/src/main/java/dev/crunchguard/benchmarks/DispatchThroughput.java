package dev.crunchguard.benchmarks;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.DispatcherStats;
import dev.crunchguard.examples.cli.Durations;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSnapshot;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Benchmark 3: containers completed per second by 1..8 racing Dispatchers (each its own token and
 * client), against the simulator's capacity for the same per-container requests driven by raw HTTP.
 */
final class DispatchThroughput {
  /** Issue 11, target 3: one dispatcher's share of the ceiling. */
  static final double TARGET_SHARE_ALONE = 0.70;

  /** Issue 11, target 3: the most racing dispatchers' share of the ceiling. */
  static final double TARGET_SHARE_RACING = 0.80;

  /** Issue 11, target 3: lock conflicts per container with the most dispatchers. */
  static final double TARGET_CONFLICTS = 0.5;

  static final int PAGE = 100;

  private DispatchThroughput() {}

  record Run(
      int containers,
      int dispatchers,
      double seconds,
      double perSecond,
      long conflicts,
      long lockAttempts,
      long polls,
      double lists,
      double reads,
      double requestsPerContainer,
      boolean allComplete,
      boolean safe,
      double cpuMicrosPerContainer,
      String cpuByThread,
      long jitMillis,
      double adjacentCeiling) {
    Run withAdjacentCeiling(double c) {
      return new Run(
          containers,
          dispatchers,
          seconds,
          perSecond,
          conflicts,
          lockAttempts,
          polls,
          lists,
          reads,
          requestsPerContainer,
          allComplete,
          safe,
          cpuMicrosPerContainer,
          cpuByThread,
          jitMillis,
          c);
    }

    double conflictsPerContainer() {
      return (double) conflicts / containers;
    }
  }

  record Ceiling(
      int containers,
      int threads,
      String when,
      double seconds,
      double perSecond,
      double requestsPerContainer,
      double cpuMicrosPerContainer,
      String cpuByThread,
      long jitMillis) {}

  /** The lock conflicts, lock attempts and polls of some dispatchers, summed. */
  record Totals(long conflicts, long attempts, long polls) {
    static Totals of(List<Dispatcher> dispatchers) {
      long conflicts = 0;
      long attempts = 0;
      long polls = 0;
      for (Dispatcher x : dispatchers) {
        DispatcherStats s = x.stats();
        conflicts += s.lockConflicts();
        attempts += s.lockAttempts();
        polls += s.polls();
      }
      return new Totals(conflicts, attempts, polls);
    }
  }

  /** This JVM's CPU time so far (every thread: clients, dispatchers and the simulator). */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  static void run(
      Report rep,
      List<Integer> sizes,
      List<Integer> dispatcherCounts,
      int concurrency,
      Duration poll,
      List<Integer> ceilingThreads,
      PrintStream progress)
      throws Exception {
    List<Run> runs = new ArrayList<>();
    List<Ceiling> ceilings = new ArrayList<>();
    int tWarm = ceilingThreads.stream().mapToInt(Integer::intValue).max().orElse(8);
    int warmN =
        Math.min(WARM_UP_CONTAINERS, sizes.stream().mapToInt(Integer::intValue).max().orElse(1));
    warmUp(warmN, dispatcherCounts, concurrency, poll, tWarm, progress);
    for (int n : sizes) {
      // Other processes may load the machine: each dispatcher run is bracketed by ceiling runs (the
      // largest thread count) and judged against the better of its two neighbours.
      int tMax = ceilingThreads.stream().mapToInt(Integer::intValue).max().orElse(8);
      Ceiling previous =
          measureCeiling(n, tMax, "before D=" + dispatcherCounts.get(0), ceilings, progress);
      for (int i = 0; i < dispatcherCounts.size(); i++) {
        int d = dispatcherCounts.get(i);
        Run r = dispatch(n, d, concurrency, poll);
        String label =
            i + 1 < dispatcherCounts.size()
                ? "between D=" + d + " and D=" + dispatcherCounts.get(i + 1)
                : "after D=" + d;
        Ceiling next = measureCeiling(n, tMax, label, ceilings, progress);
        r = r.withAdjacentCeiling(Math.max(previous.perSecond(), next.perSecond()));
        progress.printf(
            "[bench] 3. N=%d dispatchers=%d: %.0f containers/s (%.1f s), %d lock conflicts, %d polls; "
                + "%.0f%% of the adjacent ceiling%n",
            n,
            d,
            r.perSecond(),
            r.seconds(),
            r.conflicts(),
            r.polls(),
            100 * r.perSecond() / r.adjacentCeiling());
        runs.add(r);
        previous = next;
      }
      for (int t : ceilingThreads) {
        if (t != tMax) {
          measureCeiling(n, t, "last", ceilings, progress);
        }
      }
    }
    report(rep, runs, ceilings, concurrency, poll);
  }

  /**
   * Containers per unreported warm-up run. Without one, the first measured dispatcher run (one
   * dispatcher, the smallest N) met code the JIT had not compiled yet, while its ceiling neighbour
   * after it had: the first ceiling of a run was at 39 % of the second.
   */
  static final int WARM_UP_CONTAINERS = 2000;

  /**
   * One unreported run of the ceiling and of the fewest and the most dispatchers, so that every
   * measured run meets compiled code.
   */
  static void warmUp(
      int n,
      List<Integer> dispatcherCounts,
      int concurrency,
      Duration poll,
      int threads,
      PrintStream progress)
      throws Exception {
    int fewest = dispatcherCounts.stream().mapToInt(Integer::intValue).min().orElse(1);
    int most = dispatcherCounts.stream().mapToInt(Integer::intValue).max().orElse(1);
    long start = System.nanoTime();
    for (int round = 1; ; round++) {
      long t0 = System.nanoTime();
      long jit0 = jitMillis();
      ceiling(n, threads, "warm-up");
      dispatch(n, fewest, concurrency, poll);
      if (most != fewest) {
        dispatch(n, most, concurrency, poll);
      }
      double wallMs = (System.nanoTime() - t0) / 1e6;
      double jitShare = (jitMillis() - jit0) / wallMs;
      progress.printf(
          "[bench] 3. warm-up round %d (N=%d: a ceiling, D=%d%s; not reported): %.1f s, JIT"
              + " compiling %.0f%% of it%n",
          round, n, fewest, most != fewest ? " and D=" + most : "", wallMs / 1e3, 100 * jitShare);
      if (jitShare <= WARM_UP_JIT_SHARE
          || round >= WARM_UP_MAX_ROUNDS
          || System.nanoTime() - start > WARM_UP_MAX.toNanos()) {
        return;
      }
    }
  }

  /** The warm-up ends once the JIT compiles for at most this share of a round's time. */
  static final double WARM_UP_JIT_SHARE = 0.10;

  static final int WARM_UP_MAX_ROUNDS = 8;

  static final Duration WARM_UP_MAX = Duration.ofSeconds(90);

  /** The JIT compilers' total compilation time so far (0 where the JVM does not say). */
  static long jitMillis() {
    java.lang.management.CompilationMXBean c =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    return c != null && c.isCompilationTimeMonitoringSupported() ? c.getTotalCompilationTime() : 0;
  }

  /**
   * Collects the garbage of earlier runs (their simulators and clients) before a measured run, so
   * that no run pays for the collection of another's objects.
   */
  static void settle() {
    System.gc();
  }

  static List<String> tokens(int n) {
    List<String> t = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      t.add("benchdispatcher" + i + "token0123456789");
    }
    return t;
  }

  private static List<String> create(ArvadosSimulator sim, int n) {
    Random rnd = new Random(42);
    List<String> uuids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      uuids.add(
          sim.createContainer(ContainerSpec.builder().priority(1 + rnd.nextInt(1000)).build()));
    }
    return uuids;
  }

  static Run dispatch(int n, int d, int concurrency, Duration poll) throws Exception {
    List<String> tokens = tokens(d);
    ArvadosSimulator.Builder sb = ArvadosSimulator.builder();
    tokens.forEach(sb::adminToken);
    try (ArvadosSimulator sim = sb.build().start()) {
      List<String> uuids = create(sim, n);
      sim.clearHistory();
      sim.resetRequestCounts();
      settle();
      CountDownLatch done = new CountDownLatch(n);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<ArvadosClient> clients = new ArrayList<>();
      List<Dispatcher> dispatchers = new ArrayList<>();
      for (int i = 0; i < d; i++) {
        ArvadosClient c =
            ArvadosClient.builder()
                .baseUrl(sim.baseUrl())
                .token(tokens.get(i))
                .clientId("dispatcher-" + i)
                .build();
        clients.add(c);
        dispatchers.add(
            Dispatcher.builder(c, CompletingRunner.of(false, done, failure))
                .maxConcurrentRuns(concurrency)
                .pollInterval(poll)
                .lockRetryInterval(Duration.ofSeconds(1))
                .events(false) // this part measures polling
                .build());
      }
      java.util.Map<Long, ThreadCpu.Sample> threads0 = ThreadCpu.snapshot();
      long jit0 = jitMillis();
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      dispatchers.forEach(Dispatcher::start);
      boolean finished = done.await(Math.max(120, n / 20), TimeUnit.SECONDS);
      long t1 = System.nanoTime();
      long cpu1 = processCpuNanos();
      String split =
          ThreadCpu.split(threads0, ThreadCpu.snapshot(), java.util.Map.of(), cpu1 - cpu0, n);
      long jit = jitMillis() - jit0;
      for (Dispatcher x : dispatchers) {
        x.close();
      }
      clients.forEach(ArvadosClient::close);
      if (failure.get() != null) {
        throw new IllegalStateException("a runner failed", failure.get());
      }
      Totals totals = Totals.of(dispatchers);
      long complete = 0;
      for (String u : uuids) {
        ContainerSnapshot c = sim.container(u);
        if (c.state().equals("Complete")) {
          complete++;
        }
      }
      long all = sim.requestCounts().values().stream().mapToLong(Long::longValue).sum();
      double secs = (t1 - t0) / 1e9;
      return new Run(
          n,
          d,
          secs,
          finished ? n / secs : complete / secs,
          totals.conflicts(),
          totals.attempts(),
          totals.polls(),
          sim.requestCount(Endpoint.LIST),
          sim.requestCount(Endpoint.GET),
          (double) all / n,
          finished && complete == n,
          sim.checkSafety().isSafe(),
          (cpu1 - cpu0) / 1e3 / n,
          split,
          jit,
          Double.NaN);
    }
  }

  private static Ceiling measureCeiling(
      int n, int threads, String when, List<Ceiling> out, PrintStream progress) throws Exception {
    Ceiling c = ceiling(n, threads, when);
    progress.printf(
        "[bench] 3. ceiling (%s) N=%d threads=%d: %.0f containers/s (%.1f s)%n",
        when, n, threads, c.perSecond(), c.seconds());
    out.add(c);
    return c;
  }

  /**
   * The simulator's capacity for the dispatch request mix ({@link CeilingLoad}), by raw HTTP from
   * {@code threads} threads.
   */
  static Ceiling ceiling(int n, int threads, String when) throws Exception {
    String token = tokens(1).get(0);
    try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken(token).build().start();
        RawHttp raw = new RawHttp(sim.baseUrl(), token, threads)) {
      List<String> uuids = create(sim, n);
      String me = sim.tokenUuid(token);
      sim.clearHistory();
      sim.resetRequestCounts();
      settle();
      java.util.Map<Long, ThreadCpu.Sample> threads0 = ThreadCpu.snapshot();
      long jit0 = jitMillis();
      long cpu0 = processCpuNanos();
      CeilingLoad.Result load = CeilingLoad.drive(raw, uuids, me, threads);
      double secs = load.seconds();
      long cpu1 = processCpuNanos();
      String split =
          ThreadCpu.split(
              threads0,
              ThreadCpu.snapshot(),
              java.util.Map.of("ceiling", load.clientCpuNanos()),
              cpu1 - cpu0,
              n);
      long jit = jitMillis() - jit0;
      long all = sim.requestCounts().values().stream().mapToLong(Long::longValue).sum();
      return new Ceiling(
          n, threads, when, secs, n / secs, (double) all / n, (cpu1 - cpu0) / 1e3 / n, split, jit);
    }
  }

  static void report(
      Report rep, List<Run> runs, List<Ceiling> ceilings, int concurrency, Duration poll) {
    rep.heading("3. Dispatch throughput and scaling");
    rep.para(
        "Each run starts a fresh in-process simulator with N Queued containers (priorities 1–1000, seeded) and "
            + "D Dispatchers, each with its own admin token and ArvadosClient (default OkHttp settings), "
            + "`maxConcurrentRuns "
            + concurrency
            + "`, `pollInterval "
            + Durations.format(poll)
            + "`, `lockRetryInterval 1 s`, "
            + "page size 100. The runner does `markRunning()` then `complete(0, null)` in process (no work), so the "
            + "figure is the dispatch machinery's own rate: N / time from start until the N-th Complete. The ceiling "
            + "drives the same simulator build with raw OkHttp from T threads: per container lock + PUT Running + PUT "
            + "Complete, plus one Queued page and one own-containers page (the Dispatcher's exact queries, `count=exact`) "
            + "per 100 containers, containers shared out without conflicts. Because other processes may load the "
            + "machine, every dispatcher run is bracketed by two ceiling runs with the largest thread count, and its share "
            + "is taken against the better of those two (\"adjacent ceiling\"); the best ceiling of all runs of that N "
            + "is shown too. Before the first measured run, one unreported warm-up runs a ceiling and the fewest and the most "
            + "dispatchers over up to "
            + WARM_UP_CONTAINERS
            + " containers, so that no measured run meets code the JIT has not compiled yet. "
            + "Client and server share the 2 cores in both cases. CPU µs per container is"
            + " the JVM's CPU time over the run (clients, dispatchers and the simulator together,"
            + " `OperatingSystemMXBean.getProcessCpuTime`) over N, split by thread (`ThreadMXBean`): sim"
            + " the simulator's HTTP threads, runner, lock and poll the dispatchers', ceiling the raw clients',"
            + " other the remaining Java threads (OkHttp's, main), JVM the rest of the process (GC, the JIT"
            + " compilers); JIT compiling is the compilers' time over the run (`CompilationMXBean`). The"
            + " warm-up repeats until the JIT compiles for at most a tenth of a round. CPU use is that time over the run's"
            + " wall time and the cores. When both runs use the cores fully, the share of the"
            + " ceiling is about the ratio of their CPU per container.");
    List<List<String>> ct = new ArrayList<>();
    for (Ceiling c : ceilings) {
      ct.add(
          List.of(
              Integer.toString(c.containers()),
              Integer.toString(c.threads()),
              c.when(),
              Summary.f("%.0f", c.perSecond()),
              Summary.f("%.2f", c.seconds()),
              Summary.f("%.2f", c.requestsPerContainer()),
              Summary.f("%.0f", c.cpuMicrosPerContainer()),
              c.cpuByThread(),
              Long.toString(c.jitMillis()),
              cpuUse(c.cpuMicrosPerContainer() * c.containers(), c.seconds())));
    }
    rep.sub("Ceiling: raw HTTP, same per-container requests");
    rep.table(
        List.of(
            "containers",
            "threads",
            "measured",
            "containers/s",
            "seconds",
            "requests per container",
            "CPU µs per container (JVM)",
            "of which, by thread",
            "JIT compiling (ms)",
            "CPU use"),
        ct);
    rep.sub("Dispatchers");
    List<List<String>> rt = new ArrayList<>();
    for (Run r : runs) {
      double ceil = best(ceilings, r.containers());
      rt.add(
          List.of(
              Integer.toString(r.containers()),
              Integer.toString(r.dispatchers()),
              Summary.f("%.0f", r.perSecond()),
              Summary.f("%.2f", r.seconds()),
              Summary.f("%.0f%%", 100 * r.perSecond() / r.adjacentCeiling()),
              Summary.f("%.0f%%", 100 * r.perSecond() / ceil),
              Long.toString(r.conflicts()),
              Summary.f("%.3f", r.conflictsPerContainer()),
              Summary.f(
                  "%.3f",
                  r.dispatchers() <= 1 ? 0 : r.conflictsPerContainer() / (r.dispatchers() - 1)),
              Long.toString(r.polls()),
              Summary.f("%.0f", r.lists()),
              Summary.f("%.2f", r.requestsPerContainer()),
              Summary.f("%.0f", r.cpuMicrosPerContainer()),
              r.cpuByThread(),
              Long.toString(r.jitMillis()),
              cpuUse(r.cpuMicrosPerContainer() * r.containers(), r.seconds()),
              (r.allComplete() ? "all Complete" : "NOT all Complete")
                  + (r.safe() ? ", safe" : ", SAFETY VIOLATION")));
    }
    rep.table(
        List.of(
            "containers",
            "dispatchers",
            "containers/s",
            "seconds",
            "share of adjacent ceiling",
            "share of best ceiling",
            "lock conflicts",
            "conflicts per container",
            "conflicts per container per rival",
            "polls (all)",
            "list requests",
            "requests per container (server)",
            "CPU µs per container (JVM)",
            "of which, by thread",
            "JIT compiling (ms)",
            "CPU use",
            "outcome"),
        rt);
    for (int n : runs.stream().map(Run::containers).distinct().toList()) {
      Run single = null;
      Run biggest = null;
      Run two = null;
      for (Run r : runs) {
        if (r.containers() != n) {
          continue;
        }
        if (r.dispatchers() == 1) {
          single = r;
        }
        if (biggest == null || r.dispatchers() > biggest.dispatchers()) {
          biggest = r;
        }
        if (r.dispatchers() >= 2 && (two == null || r.dispatchers() < two.dispatchers())) {
          two = r;
        }
      }
      if (single != null) {
        shareTarget(rep, single, TARGET_SHARE_ALONE, n, ceilings);
      }
      if (biggest != single) {
        shareTarget(rep, biggest, TARGET_SHARE_RACING, n, ceilings);
        rep.target(
            "3",
            "lock conflicts per container with "
                + biggest.dispatchers()
                + " dispatchers ≤ "
                + Summary.f("%.1f", TARGET_CONFLICTS)
                + " (N="
                + n
                + ")",
            Summary.f("%.3f", biggest.conflictsPerContainer()),
            biggest.conflictsPerContainer() <= TARGET_CONFLICTS);
      }
      if (two != null && two != biggest) {
        StringBuilder perRival = new StringBuilder();
        for (Run r : runs) {
          if (r.containers() == n && r.dispatchers() >= 2) {
            perRival
                .append(perRival.isEmpty() ? "" : ", ")
                .append("D=")
                .append(r.dispatchers())
                .append(": ")
                .append(Summary.f("%.3f", perRival(r)));
          }
        }
        rep.target(
            "3",
            "lock conflicts per container per rival fall as dispatchers are added, D="
                + two.dispatchers()
                + " → "
                + biggest.dispatchers()
                + " (N="
                + n
                + "; the largest D's not above the smallest's)",
            perRival.toString(),
            perRival(biggest) <= perRival(two));
      }
    }
  }

  private static double perRival(Run r) {
    return r.conflictsPerContainer() / Math.max(1, r.dispatchers() - 1);
  }

  private static void shareTarget(Report rep, Run r, double target, int n, List<Ceiling> ceilings) {
    double ceil = r.adjacentCeiling();
    double share = r.perSecond() / ceil;
    rep.target(
        "3",
        (r.dispatchers() == 1 ? "1 dispatcher" : r.dispatchers() + " racing dispatchers")
            + " ≥ "
            + Summary.f("%.0f%%", 100 * target)
            + " of the ceiling (N="
            + n
            + ")",
        Summary.f("%.0f", r.perSecond())
            + " of "
            + Summary.f("%.0f", ceil)
            + " containers/s (adjacent ceiling) = "
            + Summary.f("%.0f%%", 100 * share)
            + "; of the best ceiling "
            + Summary.f("%.0f", best(ceilings, n))
            + ": "
            + Summary.f("%.0f%%", 100 * r.perSecond() / best(ceilings, n)),
        share >= target && r.allComplete());
  }

  /** CPU time over wall time and cores: how busy the machine's CPUs were for this JVM. */
  static String cpuUse(double cpuMicros, double seconds) {
    int cores = Runtime.getRuntime().availableProcessors();
    return Summary.f("%.0f%%", 100 * cpuMicros / 1e6 / seconds / cores) + " of " + cores;
  }

  static double best(List<Ceiling> ceilings, int n) {
    double b = 0;
    for (Ceiling c : ceilings) {
      if (c.containers() == n) {
        b = Math.max(b, c.perSecond());
      }
    }
    return b;
  }
}

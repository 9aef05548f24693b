package dev.crunchguard.benchmarks;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.dispatch.Dispatcher;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * Benchmark 5: heap per ContainerLock and per tracked container, threads per dispatcher, client
 * start-up. The simulator runs in another JVM so that this JVM's heap holds only client objects.
 */
final class MemoryBench {
  /** The first version's target for both heap rows. */
  static final long TARGET_BYTES = 2048;

  /** Issue 11, target 5: heap per tracked container in the dispatcher. */
  static final long TARGET_TRACKED_BYTES = 1000;

  private MemoryBench() {}

  record Tracked(int n, long deltaBytes, int threadsAdded) {}

  record QueueThreads(int queued, int threadsAdded, String names) {}

  static void run(
      Report rep,
      int locks,
      List<Integer> trackedSizes,
      int startups,
      boolean smoke,
      PrintStream progress)
      throws Exception {
    List<String> tokens = new ArrayList<>();
    tokens.add("benchmemorylocks0123456789");
    for (int i = 0; i < trackedSizes.size(); i++) {
      tokens.add("benchmemorytracked" + i + "x0123456789");
    }
    int maxTracked = trackedSizes.stream().mapToInt(Integer::intValue).max().orElse(0);
    double perLock;
    double perResumed;
    List<Tracked> tracked = new ArrayList<>();
    List<QueueThreads> queueThreads = new ArrayList<>();
    double[] coldBuild;
    double[] coldFirst;
    double[] jvmToMain;
    Summary warmBuild;
    int extra = smoke ? 20 : 1_000;
    int total = locks + maxTracked + extra;
    progress.printf("[bench] 5. memory: simulator with %d containers in another JVM%n", total);
    String threadsToken = "benchmemorythreads0123456789";
    tokens.add(threadsToken);
    try (Child sim =
        Child.start(
            List.of(),
            List.of(
                "bench-serve",
                "--kind",
                "sim",
                "--containers",
                Integer.toString(total),
                "--tokens",
                String.join(",", tokens)))) {
      BenchServer.Ready server = sim.report(BenchServer.Ready.class);
      String url = server.url();
      List<String> uuids = server.containers();

      // --- threads with the whole table Queued ---
      queueThreads.add(threadsRun(url, threadsToken, total, progress));

      // --- heap per ContainerLock (these stay locked: the queue shrinks by as many) ---
      try (ArvadosClient client =
          ArvadosClient.builder().baseUrl(url).token(tokens.get(0)).build()) {
        List<String> lockUuids = uuids.subList(0, locks);
        ContainerLock[] held = new ContainerLock[locks];
        progress.printf("[bench] 5. locking %d containers%n", locks);
        for (int i = 0; i < locks; i++) {
          held[i] = client.containers().lock(lockUuids.get(i));
        }
        List<LockEpoch> handoffs = new ArrayList<>(locks);
        for (ContainerLock l : held) {
          handoffs.add(l.epoch());
        }
        long withLocks = Heap.usedAfterGc();
        Arrays.fill(held, null);
        long without = Heap.usedAfterGc();
        perLock = (double) (withLocks - without) / locks;
        for (int i = 0; i < locks; i++) {
          held[i] = client.containers().resume(handoffs.get(i));
        }
        long withResumed = Heap.usedAfterGc();
        Arrays.fill(held, null);
        long without2 = Heap.usedAfterGc();
        perResumed = (double) (withResumed - without2) / locks;
        progress.printf(
            "[bench] 5. %.0f B per lock from lock(), %.0f B per resumed lock%n",
            perLock, perResumed);
      }

      // --- heap per tracked container ---
      for (int k = 0; k < trackedSizes.size(); k++) {
        int n = trackedSizes.get(k);
        tracked.add(trackedRun(url, tokens.get(k + 1), n, progress));
      }

      // --- threads with a shorter queue (the locked ones are gone from it) ---
      queueThreads.add(threadsRun(url, threadsToken, total - locks, progress));

      // --- start-up ---
      progress.printf("[bench] 5. start-up: %d fresh JVMs%n", startups);
      coldBuild = new double[startups];
      coldFirst = new double[startups];
      jvmToMain = new double[startups];
      for (int i = 0; i < startups; i++) {
        try (Child c =
            Child.start(
                List.of(),
                List.of(
                    "bench-startup",
                    "--url",
                    url,
                    "--token",
                    tokens.get(0),
                    "--uuid",
                    uuids.get(0)))) {
          Startup s = c.report(Startup.class);
          jvmToMain[i] = s.jvmToMainMs();
          coldBuild[i] = s.buildMs();
          coldFirst[i] = s.firstCallMs();
        }
      }
      int builds = smoke ? 50 : 2000;
      double[] warm = new double[builds];
      for (int i = -builds / 4; i < builds; i++) {
        long a = System.nanoTime();
        ArvadosClient c = ArvadosClient.builder().baseUrl(url).token(tokens.get(0)).build();
        long b = System.nanoTime();
        c.close();
        if (i >= 0) {
          warm[i] = (b - a) / 1e3;
        }
      }
      warmBuild = Summary.of(warm);
    }
    report(
        rep,
        locks,
        perLock,
        perResumed,
        tracked,
        queueThreads,
        Summary.of(jvmToMain),
        Summary.of(coldBuild),
        Summary.of(coldFirst),
        warmBuild);
  }

  private static Dispatcher blocking(ArvadosClient client, int concurrency) {
    return Dispatcher.builder(client, ctx -> ctx.cancellation().await(Duration.ofHours(1)))
        .maxConcurrentRuns(concurrency)
        .pollInterval(Duration.ofMillis(50))
        .pageSize(1000)
        .shutdownTimeout(Duration.ofSeconds(30))
        .events(false) // polled by hand; no stream either way
        .build();
  }

  private static void awaitActive(Dispatcher d, int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (d.stats().active() < n) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("dispatcher tracks " + d.stats().active() + " of " + n);
      }
      Thread.sleep(20);
    }
  }

  static Tracked trackedRun(String url, String token, int n, PrintStream progress)
      throws InterruptedException {
    try (ArvadosClient client = ArvadosClient.builder().baseUrl(url).token(token).build()) {
      client.tokenUuid();
      int threads0 = Heap.liveThreads();
      long base = Heap.usedAfterGc();
      Dispatcher d = blocking(client, n);
      try {
        // Polled by hand, not started: no poll is in flight (holding a page of listed records)
        // while
        // the heap is read, so the figure is what the dispatcher retains between polls.
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (d.stats().active() < n) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("dispatcher tracks " + d.stats().active() + " of " + n);
          }
          d.pollOnce();
        }
        d.pollOnce();
        Thread.sleep(200);
        long with = Heap.usedAfterGc();
        int threads = Heap.liveThreads() - threads0;
        progress.printf(
            "[bench] 5. dispatcher tracking %d: +%d KiB heap, +%d threads%n",
            n, (with - base) >> 10, threads);
        return new Tracked(n, with - base, threads);
      } finally {
        d.close();
      }
    }
  }

  static QueueThreads threadsRun(String url, String token, int queued, PrintStream progress)
      throws InterruptedException {
    try (ArvadosClient client = ArvadosClient.builder().baseUrl(url).token(token).build()) {
      Set<Long> before =
          Thread.getAllStackTraces().keySet().stream()
              .map(Thread::getId)
              .collect(Collectors.toSet());
      Dispatcher d = blocking(client, 8);
      try {
        d.start();
        awaitActive(d, 8);
        Thread.sleep(300);
        TreeMap<String, Integer> names = new TreeMap<>();
        int dispatcherThreads = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
          if (!before.contains(t.getId())) {
            names.merge(t.getName().replaceAll("-\\d+$", "-N"), 1, Integer::sum);
            if (t.getName().startsWith("crunchguard-")) {
              dispatcherThreads++;
            }
          }
        }
        String desc =
            names.entrySet().stream()
                .map(e -> e.getKey() + " ×" + e.getValue())
                .collect(Collectors.joining(", "));
        progress.printf(
            "[bench] 5. %d queued, 8 runs: %d dispatcher threads; new threads: %s%n",
            queued, dispatcherThreads, desc);
        return new QueueThreads(queued, dispatcherThreads, desc);
      } finally {
        d.close();
      }
    }
  }

  /** {@code bench-startup}: a fresh JVM that times building its first client and its first call. */
  /** What a {@code bench-startup} child reports: its start-up times. */
  record Startup(double jvmToMainMs, double buildMs, double firstCallMs) {}

  /**
   * {@code bench-startup}: a fresh JVM that builds a client and makes one call, then reports its
   * {@link Startup} times.
   */
  @Command(
      name = "bench-startup",
      hidden = true,
      description = "Internal: one fresh JVM of the start-up measurement.")
  static final class StartupCommand implements Callable<Integer> {
    @ParentCommand BenchmarksMain main;

    @Option(names = "--url", required = true)
    String url = "";

    @Option(names = "--token", required = true)
    String token = "";

    @Option(names = "--uuid", required = true)
    String uuid = "";

    @Override
    public Integer call() {
      long mainAt = System.currentTimeMillis();
      long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
      long t0 = System.nanoTime();
      Startup s;
      try (ArvadosClient client = ArvadosClient.builder().baseUrl(url).token(token).build()) {
        long t1 = System.nanoTime();
        client.containers().get(uuid);
        long t2 = System.nanoTime();
        s = new Startup(mainAt - jvmStart, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
      }
      Child.ready(main.out, s);
      return 0;
    }
  }

  static void report(
      Report rep,
      int locks,
      double perLock,
      double perResumed,
      List<Tracked> tracked,
      List<QueueThreads> queue,
      Summary jvmToMain,
      Summary coldBuild,
      Summary coldFirst,
      Summary warmBuild) {
    rep.heading("5. Memory, threads and start-up");
    rep.para(
        "The simulator runs in another JVM; this JVM holds only client objects. Heap = used heap after repeated "
            + "`System.gc()` (MemoryMXBean), as the difference between holding the objects and having dropped them, "
            + "divided by their number. The dispatcher heap runs poll by hand (`pollOnce()`), so no poll is in flight "
            + "when the heap is read: the figures are what it retains between polls (during a poll it also holds the "
            + "listed page of records). Threads = ThreadMXBean live thread count.");
    Tracked lo = tracked.isEmpty() ? null : tracked.get(0);
    Tracked hi = tracked.isEmpty() ? null : tracked.get(tracked.size() - 1);
    double slope =
        lo == null || hi == lo
            ? Double.NaN
            : (double) (hi.deltaBytes() - lo.deltaBytes()) / (hi.n() - lo.n());
    double threadSlope =
        lo == null || hi == lo
            ? Double.NaN
            : (double) (hi.threadsAdded() - lo.threadsAdded()) / (hi.n() - lo.n());
    List<List<String>> t = new ArrayList<>();
    t.add(
        List.of(
            "ContainerLock from `lock()` (keeps the 5-field lock response as `lastSeen`)",
            Integer.toString(locks),
            Summary.f("%.0f", perLock)));
    t.add(
        List.of(
            "ContainerLock from `resume(handoff)` (no record)",
            Integer.toString(locks),
            Summary.f("%.0f", perResumed)));
    for (Tracked x : tracked) {
      t.add(
          List.of(
              "Dispatcher tracking "
                  + x.n()
                  + " containers (blocking runners, maxConcurrentRuns "
                  + x.n()
                  + "): whole dispatcher",
              Integer.toString(x.n()),
              Summary.f("%.0f", (double) x.deltaBytes() / x.n())
                  + " (total "
                  + (x.deltaBytes() >> 10)
                  + " KiB, +"
                  + x.threadsAdded()
                  + " threads)"));
    }
    if (!Double.isNaN(slope)) {
      t.add(
          List.of(
              "Dispatcher: marginal heap per tracked container (slope "
                  + lo.n()
                  + " → "
                  + hi.n()
                  + "), including its runner thread's heap objects",
              "",
              Summary.f("%.0f", slope)));
    }
    rep.table(List.of("what", "instances", "bytes each"), t);
    rep.sub("Threads per dispatcher");
    List<List<String>> q = new ArrayList<>();
    for (QueueThreads x : queue) {
      q.add(
          List.of(
              Integer.toString(x.queued()), "8", Integer.toString(x.threadsAdded()), x.names()));
    }
    rep.para(
        "A Dispatcher with `maxConcurrentRuns 8` and blocking runners, 8 containers tracked, against queues of "
            + "different lengths, on one simulator (the second measurement runs after the lock test has taken containers "
            + "out of the queue). Dispatcher threads = new threads named `crunchguard-*`; all new threads (OkHttp's "
            + "shared TaskRunner threads come and go with idle connections) are listed:");
    rep.table(List.of("Queued containers", "tracked", "dispatcher threads", "all new threads"), q);
    if (!Double.isNaN(threadSlope)) {
      rep.para(
          "With blocking runners every tracked container occupies one runner thread (the runner API is "
              + "synchronous): "
              + Summary.f("%.2f", threadSlope)
              + " threads per additional tracked container between "
              + lo.n()
              + " and "
              + hi.n()
              + ". Threads are bounded by `maxConcurrentRuns`, not by the queue.");
    }
    rep.sub("Client start-up");
    rep.table(
        List.of("measure", "runs", "median", "min – max"),
        List.of(
            List.of(
                "fresh JVM: JVM start → main (ms, RuntimeMXBean start time)",
                Integer.toString(jvmToMain.n()),
                Summary.f("%.0f ms", jvmToMain.median()),
                Summary.f("%.0f", jvmToMain.min()) + " – " + Summary.f("%.0f", jvmToMain.max())),
            List.of(
                "fresh JVM: first `ArvadosClient.builder()…build()`",
                Integer.toString(coldBuild.n()),
                Summary.f("%.0f ms", coldBuild.median()),
                Summary.f("%.0f", coldBuild.min()) + " – " + Summary.f("%.0f", coldBuild.max())),
            List.of(
                "fresh JVM: first request (`containers().get`)",
                Integer.toString(coldFirst.n()),
                Summary.f("%.0f ms", coldFirst.median()),
                Summary.f("%.0f", coldFirst.min()) + " – " + Summary.f("%.0f", coldFirst.max())),
            List.of(
                "warm JVM: build + close a client",
                Integer.toString(warmBuild.n()),
                Summary.f("%.0f µs", warmBuild.median()),
                Summary.f("%.0f", warmBuild.p10())
                    + " – "
                    + Summary.f("%.0f", warmBuild.p90())
                    + " (p10–p90)")));
    rep.target(
        "5",
        "heap per ContainerLock < 2 KB",
        Summary.f("%.0f B", perLock) + " (resumed: " + Summary.f("%.0f B", perResumed) + ")",
        perLock < TARGET_BYTES);
    if (!Double.isNaN(slope)) {
      rep.target(
          "5",
          "heap per tracked container in the dispatcher ≤ 1,000 B",
          Summary.f("%.0f B", slope) + " marginal, including the heap part of its runner thread",
          slope <= TARGET_TRACKED_BYTES);
    }
    if (queue.size() >= 2) {
      boolean same = queue.stream().map(QueueThreads::threadsAdded).distinct().count() == 1;
      rep.target(
          "5",
          "threads per dispatcher independent of the number of containers",
          queue.stream()
              .map(x -> x.queued() + " queued: " + x.threadsAdded() + " threads")
              .collect(Collectors.joining("; ")),
          same);
    }
  }
}

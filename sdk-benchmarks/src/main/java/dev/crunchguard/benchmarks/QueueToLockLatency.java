package dev.crunchguard.benchmarks;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.DispatcherStats;
import dev.crunchguard.dispatch.EventStreamStatus;
import dev.crunchguard.examples.cli.Durations;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.HistoryEvent;
import dev.crunchguard.testkit.WriteAction;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Benchmark 7 (issue 12): queue-to-lock latency, from the moment a container is created Queued with
 * a priority above 0 until the dispatcher's lock is accepted, both read from the simulator's
 * history, with the event stream (at several {@code eventPollDelay}s) and with polling only (at
 * several intervals); and the requests per container the server answered in each.
 */
final class QueueToLockLatency {
  static final String TOKEN = "benchlatencydispatchertoken01234";

  /** {@code Dispatcher.Builder.eventPollDelay}'s default. */
  static final Duration DEFAULT_DELAY = Duration.ofMillis(5);

  /** More than the dispatcher ever holds at once here: capacity never delays a lock. */
  static final int CONCURRENCY = 256;

  static final double TARGET_P50_MS = 50;
  static final double TARGET_P99_MS = 250;
  static final double TARGET_REQUESTS_MARGIN = 1.10;

  private QueueToLockLatency() {}

  /** One configuration of the dispatcher. */
  record Config(
      boolean events, Duration poll, @Nullable Duration delay, boolean runnerReadsRecord) {
    Config(boolean events, Duration poll, @Nullable Duration delay) {
      this(events, poll, delay, false);
    }

    String label() {
      String reads = runnerReadsRecord ? ", runner reads `ctx.container()`" : "";
      if (!events) {
        return "polling every " + Durations.format(poll) + reads;
      }
      Duration d = delay == null ? DEFAULT_DELAY : delay;
      return "events, eventPollDelay "
          + Durations.format(d)
          + (d.equals(DEFAULT_DELAY) ? " (default)" : "")
          + reads;
    }
  }

  record Run(
      Config config,
      int containers,
      Summary latencyMs,
      double seconds,
      double requestsPerContainer,
      double listsPerContainer,
      double locksPerContainer,
      double updatesPerContainer,
      long polls,
      long eventPolls,
      EventStreamStatus stream,
      long reconnects,
      long queueFullDisconnects,
      boolean allLocked,
      boolean safe) {}

  static void run(
      Report rep,
      int n,
      double ratePerSecond,
      List<Duration> delays,
      List<Duration> pollIntervals,
      PrintStream progress)
      throws Exception {
    Duration longest = pollIntervals.stream().max(Comparator.naturalOrder()).orElseThrow();
    List<Config> configs = new ArrayList<>();
    for (Duration d : delays) {
      configs.add(new Config(true, longest, d));
    }
    // A runner that needs the record (command, constraints) pays one read per container locked
    // straight from an event; a listed container's record comes with the list.
    configs.add(new Config(true, longest, delays.get(0), true));
    for (Duration p : pollIntervals) {
      configs.add(new Config(false, p, null));
    }
    // JIT warm-up of the client, the dispatcher and the simulator; not reported.
    Run warm =
        measure(new Config(true, longest, delays.get(0)), Math.max(10, n / 5), ratePerSecond, 1);
    progress.printf(
        "[bench] 7. warm-up (%d containers, events): p50 %.1f ms%n",
        warm.containers(), warm.latencyMs().median());
    List<Run> runs = new ArrayList<>();
    for (Config c : configs) {
      Run r = measure(c, n, ratePerSecond, 42);
      progress.printf(
          "[bench] 7. %s: p50 %.1f ms, p99 %.1f ms, %.2f requests per container, %d polls (%d"
              + " triggered by events), %.1f s%n",
          c.label(),
          r.latencyMs().median(),
          r.latencyMs().p99(),
          r.requestsPerContainer(),
          r.polls(),
          r.eventPolls(),
          r.seconds());
      runs.add(r);
    }
    report(rep, runs, n, ratePerSecond, longest);
  }

  static Run measure(Config c, int n, double ratePerSecond, long seed) throws Exception {
    try (ArvadosSimulator sim =
            ArvadosSimulator.builder().adminToken(TOKEN).events(c.events()).build().start();
        ArvadosClient client =
            ArvadosClient.builder()
                .baseUrl(sim.baseUrl())
                .token(TOKEN)
                .clientId("latency-dispatcher")
                .build()) {
      CountDownLatch done = new CountDownLatch(n);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Dispatcher.Builder b =
          Dispatcher.builder(client, CompletingRunner.of(c.runnerReadsRecord(), done, failure))
              .maxConcurrentRuns(CONCURRENCY)
              .pollInterval(c.poll())
              .lockRetryInterval(Duration.ofSeconds(1))
              .events(c.events());
      if (c.delay() != null) {
        b.eventPollDelay(c.delay());
      }
      Random rnd = new Random(seed);
      List<String> uuids = new ArrayList<>(n);
      DispatcherStats stats;
      long t0;
      long t1;
      boolean finished;
      try (Dispatcher d = b.build()) {
        sim.resetRequestCounts();
        sim.clearHistory();
        d.start();
        // The first poll (and the stream's subscription) happens before the first arrival.
        long ready = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((d.stats().polls() < 1
                || (c.events() && d.stats().eventStream() != EventStreamStatus.UP))
            && System.nanoTime() - ready < 0) {
          Thread.sleep(5);
        }
        if (c.events() && d.stats().eventStream() != EventStreamStatus.UP) {
          throw new IllegalStateException("the event stream did not come up: " + d.stats());
        }
        Thread.sleep(100); // the subscription's acknowledgement follows the connection
        // Poisson arrivals: exponential gaps with the given mean rate, at absolute times, so a
        // late create does not shift the ones after it.
        t0 = System.nanoTime();
        double at = 0;
        for (int i = 0; i < n; i++) {
          at += -Math.log(1 - rnd.nextDouble()) / ratePerSecond;
          long due = t0 + (long) (at * 1e9);
          for (long left = due - System.nanoTime(); left > 0; left = due - System.nanoTime()) {
            LockSupport.parkNanos(left);
          }
          uuids.add(
              sim.createContainer(ContainerSpec.builder().priority(1 + rnd.nextInt(1000)).build()));
        }
        long wait = c.poll().multipliedBy(2).plusSeconds(60).toMillis();
        finished = done.await(wait, TimeUnit.MILLISECONDS);
        t1 = System.nanoTime();
        stats = d.stats();
      }
      if (failure.get() != null) {
        throw new IllegalStateException("a runner failed", failure.get());
      }
      Map<String, Long> created = new HashMap<>();
      Map<String, Long> locked = new HashMap<>();
      for (HistoryEvent h : sim.history()) {
        if (h.action() == WriteAction.CREATE) {
          created.putIfAbsent(h.containerUuid(), h.monotonicNanos());
        } else if (h.action() == WriteAction.LOCK && h.accepted()) {
          locked.putIfAbsent(h.containerUuid(), h.monotonicNanos());
        }
      }
      double[] ms = new double[uuids.size()];
      int k = 0;
      for (String u : uuids) {
        Long from = created.get(u);
        Long to = locked.get(u);
        if (from != null && to != null) {
          ms[k++] = (to - from) / 1e6;
        }
      }
      double[] latencies = java.util.Arrays.copyOf(ms, k);
      long all = sim.requestCounts().values().stream().mapToLong(Long::longValue).sum();
      long reconnects = c.events() ? Math.max(0, sim.events().connectionsAccepted() - 1) : 0;
      long queueFull = c.events() ? sim.events().queueFullDisconnects() : 0;
      return new Run(
          c,
          n,
          Summary.of(latencies),
          (t1 - t0) / 1e9,
          (double) all / n,
          (double) sim.requestCount(Endpoint.LIST) / n,
          (double) sim.requestCount(Endpoint.LOCK) / n,
          (double) sim.requestCount(Endpoint.UPDATE) / n,
          stats.polls(),
          stats.eventPolls(),
          stats.eventStream(),
          reconnects,
          queueFull,
          finished && k == n,
          sim.checkSafety().isSafe());
    }
  }

  static void report(Report rep, List<Run> runs, int n, double rate, Duration longest) {
    rep.heading("7. Queue-to-lock latency, events against polling (issue 12)");
    rep.para(
        "Each configuration starts a fresh in-process simulator (events on where the dispatcher"
            + " uses them) and one Dispatcher (its own ArvadosClient, `maxConcurrentRuns "
            + CONCURRENCY
            + "` so that capacity never delays a lock, `lockRetryInterval 1 s`). After its first"
            + " poll (and, with events, once its stream is UP) "
            + n
            + " containers arrive through the simulator's Java API as a Poisson process of "
            + Summary.f("%.0f", rate)
            + " per second (exponential gaps, mean "
            + Summary.f("%.0f", 1000 / rate)
            + " ms, seeded), each created Queued with a priority of 1–1000. The runner does"
            + " `markRunning()` then `complete(0, null)` in process; in the row marked \"runner"
            + " reads `ctx.container()`\" it first reads the record's command, which for a"
            + " container locked straight from an event costs one GET (the lock answer has five"
            + " fields). Latency is the simulator's"
            + " own history: from the container's create to its accepted lock (both"
            + " `System.nanoTime()` in the same JVM). Requests per container are every request"
            + " the simulator answered from the dispatcher's start to its close, over N (lock,"
            + " Running, Complete, the lists of the periodic and the triggered polls; the"
            + " websocket is not counted). With events the periodic poll stays at "
            + Durations.format(longest)
            + ". A reconnection of the stream is counted by the simulator (connections it accepted"
            + " after the first; in brackets those it closed because the client's queue of 64"
            + " events was full, as arvados-ws does). A warm-up run (not shown) precedes the"
            + " measured ones. Client, dispatcher and"
            + " simulator share the JVM and the machine's CPUs.");
    List<List<String>> rows = new ArrayList<>();
    for (Run r : runs) {
      Summary s = r.latencyMs();
      rows.add(
          List.of(
              r.config().label(),
              Durations.format(r.config().poll()),
              Integer.toString(r.containers()),
              Summary.f("%.1f", s.median()),
              Summary.f("%.1f", s.p90()),
              Summary.f("%.1f", s.p99()),
              Summary.f("%.1f", s.max()),
              Summary.f("%.2f", r.requestsPerContainer()),
              Summary.f("%.2f", r.listsPerContainer()),
              Summary.f("%.2f", r.locksPerContainer()),
              Summary.f("%.2f", r.updatesPerContainer()),
              r.polls() + " (" + r.eventPolls() + ")",
              r.config().events() ? r.stream().toString() : "OFF",
              r.config().events() ? r.reconnects() + " (" + r.queueFullDisconnects() + ")" : "–",
              Summary.f("%.1f", r.seconds()),
              (r.allLocked() ? "all locked" : "NOT all locked")
                  + (r.safe() ? ", safe" : ", SAFETY VIOLATION")));
    }
    rep.table(
        List.of(
            "configuration",
            "periodic poll",
            "containers",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "requests per container",
            "lists per container",
            "locks per container",
            "updates per container",
            "polls (by events)",
            "stream at the end",
            "stream reconnections (client queue full)",
            "seconds",
            "outcome"),
        rows);
    Run baseline = null;
    for (Run r : runs) {
      if (!r.config().events() && r.config().poll().equals(longest)) {
        baseline = r;
      }
    }
    List<String> meetsAll = new ArrayList<>();
    for (Run r : runs) {
      if (!r.config().events()) {
        continue;
      }
      String who = r.config().label();
      Summary s = r.latencyMs();
      boolean p50 = s.median() <= TARGET_P50_MS && r.allLocked();
      boolean p99 = s.p99() <= TARGET_P99_MS && r.allLocked();
      rep.target(
          "7",
          who + ": queue-to-lock p50 ≤ " + Summary.f("%.0f", TARGET_P50_MS) + " ms",
          Summary.f("%.1f ms", s.median()),
          p50);
      rep.target(
          "7",
          who + ": queue-to-lock p99 ≤ " + Summary.f("%.0f", TARGET_P99_MS) + " ms",
          Summary.f("%.1f ms", s.p99()),
          p99);
      boolean requests = false;
      if (baseline != null) {
        double limit = baseline.requestsPerContainer() * TARGET_REQUESTS_MARGIN;
        requests = r.requestsPerContainer() <= limit;
        rep.target(
            "7",
            who
                + ": requests per container ≤ polling every "
                + Durations.format(longest)
                + " + 10%",
            Summary.f("%.2f", r.requestsPerContainer())
                + " against "
                + Summary.f("%.2f", baseline.requestsPerContainer())
                + " (limit "
                + Summary.f("%.2f", limit)
                + ")",
            requests);
      }
      if (p50 && p99 && requests && !r.config().runnerReadsRecord()) {
        meetsAll.add(
            Durations.format(r.config().delay() == null ? DEFAULT_DELAY : r.config().delay()));
      }
    }
    rep.para(
        meetsAll.isEmpty()
            ? "No eventPollDelay measured here met all three targets at this arrival rate."
            : "eventPollDelay meeting all three targets at this arrival rate: "
                + String.join(", ", meetsAll)
                + ".");
  }
}

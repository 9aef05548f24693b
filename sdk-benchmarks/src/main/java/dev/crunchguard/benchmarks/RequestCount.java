package dev.crunchguard.benchmarks;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.dispatch.DispatchListener;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.DispatcherStats;
import dev.crunchguard.runner.RunOutcome;
import dev.crunchguard.runner.RunResult;
import dev.crunchguard.runner.RunnerContext;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultProxy;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Benchmark 2: requests per container life cycle on the happy path, counted by the simulator (the
 * server side), next to what Arvados' dispatch library (sdk/go/dispatch/dispatch.go) plus
 * crunch-run (lib/crunchrun/crunchrun.go) send.
 */
final class RequestCount {
  static final String TOKEN = "benchrequestcounttoken012345";
  static final Endpoint[] READS = {
    Endpoint.GET,
    Endpoint.LIST,
    Endpoint.CURRENT,
    Endpoint.AUTH,
    Endpoint.SECRET_MOUNTS,
    Endpoint.TOKEN_CURRENT
  };

  private RequestCount() {}

  /** Server-side counts of one scenario. */
  record Counts(
      String scenario,
      int containers,
      double lock,
      double update,
      double get,
      double unlock,
      double list,
      double tokenCurrent,
      double other,
      long minPerContainer,
      long maxPerContainer,
      long polls) {
    double perContainer() {
      return lock + update + get + unlock;
    }
  }

  static void run(Report rep, int n, PrintStream progress) throws Exception {
    progress.printf("[bench] 2. request counts: %d life cycles per scenario%n", n);
    List<Counts> rows = new ArrayList<>();
    rows.add(byHand(n));
    rows.add(dispatcher(n, false));
    rows.add(dispatcher(Math.min(n, 50), true));
    report(rep, rows);
  }

  private static ArvadosSimulator sim() {
    return ArvadosSimulator.builder().adminToken(TOKEN).build().start();
  }

  private static ArvadosClient client(ArvadosSimulator sim) {
    return ArvadosClient.builder().baseUrl(sim.baseUrl()).token(TOKEN).build();
  }

  /** lock, Running, Complete through ContainerLock, as the README shows. */
  static Counts byHand(int n) {
    try (ArvadosSimulator sim = sim();
        ArvadosClient client = client(sim)) {
      List<String> uuids = create(sim, n);
      sim.resetRequestCounts();
      for (String uuid : uuids) {
        ContainerLock lock = client.containers().lock(uuid);
        lock.markRunning();
        lock.complete(0, null);
      }
      checkComplete(sim, uuids);
      return counts("ContainerLock by hand (lock, markRunning, complete)", sim, uuids, 0);
    }
  }

  /**
   * A Dispatcher whose runner finishes at once, in process or through a RunnerContext running
   * {@code true}.
   */
  static Counts dispatcher(int n, boolean runnerContext) throws InterruptedException {
    try (ArvadosSimulator sim = sim();
        ArvadosClient client = client(sim);
        ArvadosClient runnerClient = client(sim)) {
      List<String> uuids = create(sim, n);
      sim.resetRequestCounts();
      CountDownLatch done = new CountDownLatch(n);
      AtomicInteger failures = new AtomicInteger();
      Dispatcher d =
          Dispatcher.builder(
                  client,
                  ctx -> {
                    if (runnerContext) {
                      try (RunnerContext rc =
                          RunnerContext.builder(runnerClient, ctx.lock().epoch()).start()) {
                        RunResult r = rc.runCommand(new ProcessBuilder("true"));
                        if (r.outcome() != RunOutcome.COMPLETED) {
                          failures.incrementAndGet();
                        }
                      }
                    } else {
                      ctx.lock().markRunning();
                      ctx.lock().complete(0, null);
                    }
                  })
              .maxConcurrentRuns(4)
              .pollInterval(Duration.ofMillis(20))
              .events(false) // requests per container of polling; part 7 counts them with events
              .listener(
                  new DispatchListener() {
                    @Override
                    public void runnerFinished(String uuid, Throwable failure) {
                      done.countDown();
                    }
                  })
              .build();
      DispatcherStats stats;
      try {
        d.start();
        if (!done.await(5, TimeUnit.MINUTES)) {
          throw new IllegalStateException(
              "dispatcher did not finish " + n + " containers in 5 minutes");
        }
        // Let afterRun's bookkeeping finish before counting: awaitIdle needs one more poll.
        d.awaitIdle(Duration.ofSeconds(30));
      } finally {
        d.close();
      }
      stats = d.stats();
      if (failures.get() > 0) {
        throw new IllegalStateException(failures.get() + " runner(s) did not complete");
      }
      checkComplete(sim, uuids);
      return counts(
          runnerContext
              ? "Dispatcher + RunnerContext (runCommand `true`, watch 5 s), separate runner client"
              : "Dispatcher, runner in process (markRunning, complete)",
          sim,
          uuids,
          stats.polls());
    }
  }

  private static List<String> create(ArvadosSimulator sim, int n) {
    List<String> uuids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      uuids.add(
          sim.createContainer(ContainerSpec.builder().priority(1 + i % 7).command("true").build()));
    }
    return uuids;
  }

  private static void checkComplete(ArvadosSimulator sim, List<String> uuids) {
    for (String u : uuids) {
      if (!sim.container(u).state().equals("Complete")) {
        throw new IllegalStateException(
            u + " ended " + sim.container(u).state() + ", not Complete");
      }
    }
  }

  /** The server-side request counts of a scenario: the simulator's, or a FaultProxy's. */
  interface Served {
    /** Requests for an endpoint, over all containers. */
    long requestCount(Endpoint endpoint);

    /** Action name to count, over all containers. */
    Map<String, Long> requestCounts();

    /** Action name to count, for one container. */
    Map<String, Long> requestCounts(String containerUuid);

    static Served by(ArvadosSimulator sim) {
      return new Served() {
        @Override
        public long requestCount(Endpoint endpoint) {
          return sim.requestCount(endpoint);
        }

        @Override
        public Map<String, Long> requestCounts() {
          return sim.requestCounts();
        }

        @Override
        public Map<String, Long> requestCounts(String containerUuid) {
          return sim.requestCounts(containerUuid);
        }
      };
    }

    static Served by(FaultProxy proxy) {
      return new Served() {
        @Override
        public long requestCount(Endpoint endpoint) {
          return proxy.requestCount(endpoint);
        }

        @Override
        public Map<String, Long> requestCounts() {
          return proxy.requestCounts();
        }

        @Override
        public Map<String, Long> requestCounts(String containerUuid) {
          return proxy.requestCounts(containerUuid);
        }
      };
    }
  }

  private static Counts counts(
      String scenario, ArvadosSimulator sim, List<String> uuids, long polls) {
    return counts(scenario, Served.by(sim), uuids, polls);
  }

  static Counts counts(String scenario, Served sim, List<String> uuids, long polls) {
    long min = Long.MAX_VALUE;
    long max = 0;
    for (String u : uuids) {
      long sum = 0;
      for (long v : sim.requestCounts(u).values()) {
        sum += v;
      }
      min = Math.min(min, sum);
      max = Math.max(max, sum);
    }
    double n = uuids.size();
    Map<String, Long> totals = sim.requestCounts();
    long known = 0;
    for (Endpoint e :
        new Endpoint[] {
          Endpoint.LOCK,
          Endpoint.UPDATE,
          Endpoint.GET,
          Endpoint.UNLOCK,
          Endpoint.LIST,
          Endpoint.TOKEN_CURRENT
        }) {
      known += sim.requestCount(e);
    }
    long all = totals.values().stream().mapToLong(Long::longValue).sum();
    return new Counts(
        scenario,
        uuids.size(),
        sim.requestCount(Endpoint.LOCK) / n,
        sim.requestCount(Endpoint.UPDATE) / n,
        sim.requestCount(Endpoint.GET) / n,
        sim.requestCount(Endpoint.UNLOCK) / n,
        sim.requestCount(Endpoint.LIST),
        sim.requestCount(Endpoint.TOKEN_CURRENT),
        all - known,
        min,
        max,
        polls);
  }

  static final List<String> HEADER =
      List.of(
          "scenario",
          "containers",
          "lock",
          "update (PUT)",
          "get",
          "unlock",
          "per container",
          "min – max per container",
          "list (total)",
          "token current (total)",
          "other (total)");

  /** A row of {@link #HEADER}. */
  static List<String> row(Counts c) {
    return List.of(
        c.scenario(),
        Integer.toString(c.containers()),
        Summary.f("%.2f", c.lock()),
        Summary.f("%.2f", c.update()),
        Summary.f("%.2f", c.get()),
        Summary.f("%.2f", c.unlock()),
        Summary.f("%.2f", c.perContainer()),
        c.minPerContainer() + " – " + c.maxPerContainer(),
        Summary.f("%.0f", c.list()) + (c.polls() > 0 ? " (" + c.polls() + " polls)" : ""),
        Summary.f("%.0f", c.tokenCurrent()),
        Summary.f("%.0f", c.other()));
  }

  /** Whether a hand-written life cycle cost exactly lock + 2 PUTs per container, nothing else. */
  static boolean exactlyThree(Counts hand) {
    return hand.minPerContainer() == 3
        && hand.maxPerContainer() == 3
        && hand.lock() == 1.0
        && hand.update() == 2.0
        && hand.get() == 0
        && hand.unlock() == 0
        && hand.list() == 0
        && hand.tokenCurrent() == 0
        && hand.other() == 0;
  }

  static void report(Report rep, List<Counts> rows) {
    rep.heading("2. Requests per container life cycle (happy path), counted by the server");
    rep.para(
        "The simulator counts every request it receives, per endpoint and per container. Per-container "
            + "columns are averages over the scenario's containers; list and token requests are per process and shown "
            + "as totals (they are amortised over all containers and grow with the number of polls, not of containers).");
    List<List<String>> t = new ArrayList<>();
    for (Counts c : rows) {
      t.add(row(c));
    }
    rep.table(HEADER, t);
    rep.sub(
        "Arvados for the same life cycle, counted from the Arvados source (sdk/go/dispatch, lib/dispatchcloud, lib/crunchrun)");
    rep.para("Per container, on the happy path, with the fewest requests the text allows:");
    rep.table(
        List.of("who", "request (where in the Arvados source)", "count"),
        List.of(
            List.of(
                "dispatcher (sdk/go/dispatch)",
                "POST containers/{uuid}/lock (sdk/go/dispatch/dispatch.go)",
                "1"),
            List.of(
                "crunch-run", "GET containers/{uuid} (lib/crunchrun/crunchrun.go, step 1)", "1"),
            List.of(
                "crunch-run",
                "GET containers/{uuid}/auth (lib/crunchrun/crunchrun.go, step 2)",
                "1"),
            List.of(
                "crunch-run",
                "GET containers/{uuid}/secret_mounts (lib/crunchrun/crunchrun.go, step 2)",
                "1"),
            List.of(
                "crunch-run",
                "PUT state Running (+ gateway_address, log) (lib/crunchrun/crunchrun.go, step 4)",
                "1"),
            List.of(
                "crunch-run",
                "PUT log, periodically while running (lib/crunchrun/crunchrun.go, step 5)",
                "≥ 0 (≥ 1 for runs longer than the log period)"),
            List.of("crunch-run", "PUT exit_code (lib/crunchrun/crunchrun.go, step 6)", "1"),
            List.of(
                "crunch-run",
                "GET select=[output], only with API: true (lib/crunchrun/crunchrun.go, step 7)",
                "0 (1 with API: true)"),
            List.of(
                "crunch-run",
                "PUT final state Complete (+ log, exit_code, output, cost) (lib/crunchrun/crunchrun.go, step 8)",
                "1"),
            List.of("**total per container**", "3 reads + 4 writes", "**7** (+ periodic log PUTs)"),
            List.of(
                "dispatcher, per poll",
                "each of the 2–3 queries (mine; Queued; uuid in ≤20 unseen) is a count query "
                    + "(limit 0) plus its pages (sdk/go/dispatch/dispatch.go); GET api_client_authorizations/current once (sdk/go/dispatch/dispatch.go)",
                "≥ 2 per query that finds anything (count query + a page), so ≥ 3 per poll while it tracks anything")));
    rep.para(
        "arvados-dispatch-cloud (lib/dispatchcloud) also sends one lock per container and polls with `count=none`, keyset "
            + "paging and `limit=1000`; with crunch-run that is again 7 per container. Crunch Guard's hand-written "
            + "life cycle sends 3 (no reads: the guard needs none, the epoch is in the lock response). Its Dispatcher adds "
            + "only list requests: 2 per poll (its own containers, then a page of the queue; `count=exact` on a query's "
            + "first page only, no separate count query), plus a look-up by uuid for tracked containers missing from the "
            + "first. A RunnerContext-based runner, the crunch-run analogue, reads twice at start (the epoch "
            + "check and the full record), and the dispatcher reads once after the run when the runner finished the "
            + "container through its own handed-off lock.");
    Counts hand = rows.get(0);
    boolean exact = exactlyThree(hand);
    rep.target(
        "2",
        "happy path lock → Running → Complete = exactly 3 requests, no hidden reads",
        Summary.f("%.2f", hand.perContainer())
            + " per container (min "
            + hand.minPerContainer()
            + ", max "
            + hand.maxPerContainer()
            + "), "
            + Summary.f("%.0f", hand.get() * hand.containers() + hand.list() + hand.tokenCurrent())
            + " reads; Arvados: 7 (sdk/go/dispatch, lib/crunchrun)",
        exact);
  }
}

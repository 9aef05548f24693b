package dev.crunchguard.benchmarks;

import com.google.gson.JsonObject;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.events.ArvadosEvent;
import dev.crunchguard.events.EventFilter;
import dev.crunchguard.events.EventStream;
import dev.crunchguard.examples.cli.Durations;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Request;

/**
 * Benchmark 6: what the simulator sustains, by raw HTTP from a few client threads in the same JVM:
 * lock, guarded update and two kinds of list, with 1,000 and 100,000 containers in its table.
 */
final class SimulatorCapacity {
  static final String TOKEN = "benchsimulatorcapacitytoken0";

  private SimulatorCapacity() {}

  record Row(int containers, String operation, long requests, double seconds, Summary latencyMs) {
    double perSecond() {
      return requests / seconds;
    }
  }

  /** One timed request of a worker. */
  interface Op {
    void run(int worker, long i) throws IOException;
  }

  static void run(
      Report rep, List<Integer> sizes, Duration duration, int threads, PrintStream progress)
      throws Exception {
    List<Row> rows = new ArrayList<>();
    for (int n : sizes) {
      progress.printf("[bench] 6. simulator with %d containers%n", n);
      try (ArvadosSimulator sim =
              ArvadosSimulator.builder()
                  .adminToken(TOKEN)
                  .maxDispatchAttempts(1_000_000)
                  .build()
                  .start();
          RawHttp raw = new RawHttp(sim.baseUrl(), TOKEN, threads)) {
        long c0 = System.nanoTime();
        Random rnd = new Random(3);
        List<String> uuids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          uuids.add(
              sim.createContainer(ContainerSpec.builder().priority(1 + rnd.nextInt(1000)).build()));
        }
        progress.printf(
            "[bench] 6. created %d containers in %.1f s%n", n, (System.nanoTime() - c0) / 1e9);
        // Warm-up of the server's code paths.
        for (int i = 0; i < (Heap.quick ? 5 : 200); i++) {
          raw.call(raw.byUuids(uuids.subList(0, Math.min(20, n))));
        }

        // lock: rounds over a pool of Queued containers; between timed rounds the pool is unlocked
        // (not timed).
        List<String> pool = uuids.subList(0, Math.min(n, 50_000));
        rows.add(lockRounds(sim, raw, n, pool, duration, threads, progress));
        sim.clearHistory();

        // guarded update: PUT progress with auth_uuid on Running containers, alternating values (a
        // real write).
        int running = Math.min(256, n / 2);
        List<String> runningUuids = new ArrayList<>(uuids.subList(n - running, n));
        List<String> auth = new ArrayList<>();
        for (String u : runningUuids) {
          String a = raw.lock(u);
          raw.update(u, RawHttp.fields(a, "Running", null));
          auth.add(a);
        }
        rows.add(
            timed(
                n,
                "guarded update (PUT progress + auth_uuid)",
                duration,
                threads,
                (w, i) -> {
                  int k = (int) ((w + i * threads) % running);
                  JsonObject f = new JsonObject();
                  f.addProperty("progress", (i & 1) == 0 ? 0.25 : 0.75);
                  f.addProperty("auth_uuid", auth.get(k));
                  raw.update(runningUuids.get(k), f);
                }));
        sim.clearHistory();

        rows.add(
            timed(
                n,
                "list: Dispatcher's queue page (Queued, priority > 0, order priority desc, limit 100, count exact)",
                duration,
                threads,
                (w, i) -> raw.call(raw.queuePage(100))));
        int deep = (n - running) / 2;
        rows.add(
            timed(
                n,
                "list: the same page at offset "
                    + deep
                    + " (half the queue; the Dispatcher's own paging moves the offset)",
                duration,
                threads,
                (w, i) -> raw.call(atOffset(raw.queuePage(100), deep))));
        String me = sim.tokenUuid(TOKEN);
        rows.add(
            timed(
                n,
                "list: Dispatcher's own containers (locked_by_uuid = me: "
                    + running
                    + " Running, order uuid asc, limit 100, count exact)",
                duration,
                threads,
                (w, i) -> raw.call(raw.minePage(me, 100))));
        rows.add(
            timed(
                n,
                "list: uuid in [20 uuids] (count none)",
                duration,
                threads,
                (w, i) -> {
                  int start = (int) ((w * 7919L + i * 20) % Math.max(1, n - 20));
                  raw.call(raw.byUuids(uuids.subList(start, start + 20)));
                }));
        for (Row r : rows.subList(rows.size() - 6, rows.size())) {
          progress.printf(
              "[bench] 6. N=%d %s: %.0f req/s%n", n, r.operation().split(" \\(")[0], r.perSecond());
        }
      }
    }
    String events = eventReplay(Heap.quick ? 500 : 5_000, progress);
    report(rep, rows, duration, threads);
    rep.para(events);
  }

  /**
   * The event stream's sender: {@code n} container events already in the log, replayed to one
   * {@link EventStream} client ({@code resumeAfter}) with a client queue large enough never to
   * fill, so the rate is the sender's (and the client's), not the producer's.
   */
  static String eventReplay(int n, PrintStream progress) throws Exception {
    try (ArvadosSimulator sim =
            ArvadosSimulator.builder()
                .adminToken(TOKEN)
                .events(true)
                .eventsClientQueue(1_000_000)
                .recordHistory(false)
                .build()
                .start();
        ArvadosClient client =
            ArvadosClient.builder().baseUrl(sim.baseUrl()).token(TOKEN).build()) {
      long before = sim.events().lastEventId();
      long c0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        sim.createContainer(ContainerSpec.builder().priority(1).build());
      }
      progress.printf(
          "[bench] 6. events: created %d containers in %.1f s%n",
          n, (System.nanoTime() - c0) / 1e9);
      // resumeAfter needs a positive id: with an empty log the first event (id 1) is left out.
      long expected = before > 0 ? n : n - 1;
      AtomicLong got = new AtomicLong();
      AtomicLong first = new AtomicLong();
      AtomicLong last = new AtomicLong();
      java.util.concurrent.CountDownLatch all = new java.util.concurrent.CountDownLatch(1);
      EventStream.Builder b =
          EventStream.builder(client)
              .subscribe(EventFilter.eventTypeIn(ArvadosEvent.CREATE))
              .objectKinds(ArvadosEvent.KIND_CONTAINER)
              .deliveryQueueCapacity(2 * n + 1024)
              .listener(
                  e -> {
                    long t = System.nanoTime();
                    first.compareAndSet(0, t);
                    last.set(t);
                    if (got.incrementAndGet() == expected) {
                      all.countDown();
                    }
                  });
      b.resumeAfter(Math.max(1, before));
      long t0 = System.nanoTime();
      try (EventStream stream = b.start()) {
        boolean complete =
            all.await(120, java.util.concurrent.TimeUnit.SECONDS) || got.get() >= expected;
        long end = last.get();
        double total = (end - t0) / 1e9;
        double burst = (end - first.get()) / 1e9;
        String line =
            String.format(
                "Event stream (one `EventStream` client, a replay of %,d container events already in"
                    + " the log, client queue 1,000,000): %,d delivered%s in %.2f s from the"
                    + " stream's start, %,.0f events/s from the first event to the last.",
                expected,
                got.get(),
                complete ? "" : " (incomplete after 120 s)",
                total,
                burst > 0 ? (got.get() - 1) / burst : Double.NaN);
        progress.printf("[bench] 6. %s%n", line);
        return line;
      }
    }
  }

  /** The request with its {@code offset} parameter replaced. */
  private static Request.Builder atOffset(Request.Builder rb, int offset) {
    Request r = rb.build();
    return r.newBuilder()
        .url(r.url().newBuilder().setQueryParameter("offset", Integer.toString(offset)).build());
  }

  private static Row lockRounds(
      ArvadosSimulator sim,
      RawHttp raw,
      int n,
      List<String> pool,
      Duration duration,
      int threads,
      PrintStream progress)
      throws Exception {
    long timedNanos = 0;
    long requests = 0;
    List<double[]> lat = new ArrayList<>();
    while (timedNanos < duration.toNanos()) {
      AtomicInteger next = new AtomicInteger();
      long[] spent = new long[1];
      Row r =
          timedUntil(
              n,
              "lock",
              threads,
              () -> next.get() >= pool.size(),
              (w, i) -> {
                int k = next.getAndIncrement();
                if (k < pool.size()) {
                  raw.call(raw.lockRequest(pool.get(k)));
                }
              },
              spent);
      timedNanos += spent[0];
      requests += Math.min(pool.size(), next.get());
      lat.add(r.latencyMs() == null ? new double[0] : new double[] {r.latencyMs().median()});
      {
        // Unlock the pool again, untimed.
        AtomicInteger u = new AtomicInteger();
        timedUntil(
            n,
            "unlock",
            threads,
            () -> u.get() >= pool.size(),
            (w, i) -> {
              int k = u.getAndIncrement();
              if (k < pool.size()) {
                raw.call(raw.unlockRequest(pool.get(k)));
              }
            },
            new long[1]);
      }
      sim.clearHistory();
    }
    double[] medians = lat.stream().mapToDouble(a -> a.length == 0 ? Double.NaN : a[0]).toArray();
    return new Row(
        n,
        "lock (POST .../lock of a Queued container)",
        requests,
        timedNanos / 1e9,
        Summary.of(medians));
  }

  private static Row timed(int n, String name, Duration duration, int threads, Op op)
      throws Exception {
    long deadline = System.nanoTime() + duration.toNanos();
    return timedUntil(n, name, threads, () -> System.nanoTime() >= deadline, op, new long[1]);
  }

  /**
   * Runs {@code op} on {@code threads} threads until {@code stop}; each thread completes at least
   * one request.
   */
  private static Row timedUntil(
      int n, String name, int threads, java.util.function.BooleanSupplier stop, Op op, long[] spent)
      throws Exception {
    AtomicLong count = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> ws = new ArrayList<>();
    double[][] lat = new double[threads][];
    int[] used = new int[threads];
    long t0 = System.nanoTime();
    for (int w = 0; w < threads; w++) {
      int worker = w;
      lat[w] = new double[1024];
      Thread th =
          new Thread(
              () -> {
                try {
                  long i = 0;
                  do {
                    long a = System.nanoTime();
                    op.run(worker, i++);
                    double ms = (System.nanoTime() - a) / 1e6;
                    if (used[worker] == lat[worker].length) {
                      lat[worker] = java.util.Arrays.copyOf(lat[worker], used[worker] * 2);
                    }
                    lat[worker][used[worker]++] = ms;
                    count.incrementAndGet();
                  } while (!stop.getAsBoolean() && failure.get() == null);
                } catch (IOException | RuntimeException e) {
                  failure.compareAndSet(null, e);
                }
              },
              "sim-capacity-" + w);
      th.start();
      ws.add(th);
    }
    for (Thread th : ws) {
      th.join();
    }
    long t1 = System.nanoTime();
    if (failure.get() != null) {
      throw new IllegalStateException(name + " failed", failure.get());
    }
    spent[0] = t1 - t0;
    int total = 0;
    for (int u : used) {
      total += u;
    }
    double[] all = new double[total];
    int p = 0;
    for (int w = 0; w < threads; w++) {
      System.arraycopy(lat[w], 0, all, p, used[w]);
      p += used[w];
    }
    return new Row(n, name, count.get(), (t1 - t0) / 1e9, Summary.of(all));
  }

  static void report(Report rep, List<Row> rows, Duration duration, int threads) {
    rep.heading("6. Simulator capacity");
    rep.para(
        "An in-process simulator (default 16 handler threads) driven by raw OkHttp from "
            + threads
            + " client "
            + "threads in the same JVM (so client and server share the 2 cores), for about "
            + Durations.format(duration)
            + " per operation. lock: rounds over a pool of up to 50,000 Queued containers, the pool unlocked between rounds "
            + "(not timed; latency column = median of the per-round medians). guarded update: alternating `progress` "
            + "values on 256 Running containers (a real write each time), `auth_uuid` in the body. History is cleared "
            + "between operations.");
    List<List<String>> t = new ArrayList<>();
    for (Row r : rows) {
      t.add(
          List.of(
              Integer.toString(r.containers()),
              r.operation(),
              Long.toString(r.requests()),
              Summary.f("%.0f", r.perSecond()),
              Summary.f("%.2f", r.latencyMs().median()),
              Summary.f("%.2f", r.latencyMs().p99())));
    }
    rep.table(
        List.of(
            "containers",
            "operation",
            "requests",
            "requests/s",
            "median latency ms",
            "p99 latency ms"),
        t);
  }
}

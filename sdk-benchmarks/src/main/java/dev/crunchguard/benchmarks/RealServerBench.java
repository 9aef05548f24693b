package dev.crunchguard.benchmarks;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.dispatch.DispatchListener;
import dev.crunchguard.dispatch.Dispatcher;
import dev.crunchguard.dispatch.DispatcherStats;
import dev.crunchguard.examples.cli.Durations;
import dev.crunchguard.testkit.FaultProxy;
import dev.crunchguard.testkit.RealArvados;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;

/**
 * Benchmark 8: parts 2 and 3 against the real Arvados API server ({@link RealArvados}: RailsAPI +
 * PostgreSQL from {@code src/ci/real-arvados.sh}, or a test cluster of one's own). Requests per
 * happy life cycle are counted by a {@link FaultProxy} in front of the server; dispatch throughput
 * is measured directly against the server, bracketed by raw-HTTP ceiling runs ({@link CeilingLoad})
 * on the same server. Skipped, with the reason in the report, when no server is configured.
 *
 * <p>The Dispatchers lock every Queued container with priority above 0 on the server: the part
 * refuses to run them while containers it did not create are queued there.
 */
final class RealServerBench {
  /** Every container this part creates has an image starting with this (clean-up finds them). */
  static final String IMAGE_PREFIX = "crunchguard-bench-real";

  static final String HEADING = "8. Against the real server (RailsAPI + PostgreSQL)";

  private static final MediaType JSON = MediaType.get("application/json; charset=UTF-8");
  private static final Gson GSON = new Gson();
  private static final AtomicInteger RUNS = new AtomicInteger();

  private RealServerBench() {}

  /** The part's parameters. */
  record Settings(
      int lifecycles,
      int containers,
      List<Integer> dispatchers,
      int concurrency,
      Duration poll,
      int ceilingThreads) {}

  /** One dispatcher run on the real server. */
  record Run(
      int containers,
      int dispatchers,
      String identities,
      double seconds,
      double perSecond,
      long conflicts,
      long lockAttempts,
      long polls,
      long complete,
      long lockedOnce,
      double adjacentCeiling) {
    boolean allCompleteOnce() {
      return complete == containers && lockedOnce == containers;
    }
  }

  /** One ceiling run on the real server. */
  record Ceiling(
      int containers,
      int threads,
      String when,
      double seconds,
      double perSecond,
      double requests) {}

  /**
   * Runs the part, or reports why it cannot.
   *
   * @param env the process environment (the {@link RealArvados} variables)
   */
  static void run(Report rep, Settings s, Map<String, String> env, PrintStream progress)
      throws Exception {
    rep.heading(HEADING);
    Optional<RealArvados> found;
    try {
      found = RealArvados.fromEnvironment(env);
    } catch (IllegalStateException e) {
      // The message names variables and users, never token values.
      skip(rep, progress, "the real server is configured but not usable: " + e.getMessage());
      return;
    }
    if (found.isEmpty()) {
      skip(
          rep,
          progress,
          RealArvados.URL_VAR
              + " is not set, so there is no real Arvados server to measure against. Start one with"
              + " `src/ci/real-arvados.sh start DIR` and `eval \"$(src/ci/real-arvados.sh env DIR)\"`,"
              + " then run `bench --parts real` again.");
      return;
    }
    RealArvados arv = found.get();
    progress.printf("[bench] 8. real server %s%n", arv);
    try (Fixture fx = new Fixture(arv, progress)) {
      fx.cleanUpLeftovers();
      long foreign = fx.queuedCount();
      String refusal =
          foreign == 0
              ? null
              : foreign
                  + " Queued container(s) with priority above 0 that this part did not create are on"
                  + " the server; Dispatchers would lock and run them, so the Dispatcher measurements"
                  + " are skipped (use a server of your own)";
      if (refusal != null) {
        progress.printf("[bench] 8. %s%n", refusal);
      }

      progress.printf("[bench] 8. request counts: %d life cycles per scenario%n", s.lifecycles());
      List<RequestCount.Counts> counts = new ArrayList<>();
      double[] lifeCycleMs = new double[s.lifecycles()];
      counts.add(byHand(fx, s.lifecycles(), lifeCycleMs));
      if (refusal == null) {
        counts.add(dispatcherCounts(fx, s.lifecycles()));
      }

      List<Run> runs = new ArrayList<>();
      List<Ceiling> ceilings = new ArrayList<>();
      if (refusal == null) {
        int n = s.containers();
        int d0 = s.dispatchers().get(0);
        Ceiling previous = ceiling(fx, n, s.ceilingThreads(), "before D=" + d0, progress);
        ceilings.add(previous);
        for (int i = 0; i < s.dispatchers().size(); i++) {
          int d = s.dispatchers().get(i);
          Run r = dispatch(fx, n, d, s.concurrency(), s.poll(), progress);
          String label =
              i + 1 < s.dispatchers().size()
                  ? "between D=" + d + " and D=" + s.dispatchers().get(i + 1)
                  : "after D=" + d;
          Ceiling next = ceiling(fx, n, s.ceilingThreads(), label, progress);
          ceilings.add(next);
          double adjacent = Math.max(previous.perSecond(), next.perSecond());
          r =
              new Run(
                  r.containers(),
                  r.dispatchers(),
                  r.identities(),
                  r.seconds(),
                  r.perSecond(),
                  r.conflicts(),
                  r.lockAttempts(),
                  r.polls(),
                  r.complete(),
                  r.lockedOnce(),
                  adjacent);
          progress.printf(
              "[bench] 8. N=%d dispatchers=%d: %.1f containers/s (%.1f s), %d lock conflicts; %.0f%%"
                  + " of the adjacent ceiling%n",
              n, d, r.perSecond(), r.seconds(), r.conflicts(), 100 * r.perSecond() / adjacent);
          runs.add(r);
          previous = next;
        }
      }
      report(rep, arv, s, counts, Summary.of(lifeCycleMs), ceilings, runs, refusal);
    }
  }

  private static void skip(Report rep, PrintStream progress, String why) {
    progress.printf("[bench] 8. skipped: %s%n", why);
    rep.para("**Skipped:** " + why);
  }

  // ---- 8a: requests per life cycle ----

  private static RequestCount.Counts byHand(Fixture fx, int n, double[] ms) {
    try (FaultProxy proxy = fx.proxy();
        ArvadosClient c = fx.client(proxy.baseUrl(), fx.arv.adminToken(), "bench-real-by-hand")) {
      String image = fx.image();
      List<String> uuids = fx.create(n, image, new Random(11));
      proxy.reset();
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        ContainerLock lock = c.containers().lock(uuids.get(i));
        lock.markRunning();
        lock.complete(0, null);
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
      RequestCount.Counts counts =
          RequestCount.counts(
              "ContainerLock by hand (lock, markRunning, complete)",
              RequestCount.Served.by(proxy),
              uuids,
              0);
      fx.requireAllCompleteOnce(image, n);
      return counts;
    }
  }

  private static RequestCount.Counts dispatcherCounts(Fixture fx, int n)
      throws InterruptedException {
    try (FaultProxy proxy = fx.proxy();
        ArvadosClient c =
            fx.client(proxy.baseUrl(), fx.arv.adminToken(), "bench-real-dispatcher")) {
      String image = fx.image();
      List<String> uuids = fx.create(n, image, new Random(12));
      proxy.reset();
      CountDownLatch done = new CountDownLatch(n);
      Dispatcher d =
          Dispatcher.builder(
                  c,
                  ctx -> {
                    ctx.lock().markRunning();
                    ctx.lock().complete(0, null);
                  })
              .maxConcurrentRuns(4)
              .pollInterval(Duration.ofMillis(100))
              .events(false) // the real server here runs no arvados-ws
              .listener(
                  new DispatchListener() {
                    @Override
                    public void runnerFinished(String uuid, Throwable failure) {
                      done.countDown();
                    }
                  })
              .build();
      try {
        d.start();
        if (!done.await(Math.max(300, n), TimeUnit.SECONDS)) {
          throw new IllegalStateException(
              "the dispatcher did not finish " + n + " containers of the real server in time");
        }
        // Let afterRun's bookkeeping finish before counting, as part 2 does.
        d.awaitIdle(Duration.ofSeconds(60));
      } finally {
        d.close();
      }
      DispatcherStats stats = d.stats();
      RequestCount.Counts counts =
          RequestCount.counts(
              "Dispatcher, runner in process (markRunning, complete)",
              RequestCount.Served.by(proxy),
              uuids,
              stats.polls());
      fx.requireAllCompleteOnce(image, n);
      return counts;
    }
  }

  // ---- 8b: dispatch throughput ----

  private static Run dispatch(
      Fixture fx, int n, int d, int concurrency, Duration poll, PrintStream progress)
      throws Exception {
    String image = fx.image();
    fx.create(n, image, new Random(42));
    List<String> tokens = fx.dispatcherTokens(d);
    CountDownLatch done = new CountDownLatch(n);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<ArvadosClient> clients = new ArrayList<>();
    List<Dispatcher> dispatchers = new ArrayList<>();
    for (int i = 0; i < d; i++) {
      ArvadosClient c = fx.client(fx.arv.baseUrl(), tokens.get(i), "bench-real-dispatcher-" + i);
      clients.add(c);
      dispatchers.add(
          Dispatcher.builder(c, CompletingRunner.of(false, done, failure))
              .maxConcurrentRuns(concurrency)
              .pollInterval(poll)
              .lockRetryInterval(Duration.ofSeconds(1))
              .events(false) // the real server here runs no arvados-ws
              .build());
    }
    long t0 = System.nanoTime();
    dispatchers.forEach(Dispatcher::start);
    boolean finished = done.await(Math.max(300, n), TimeUnit.SECONDS);
    long t1 = System.nanoTime();
    for (Dispatcher x : dispatchers) {
      x.close();
    }
    clients.forEach(ArvadosClient::close);
    if (failure.get() != null) {
      throw new IllegalStateException("a runner failed on the real server", failure.get());
    }
    DispatchThroughput.Totals totals = DispatchThroughput.Totals.of(dispatchers);
    long[] outcome = fx.completeAndLockedOnce(image);
    if (!finished) {
      progress.printf(
          "[bench] 8. N=%d dispatchers=%d did not finish in time (%d Complete)%n",
          n, d, outcome[0]);
      fx.cancelUnfinished(image);
    }
    double secs = (t1 - t0) / 1e9;
    return new Run(
        n,
        d,
        fx.identities(d),
        secs,
        finished ? n / secs : outcome[0] / secs,
        totals.conflicts(),
        totals.attempts(),
        totals.polls(),
        outcome[0],
        outcome[1],
        Double.NaN);
  }

  private static Ceiling ceiling(Fixture fx, int n, int threads, String when, PrintStream progress)
      throws Exception {
    String image = fx.image();
    List<String> uuids = fx.create(n, image, new Random(42));
    CeilingLoad.Result r;
    try (RawHttp raw =
        new RawHttp(fx.arv.baseUrl(), fx.arv.adminToken(), threads, fx.arv.newHttpClient())) {
      r = CeilingLoad.drive(raw, uuids, fx.tokenUuid(fx.arv.adminToken()), threads);
    } catch (IllegalStateException e) {
      fx.cancelUnfinished(image);
      throw e;
    }
    fx.requireAllCompleteOnce(image, n);
    Ceiling c =
        new Ceiling(n, threads, when, r.seconds(), n / r.seconds(), (double) r.requests() / n);
    progress.printf(
        "[bench] 8. ceiling (%s) N=%d threads=%d: %.1f containers/s (%.1f s)%n",
        when, n, threads, c.perSecond(), c.seconds());
    return c;
  }

  // ---- report ----

  static void report(
      Report rep,
      RealArvados arv,
      Settings s,
      List<RequestCount.Counts> counts,
      Summary lifeCycleMs,
      List<Ceiling> ceilings,
      List<Run> runs,
      String refusal) {
    rep.para(
        "Parts 2 and 3 against the real Arvados API server at "
            + arv.baseUrl()
            + " (for `src/ci/real-arvados.sh`: RailsAPI on Puma, one process of 5 threads, with"
            + " PostgreSQL, on this machine's 2 cores together with the benchmark's client). Every"
            + " container is created with the first admin token and a runtime user, as the"
            + " testkit's `RealArvados.createContainer` does (straight to the server, not counted),"
            + " command `true`, and an image named `"
            + IMAGE_PREFIX
            + "-…` by which the part finds and cancels anything it leaves unfinished.");
    rep.sub("Requests per container life cycle, counted by a FaultProxy in front of the server");
    rep.para(
        "The testkit's `FaultProxy` (no faults) forwards every request to the real server and counts"
            + " it per endpoint and per container; the SDK client talks to the proxy. The"
            + " Dispatcher scenario: one Dispatcher (first admin token) with `maxConcurrentRuns 4`,"
            + " `pollInterval 100 ms`, runner in process. Life-cycle time by hand (lock → Complete,"
            + " through the proxy): median "
            + Summary.f("%.1f", lifeCycleMs.median())
            + " ms, p90 "
            + Summary.f("%.1f", lifeCycleMs.p90())
            + " ms, max "
            + Summary.f("%.1f", lifeCycleMs.max())
            + " ms.");
    List<List<String>> t = new ArrayList<>();
    for (RequestCount.Counts c : counts) {
      t.add(RequestCount.row(c));
    }
    rep.table(RequestCount.HEADER, t);
    if (refusal != null) {
      rep.para("**Dispatcher measurements skipped:** " + refusal + ".");
    }
    RequestCount.Counts hand = counts.get(0);
    rep.target(
        "8",
        "real server: happy path lock → Running → Complete = exactly 3 requests per container",
        Summary.f("%.2f", hand.perContainer())
            + " per container (min "
            + hand.minPerContainer()
            + ", max "
            + hand.maxPerContainer()
            + "; lock "
            + Summary.f("%.2f", hand.lock())
            + ", PUT "
            + Summary.f("%.2f", hand.update())
            + ", other "
            + Summary.f("%.0f", hand.get() * hand.containers() + hand.list() + hand.other())
            + ")",
        RequestCount.exactlyThree(hand));
    if (counts.size() > 1) {
      RequestCount.Counts disp = counts.get(1);
      boolean three =
          disp.minPerContainer() == 3
              && disp.maxPerContainer() == 3
              && disp.lock() == 1.0
              && disp.update() == 2.0;
      rep.target(
          "8",
          "real server: with a Dispatcher, 3 requests per container (polls aside)",
          "min "
              + disp.minPerContainer()
              + ", max "
              + disp.maxPerContainer()
              + " per container; "
              + Summary.f("%.0f", disp.list())
              + " list requests in "
              + disp.polls()
              + " polls",
          three);
    }
    if (runs.isEmpty()) {
      return;
    }
    rep.sub("Dispatch throughput against the raw-HTTP ceiling of the same server");
    rep.para(
        "N = "
            + s.containers()
            + " Queued containers (priorities 1–1000, seeded) per run. D Dispatchers race over them,"
            + " each with its own token and `ArvadosClient` (straight to the server, no proxy),"
            + " `maxConcurrentRuns "
            + s.concurrency()
            + "`, `pollInterval "
            + Durations.format(s.poll())
            + "`, `lockRetryInterval 1 s`; the runner does `markRunning()` then `complete(0, null)`"
            + " in process. Figure: N / time from start to the N-th Complete. The ceiling drives"
            + " the same requests by raw OkHttp from "
            + s.ceilingThreads()
            + " threads (by default as many as a Dispatcher's runners, and more than Puma's 5 server"
            + " threads, so that the server and not the client is the limit) with the first admin"
            + " token (part 3's ceiling load: lock, PUT Running, PUT"
            + " Complete per container, an own-containers page and a Queued page per 100), on"
            + " fresh containers of the same server; each dispatcher run is bracketed by two"
            + " ceiling runs and its share is taken against the better of the two. Outcome checks"
            + " every container: Complete, exit code 0, `lock_count` 1 (ran exactly once).");
    List<List<String>> ct = new ArrayList<>();
    for (Ceiling c : ceilings) {
      ct.add(
          List.of(
              Integer.toString(c.containers()),
              Integer.toString(c.threads()),
              c.when(),
              Summary.f("%.1f", c.perSecond()),
              Summary.f("%.2f", c.seconds()),
              Summary.f("%.2f", c.requests())));
    }
    rep.table(
        List.of(
            "containers",
            "threads",
            "measured",
            "containers/s",
            "seconds",
            "requests per container"),
        ct);
    double best = ceilings.stream().mapToDouble(Ceiling::perSecond).max().orElse(Double.NaN);
    List<List<String>> rt = new ArrayList<>();
    for (Run r : runs) {
      rt.add(
          List.of(
              Integer.toString(r.containers()),
              Integer.toString(r.dispatchers()),
              r.identities(),
              Summary.f("%.1f", r.perSecond()),
              Summary.f("%.2f", r.seconds()),
              Summary.f("%.0f%%", 100 * r.perSecond() / r.adjacentCeiling()),
              Summary.f("%.0f%%", 100 * r.perSecond() / best),
              Long.toString(r.lockAttempts()),
              Long.toString(r.conflicts()),
              Long.toString(r.polls()),
              r.complete()
                  + "/"
                  + r.containers()
                  + " Complete, "
                  + r.lockedOnce()
                  + " with lock_count 1"));
    }
    rep.table(
        List.of(
            "containers",
            "dispatchers",
            "identities",
            "containers/s",
            "seconds",
            "share of adjacent ceiling",
            "share of best ceiling",
            "lock attempts",
            "lock conflicts",
            "polls (all)",
            "outcome"),
        rt);
    for (Run r : runs) {
      double share = r.perSecond() / r.adjacentCeiling();
      rep.target(
          "8",
          "real server: "
              + r.dispatchers()
              + " dispatcher(s) ≥ 70% of the ceiling (N="
              + r.containers()
              + "), every container run once",
          Summary.f("%.1f", r.perSecond())
              + " of "
              + Summary.f("%.1f", r.adjacentCeiling())
              + " containers/s = "
              + Summary.f("%.0f%%", 100 * share)
              + "; "
              + r.complete()
              + "/"
              + r.containers()
              + " Complete, "
              + r.lockedOnce()
              + " locked once",
          share >= DispatchThroughput.TARGET_SHARE_ALONE && r.allCompleteOnce());
    }
  }

  /**
   * The server, its tokens and the plain HTTP the part needs besides the SDK: containers are
   * created through {@link RealArvados#createContainer}, extra dispatcher tokens made and revoked,
   * outcomes read back and leftovers cancelled by raw requests. Tokens are never printed.
   */
  static final class Fixture implements AutoCloseable {
    final RealArvados arv;
    private final PrintStream progress;
    private final OkHttpClient http;
    private final ExecutorService creators = Executors.newFixedThreadPool(4);
    private final List<String> tokens = new ArrayList<>();
    private final List<String> owners = new ArrayList<>();

    /** Token uuid of each token made here, to the token of its owner (who may revoke it). */
    private final Map<String, String> madeTokens = new java.util.LinkedHashMap<>();

    private final long started = System.currentTimeMillis();

    Fixture(RealArvados arv, PrintStream progress) {
      this.arv = arv;
      this.progress = progress;
      // Puma closes a keep-alive connection idle for 20 s; a request on such a pooled connection
      // never reached the server, and OkHttp may send it again on a fresh one.
      this.http = arv.newHttpClient().newBuilder().retryOnConnectionFailure(true).build();
      tokens.add(arv.adminToken());
      owners.add("admin");
      tokens.add(arv.admin2Token());
      owners.add("admin2");
    }

    /** A fresh image name, unique to one run of one scenario. */
    String image() {
      return IMAGE_PREFIX + "-" + started + "-" + RUNS.incrementAndGet();
    }

    FaultProxy proxy() {
      return FaultProxy.builder(arv.baseUrl()).insecureUpstream(arv.insecure()).build().start();
    }

    ArvadosClient client(String baseUrl, String token, String clientId) {
      return ArvadosClient.builder()
          .baseUrl(baseUrl)
          .token(token)
          .insecureTls(arv.insecure() && baseUrl.equals(arv.baseUrl()))
          .clientId(clientId)
          .build();
    }

    /**
     * n Queued, lockable containers (priorities 1–1000 from rnd), created by 4 threads with the
     * first admin token and the attributes {@link RealArvados#createContainer} sends (a runtime
     * user and scopes {@code ["all"]}, so that the server lets them be locked), but through this
     * fixture's client: the testkit's shared client does not resend on a connection the server
     * closed while idle, which happens between this part's scenarios.
     */
    List<String> create(int n, String image, Random rnd) {
      List<Future<String>> made = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long priority = 1 + rnd.nextInt(1000);
        made.add(creators.submit(() -> createOne(image, priority)));
      }
      List<String> uuids = new ArrayList<>(n);
      try {
        for (Future<String> f : made) {
          uuids.add(f.get());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while creating containers", e);
      } catch (java.util.concurrent.ExecutionException e) {
        cancelUnfinished(image);
        throw new IllegalStateException(
            "creating containers on the real server failed", e.getCause());
      }
      return uuids;
    }

    private String createOne(String image, long priority) {
      JsonObject attrs = new JsonObject();
      JsonArray command = new JsonArray();
      command.add("true");
      attrs.add("command", command);
      attrs.addProperty("priority", priority);
      attrs.addProperty("container_image", image);
      attrs.addProperty("cwd", ".");
      attrs.addProperty("output_path", "/out");
      attrs.addProperty("runtime_user_uuid", arv.userUuid());
      JsonArray scopes = new JsonArray();
      scopes.add("all");
      attrs.add("runtime_auth_scopes", scopes);
      JsonObject body = new JsonObject();
      body.add("container", attrs);
      return call(
              arv.adminToken(),
              new Request.Builder()
                  .url(arv.baseUrl() + "arvados/v1/containers")
                  .post(RequestBody.create(body.toString(), JSON)),
              "creating a container")
          .get("uuid")
          .getAsString();
    }

    /**
     * The first d dispatcher tokens: the two admins', then new tokens of the two admin users in
     * turn (each its own token uuid, so its own {@code locked_by_uuid}), revoked by {@link
     * #close()}.
     */
    List<String> dispatcherTokens(int d) {
      while (tokens.size() < d) {
        boolean first = tokens.size() % 2 == 0;
        tokens.add(
            newToken(
                first ? arv.adminToken() : arv.admin2Token(),
                first ? arv.adminUuid() : arv.admin2Uuid()));
        owners.add(first ? "admin" : "admin2");
      }
      return tokens.subList(0, d);
    }

    /** How the first d tokens map to users, for the report. */
    String identities(int d) {
      long users = owners.subList(0, d).stream().distinct().count();
      return d
          + (d == 1 ? " token" : " tokens")
          + " of "
          + users
          + (users == 1 ? " admin user" : " admin users");
    }

    private String newToken(String asToken, String ownerUuid) {
      JsonObject attrs = new JsonObject();
      attrs.addProperty("owner_uuid", ownerUuid);
      JsonArray scopes = new JsonArray();
      scopes.add("all");
      attrs.add("scopes", scopes);
      JsonObject body = new JsonObject();
      body.add("api_client_authorization", attrs);
      JsonObject t =
          call(
              asToken,
              new Request.Builder()
                  .url(arv.baseUrl() + "arvados/v1/api_client_authorizations")
                  .post(RequestBody.create(body.toString(), JSON)),
              "creating a dispatcher token");
      String uuid = t.get("uuid").getAsString();
      madeTokens.put(uuid, asToken);
      return "v2/" + uuid + "/" + t.get("api_token").getAsString();
    }

    String tokenUuid(String token) {
      return call(
              token,
              new Request.Builder()
                  .url(arv.baseUrl() + "arvados/v1/api_client_authorizations/current")
                  .get(),
              "looking up a token's uuid")
          .get("uuid")
          .getAsString();
    }

    /** Queued containers with priority above 0 on the server (all of them, anyone's). */
    long queuedCount() {
      JsonObject o =
          list("[[\"state\",\"=\",\"Queued\"],[\"priority\",\">\",0]]", 0, "[\"uuid\"]", true);
      return o.get("items_available").getAsLong();
    }

    /** Cancels this part's containers that an earlier, interrupted run left unfinished. */
    void cleanUpLeftovers() {
      cancelWhere("[[\"container_image\",\"like\",\"" + IMAGE_PREFIX + "-%\"]]");
    }

    void cancelUnfinished(String image) {
      cancelWhere("[[\"container_image\",\"=\",\"" + image + "\"]]");
    }

    private void cancelWhere(String filter) {
      String f =
          filter.substring(0, filter.length() - 1)
              + ",[\"state\",\"in\",[\"Queued\",\"Locked\",\"Running\"]]]";
      int cancelled = 0;
      for (JsonObject c : all(f, "[\"uuid\",\"state\"]")) {
        String uuid = c.get("uuid").getAsString();
        JsonObject fields = new JsonObject();
        fields.addProperty("state", "Cancelled");
        JsonObject body = new JsonObject();
        body.add("container", fields);
        try {
          call(
              arv.adminToken(),
              new Request.Builder()
                  .url(arv.baseUrl() + "arvados/v1/containers/" + uuid)
                  .put(RequestBody.create(body.toString(), JSON)),
              "cancelling " + uuid);
          cancelled++;
        } catch (IllegalStateException e) {
          progress.printf("[bench] 8. could not cancel %s: %s%n", uuid, e.getMessage());
        }
      }
      if (cancelled > 0) {
        progress.printf(
            "[bench] 8. cancelled %d unfinished container(s) of this part%n", cancelled);
      }
    }

    /** {Complete with exit code 0, Complete with lock_count 1} over the image's containers. */
    long[] completeAndLockedOnce(String image) {
      long complete = 0;
      long once = 0;
      for (JsonObject c :
          all(
              "[[\"container_image\",\"=\",\"" + image + "\"]]",
              "[\"uuid\",\"state\",\"exit_code\",\"lock_count\"]")) {
        boolean done =
            c.get("state").getAsString().equals("Complete")
                && !c.get("exit_code").isJsonNull()
                && c.get("exit_code").getAsLong() == 0;
        if (done) {
          complete++;
          if (c.get("lock_count").getAsLong() == 1) {
            once++;
          }
        }
      }
      return new long[] {complete, once};
    }

    void requireAllCompleteOnce(String image, int n) {
      long[] o = completeAndLockedOnce(image);
      if (o[0] != n || o[1] != n) {
        cancelUnfinished(image);
        throw new IllegalStateException(
            "of "
                + n
                + " containers of the real server, "
                + o[0]
                + " ended Complete with exit code 0 and "
                + o[1]
                + " of those were locked once");
      }
    }

    /** Every container matching the filters, by keyset pages of 1000 in uuid order. */
    private List<JsonObject> all(String filtersJson, String select) {
      List<JsonObject> out = new ArrayList<>();
      String last = "";
      while (true) {
        String f =
            filtersJson.substring(0, filtersJson.length() - 1)
                + ",[\"uuid\",\">\","
                + GSON.toJson(last)
                + "]]";
        JsonArray items = list(f, 1000, select, false).getAsJsonArray("items");
        for (JsonElement e : items) {
          out.add(e.getAsJsonObject());
        }
        if (items.isEmpty()) {
          return out;
        }
        last = items.get(items.size() - 1).getAsJsonObject().get("uuid").getAsString();
      }
    }

    private JsonObject list(String filtersJson, int limit, String select, boolean count) {
      okhttp3.HttpUrl url =
          okhttp3.HttpUrl.get(arv.baseUrl() + "arvados/v1/containers")
              .newBuilder()
              .addQueryParameter("filters", filtersJson)
              .addQueryParameter("order", "[\"uuid asc\"]")
              .addQueryParameter("limit", Integer.toString(limit))
              .addQueryParameter("select", select)
              .addQueryParameter("count", count ? "exact" : "none")
              .build();
      return call(arv.adminToken(), new Request.Builder().url(url).get(), "listing containers");
    }

    private JsonObject call(String token, Request.Builder rb, String what) {
      Request req = rb.header("Authorization", "Bearer " + token).build();
      try (okhttp3.Response r = http.newCall(req).execute()) {
        String text = r.body() == null ? "" : r.body().string();
        if (r.code() != 200) {
          // Error bodies name no token (README fact 11); cut to keep the line short.
          throw new IllegalStateException(
              what
                  + " failed: HTTP "
                  + r.code()
                  + " "
                  + (text.length() > 300 ? text.substring(0, 300) : text));
        }
        return JsonParser.parseString(text).getAsJsonObject();
      } catch (IOException e) {
        throw new IllegalStateException(
            what + " failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }

    @Override
    public void close() {
      creators.shutdownNow();
      for (Map.Entry<String, String> made : madeTokens.entrySet()) {
        String uuid = made.getKey();
        try {
          call(
              made.getValue(),
              new Request.Builder()
                  .url(arv.baseUrl() + "arvados/v1/api_client_authorizations/" + uuid)
                  .delete(),
              "revoking a dispatcher token");
        } catch (IllegalStateException e) {
          progress.printf("[bench] 8. %s%n", e.getMessage());
        }
      }
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }
}

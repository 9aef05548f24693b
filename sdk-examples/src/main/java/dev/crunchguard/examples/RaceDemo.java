package dev.crunchguard.examples;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.crunchguard.examples.cli.VersionProvider;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSnapshot;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultKind;
import dev.crunchguard.testkit.HistoryEvent;
import dev.crunchguard.testkit.RandomFaults;
import dev.crunchguard.testkit.SafetyReport;
import dev.crunchguard.testkit.SafetyViolation;
import dev.crunchguard.testkit.WriteAction;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * The race demo: several dispatchers (one or more in other JVMs) race over a few hundred containers
 * on the embedded simulator, with faults (lost responses, 503s, 429s, delays), forced re-locks (a
 * peer sharing a dispatcher's token unlocks containers under their runners, so that others lock
 * them again) and a few cancellations during runs. It runs once with the guard and once with plain
 * updates, then prints both reports side by side, computed from the simulator's own history. Exits
 * 1 if the guarded run violates a safety property or does not finish.
 */
final class RaceDemo {
  /**
   * Share of runs under which a peer with the same token unlocks the container (a forced re-lock).
   */
  static final double RELOCK_RATE = 0.15;

  /** Share of runs whose container is cancelled while Running. */
  static final double CANCEL_RATE = 0.02;

  /** The figures of one run. */
  record Result(
      String mode,
      int containers,
      long completed,
      long cancelled,
      long notFinal,
      long locksWon,
      long lockConflicts,
      long relocks,
      long chaosUnlocks,
      long chaosCancels,
      long staleBlocked,
      long staleAccepted,
      long doubleRuns,
      long strangerEnds,
      long sdkCancels,
      long ambiguousLocks,
      long falseLosses,
      long leakedThreads,
      long leakedConnections,
      long requests,
      Duration wall,
      long seed,
      SafetyReport safety,
      List<Stuck> stuck) {
    double requestsPerContainer() {
      return containers == 0 ? 0 : (double) requests / containers;
    }

    /**
     * Every container final, no safety violation, no SDK-made cancel, no false loss, nothing
     * leaked.
     */
    boolean ok() {
      return notFinal == 0
          && safety.isSafe()
          && sdkCancels == 0
          && falseLosses == 0
          && leakedThreads == 0
          && leakedConnections == 0;
    }

    /** What went wrong, for a run that is not {@link #ok()}. */
    String failure() {
      return "the guarded run "
          + (notFinal > 0 ? "left " + notFinal + " containers not final; " : "")
          + (falseLosses > 0 ? "reported " + falseLosses + " false losses; " : "")
          + (sdkCancels > 0 ? "cancelled " + sdkCancels + " containers itself; " : "")
          + (leakedThreads + leakedConnections > 0 ? "leaked threads or connections; " : "")
          + (safety.isSafe() ? "" : "violated safety");
    }
  }

  /** A container left behind at the end of a run (at most ten are listed), and why. */
  record Stuck(String uuid, String state, long lockCount, String why) {}

  /** The rounds of a soak and whether every one was clean. */
  record Soak(List<Result> rounds, Duration wall) {
    boolean ok() {
      return rounds.stream()
          .allMatch(
              r ->
                  r.safety().isSafe()
                      && r.falseLosses() + r.leakedThreads() + r.leakedConnections() + r.notFinal()
                          == 0);
    }

    String summary() {
      long requests = 0;
      long containers = 0;
      long relocks = 0;
      long staleBlocked = 0;
      long violations = 0;
      long falseLosses = 0;
      long leaks = 0;
      long notFinal = 0;
      long events = 0;
      for (Result r : rounds) {
        requests += r.requests();
        containers += r.containers();
        relocks += r.relocks();
        staleBlocked += r.staleBlocked();
        violations += r.safety().violations().size();
        falseLosses += r.falseLosses();
        leaks += r.leakedThreads() + r.leakedConnections();
        notFinal += r.notFinal();
        events += r.safety().eventsChecked();
      }
      return String.format(
          Locale.ROOT,
          "soak: %d rounds, %d containers, %d requests, %d history events checked, %d re-locks, "
              + "%d stale writes blocked, %d safety violations, %d false losses, %d leaks, %d not final, %.1f min%n",
          rounds.size(),
          containers,
          requests,
          events,
          relocks,
          staleBlocked,
          violations,
          falseLosses,
          leaks,
          notFinal,
          wall.toMillis() / 60e3);
    }
  }

  private final int containers;
  private final int localDispatchers;
  private final int jvms;
  private final int concurrency;
  private final long seed;
  private final Duration timeout;
  private final Duration poll;
  private final PrintStream progress;
  private @Nullable Duration raceWindow;
  private boolean sharedToken;
  private double lostResponseRate = 0.02;
  private Duration orphanGrace = Duration.ofSeconds(5);
  private boolean events;
  private java.util.function.UnaryOperator<ArvadosSimulator.Builder> simulatorSettings = b -> b;
  private java.util.function.@Nullable Consumer<ArvadosSimulator> whileRunning;

  RaceDemo(
      int containers,
      int localDispatchers,
      int jvms,
      int concurrency,
      long seed,
      Duration timeout,
      Duration poll,
      PrintStream progress) {
    this.containers = containers;
    this.localDispatchers = localDispatchers;
    this.jvms = jvms;
    this.concurrency = concurrency;
    this.seed = seed;
    this.timeout = timeout;
    this.poll = poll;
    this.progress = progress;
  }

  /**
   * Makes the simulator reproduce the real server's update window (src/docs/simulator.md, section
   * 5): updates are checked against a copy read before the row lock, with this pause between read
   * and write.
   */
  RaceDemo withRaceWindow(@Nullable Duration pause) {
    this.raceWindow = pause;
    return this;
  }

  /**
   * Makes every dispatcher use one token, as clusters run their dispatchers with the
   * SystemRootToken: {@code locked_by_uuid} is then the same for all of them.
   */
  RaceDemo withSharedToken(boolean shared) {
    this.sharedToken = shared;
    return this;
  }

  /**
   * The share of lock, update, unlock, get and list answers lost after the server applied them
   * (default 2%).
   */
  RaceDemo withLostResponseRate(double rate) {
    this.lostResponseRate = rate;
    return this;
  }

  /**
   * The dispatchers' orphan grace (default 5 s, far above the demo runner's start-up time of
   * milliseconds).
   */
  RaceDemo withOrphanGrace(Duration grace) {
    this.orphanGrace = grace;
    return this;
  }

  /**
   * Makes the simulator serve the event stream and every dispatcher, in this JVM and in the others
   * ({@code demo-worker --events}), dispatch with {@code events(true)}.
   */
  RaceDemo withEvents(boolean on) {
    this.events = on;
    return this;
  }

  /** Further simulator settings, applied after the demo's own (e.g. the stream's queue size). */
  RaceDemo withSimulatorSettings(java.util.function.UnaryOperator<ArvadosSimulator.Builder> s) {
    this.simulatorSettings = s;
    return this;
  }

  /**
   * Runs {@code chaos} on its own thread from the moment every dispatcher has started until the run
   * is over, when the thread is interrupted (it must then return) and joined, before the
   * dispatchers stop and while the simulator still serves. For faults a test injects during the
   * run, e.g. the event stream's.
   */
  RaceDemo whileRunning(java.util.function.Consumer<ArvadosSimulator> chaos) {
    this.whileRunning = chaos;
    return this;
  }

  /**
   * The soak: guarded rounds with consecutive seeds until the simulator has served at least {@code
   * targetRequests} requests; prints one line per round on {@code lines}.
   */
  Soak soak(long targetRequests, PrintStream lines) throws Exception {
    List<Result> rounds = new ArrayList<>();
    long requests = 0;
    long start = System.nanoTime();
    RaceDemo demo = this;
    while (requests < targetRequests) {
      Result r = demo.run(true);
      rounds.add(r);
      requests += r.requests();
      lines.printf(
          Locale.ROOT,
          "round %d seed %d: %d requests, %d re-locks, %d stale writes blocked, %d violations, "
              + "%d false losses, %d leaks, %d not final, %.1f s%n",
          rounds.size(),
          r.seed(),
          r.requests(),
          r.relocks(),
          r.staleBlocked(),
          r.safety().violations().size(),
          r.falseLosses(),
          r.leakedThreads() + r.leakedConnections(),
          r.notFinal(),
          r.wall().toMillis() / 1000.0);
      lines.flush();
      demo =
          new RaceDemo(
                  containers,
                  localDispatchers,
                  jvms,
                  concurrency,
                  seed + rounds.size(),
                  timeout,
                  poll,
                  progress)
              .withRaceWindow(raceWindow)
              .withSharedToken(sharedToken)
              .withLostResponseRate(lostResponseRate)
              .withOrphanGrace(orphanGrace)
              .withEvents(events)
              .withSimulatorSettings(simulatorSettings);
      if (whileRunning != null) {
        demo.whileRunning(whileRunning);
      }
    }
    return new Soak(rounds, Duration.ofNanos(System.nanoTime() - start));
  }

  /** A dispatcher in another JVM. */
  private record Worker(Process process, BufferedReader out) {}

  Result run(boolean guarded) throws Exception {
    String mode = guarded ? "guarded" : "plain";
    Random rnd = new Random(seed);
    int dispatchers = localDispatchers + jvms;
    List<String> tokens = new ArrayList<>();
    ArvadosSimulator.Builder sb =
        ArvadosSimulator.builder()
            .maxDispatchAttempts(10)
            .updateRaceWindow(raceWindow)
            .events(events);
    for (int i = 0; i < dispatchers; i++) {
      String t =
          sharedToken && i > 0
              ? tokens.get(0)
              : "demo" + i + "x" + Long.toString(rnd.nextLong() & Long.MAX_VALUE, 36);
      tokens.add(t);
      if (i == 0 || !sharedToken) {
        sb.adminToken(t);
      }
    }
    Set<Thread> threadsBefore = crunchguardThreads();
    OkHttpClient shared =
        new OkHttpClient.Builder()
            .dispatcher(new Dispatcher())
            .connectionPool(new ConnectionPool(64, 30, TimeUnit.SECONDS))
            .build();
    shared.dispatcher().setMaxRequestsPerHost(256);
    List<DemoDispatcher> local = new ArrayList<>();
    List<Worker> workers = new ArrayList<>();
    Thread chaos = null;
    try (ArvadosSimulator sim = simulatorSettings.apply(sb).build().start()) {
      for (int i = 0; i < containers; i++) {
        sim.createContainer(
            ContainerSpec.builder().command("true").priority(1 + rnd.nextInt(1000)).build());
      }
      sim.clearHistory();
      sim.resetRequestCounts();
      sim.faults()
          .random(
              RandomFaults.seed(seed)
                  .on(
                      Endpoint.LOCK,
                      Endpoint.UPDATE,
                      Endpoint.UNLOCK,
                      Endpoint.GET,
                      Endpoint.LIST,
                      Endpoint.TOKEN_CURRENT)
                  .rate(FaultKind.LOST_RESPONSE, lostResponseRate)
                  .rate(FaultKind.CONNECTION_RESET, 0.01)
                  .rate(FaultKind.BAD_GATEWAY, 0.01)
                  .rate(FaultKind.SERVICE_UNAVAILABLE, 0.02)
                  .rate(FaultKind.TOO_MANY_REQUESTS, 0.002)
                  .retryAfterSeconds(1)
                  .rate(FaultKind.DELAY, 0.05)
                  .delay(Duration.ofMillis(5))
                  .build());
      long start = System.nanoTime();
      for (int i = 0; i < localDispatchers; i++) {
        DemoDispatcher d =
            new DemoDispatcher(
                shared,
                sim.baseUrl(),
                tokens.get(i),
                "dispatcher-" + i,
                guarded,
                concurrency,
                poll,
                orphanGrace,
                RELOCK_RATE,
                CANCEL_RATE,
                events);
        local.add(d);
        d.start();
      }
      for (int j = 0; j < jvms; j++) {
        workers.add(
            startWorker(
                sim.baseUrl(), tokens.get(localDispatchers + j), "jvm-dispatcher-" + j, mode));
      }
      if (whileRunning != null) {
        java.util.function.Consumer<ArvadosSimulator> hook = whileRunning;
        chaos = new Thread(() -> hook.accept(sim), "race-demo-chaos");
        chaos.setDaemon(true);
        chaos.start();
      }

      long deadline = start + timeout.toNanos();
      long lastReport = 0;
      long notFinal;
      // The outcome is clear once every container is final, or once nothing has been written for
      // longer than any wait of the guarded dispatchers (an orphan grace plus a few polls): what is
      // left then is stuck for good, which is the plain half's result.
      long stall = orphanGrace.toNanos() + TimeUnit.SECONDS.toNanos(3);
      long lastWrites = -1;
      long lastChange = start;
      while (true) {
        notFinal = sim.containers().stream().filter(c -> !isFinal(c)).count();
        long now = System.nanoTime();
        long writes =
            sim.requestCount(Endpoint.UPDATE)
                + sim.requestCount(Endpoint.LOCK)
                + sim.requestCount(Endpoint.UNLOCK);
        if (writes != lastWrites) {
          lastWrites = writes;
          lastChange = now;
        }
        if (notFinal == 0 || now > deadline) {
          break;
        }
        if (now - lastChange > stall) {
          progress.printf(
              "  [%s] no write for %d s: %d containers are stuck%n",
              mode, TimeUnit.NANOSECONDS.toSeconds(now - lastChange), notFinal);
          break;
        }
        if (now - lastReport > TimeUnit.SECONDS.toNanos(1)) {
          progress.printf(
              "  [%s] %d/%d containers final%n", mode, containers - notFinal, containers);
          lastReport = now;
        }
        Thread.sleep(200);
      }
      Duration wall = Duration.ofNanos(System.nanoTime() - start);
      if (chaos != null) {
        chaos.interrupt();
        chaos.join(TimeUnit.SECONDS.toMillis(20));
      }
      List<Stuck> stuck =
          sim.containers().stream()
              .filter(c -> !isFinal(c))
              .limit(10)
              .map(c -> new Stuck(c.uuid(), c.state(), c.lockCount(), whyStuck(sim, c)))
              .toList();
      for (Stuck c : stuck) {
        progress.printf(
            "  not final: %s state=%s lock_count=%d: %s%n",
            c.uuid(), c.state(), c.lockCount(), c.why());
      }
      sim.faults().clear();
      if (events) {
        sim.events().clearFaults();
      }
      long falseLosses = 0;
      long leakedConnections = 0;
      for (Worker w : workers) {
        DemoDispatcher.WorkerReport report = stopWorker(w);
        falseLosses += report.falseLosses();
        leakedConnections += report.leakedConnections();
      }
      for (DemoDispatcher d : local) {
        d.close();
        falseLosses += d.runner.falseLosses();
      }
      // Leak checks: every connection back in the pool, every dispatcher/runner thread gone.
      leakedConnections +=
          shared.connectionPool().connectionCount() - shared.connectionPool().idleConnectionCount();
      long leakedThreads = awaitThreadsGone(threadsBefore);
      return summarize(
          mode, sim, wall, notFinal, falseLosses, leakedThreads, leakedConnections, stuck);
    } finally {
      if (chaos != null) {
        chaos.interrupt();
      }
      for (Worker w : workers) {
        w.process().destroyForcibly();
      }
      for (DemoDispatcher d : local) {
        d.close();
      }
      shared.dispatcher().executorService().shutdown();
      shared.connectionPool().evictAll();
    }
  }

  private static Set<Thread> crunchguardThreads() {
    Set<Thread> out = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && t.getName().startsWith("crunchguard-")) {
        out.add(t);
      }
    }
    return out;
  }

  /** The Crunch Guard threads started during the run that are still alive after a grace period. */
  private static long awaitThreadsGone(Set<Thread> before) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      Set<Thread> now = crunchguardThreads();
      now.removeAll(before);
      if (now.isEmpty() || System.nanoTime() > deadline) {
        return now.size();
      }
      Thread.sleep(50);
    }
  }

  /** Why a container is left behind, from its own history: its last accepted write. */
  static String whyStuck(ArvadosSimulator sim, ContainerSnapshot c) {
    List<HistoryEvent> h = sim.history(c.uuid());
    HistoryEvent last = null;
    for (HistoryEvent e : h) {
      if (e.accepted()) {
        last = e;
      }
    }
    String what =
        last == null
            ? "no accepted write"
            : "last accepted write "
                + last.action().name().toLowerCase(Locale.ROOT)
                + (last.requestedState() == null ? "" : " to " + last.requestedState())
                + " by "
                + last.clientIdentity();
    if ("Running".equals(c.state())) {
      return what
          + "; Running, but no runner of its epoch is alive to finish it"
          + " (a runner of an earlier epoch, unfenced, wrote over it or finished elsewhere)";
    }
    if ("Locked".equals(c.state())) {
      return what + "; Locked, and nobody started it";
    }
    return what;
  }

  private static boolean isFinal(ContainerSnapshot c) {
    return c.state().equals("Complete") || c.state().equals("Cancelled");
  }

  private Worker startWorker(String baseUrl, String token, String id, String mode)
      throws Exception {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-Xmx256m",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "demo-worker",
            "--base-url",
            baseUrl,
            "--id",
            id,
            "--mode",
            mode,
            "--concurrency",
            Integer.toString(concurrency),
            "--poll-interval",
            poll.toMillis() + "ms",
            "--orphan-grace",
            orphanGrace.toMillis() + "ms",
            "--relock-rate",
            Double.toString(RELOCK_RATE),
            "--cancel-rate",
            Double.toString(CANCEL_RATE));
    if (events) {
      pb.command().add("--events");
    }
    pb.environment().put("ARVADOS_API_TOKEN", token);
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = r.readLine();
    if (!"READY".equals(line)) {
      p.destroyForcibly();
      throw new IllegalStateException("demo worker " + id + " did not start (said: " + line + ")");
    }
    return new Worker(p, r);
  }

  /**
   * Stops a worker and reads its report: the one JSON line it prints on stdout after {@code READY}
   * ({@link DemoDispatcher.WorkerReport}).
   */
  private DemoDispatcher.WorkerReport stopWorker(Worker w) throws Exception {
    Process p = w.process();
    try (Writer out = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
      out.write("stop\n");
    } catch (java.io.IOException gone) {
      // it already exited
    }
    DemoDispatcher.WorkerReport report = null;
    String line;
    while ((line = w.out().readLine()) != null) {
      if (line.startsWith("{")) {
        report = DemoDispatcher.WorkerReport.parse(line);
        progress.println("  other JVM: " + report.describe());
      }
    }
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    if (report == null) {
      throw new IllegalStateException(
          "a demo worker exited without reporting (status " + p.exitValue() + ")");
    }
    return report;
  }

  private Result summarize(
      String mode,
      ArvadosSimulator sim,
      Duration wall,
      long notFinal,
      long falseLosses,
      long leakedThreads,
      long leakedConnections,
      List<Stuck> stuck) {
    List<HistoryEvent> history = sim.history();
    long chaosUnlocks = 0;
    long chaosCancels = 0;
    long locksWon = 0;
    long conflicts = 0;
    long relocks = 0;
    long staleBlocked = 0;
    for (HistoryEvent e : history) {
      if (e.clientIdentity().equals("chaos") && e.accepted()) {
        if (e.action() == WriteAction.UNLOCK) {
          chaosUnlocks++;
        } else if ("Cancelled".equals(e.requestedState())) {
          chaosCancels++;
        }
      }
      if (e.action() == WriteAction.LOCK) {
        if (e.accepted()) {
          locksWon++;
          if (e.lockCountBefore() >= 1) {
            relocks++;
          }
        } else {
          conflicts++;
        }
      } else if (e.action() == WriteAction.UPDATE && !e.accepted() && e.staleEpochRejection()) {
        staleBlocked++;
      }
    }
    SafetyReport safety = sim.checkSafety();
    long staleAccepted = safety.violations(SafetyViolation.Property.STALE_EPOCH_WRITE).size();
    long strangerEnds = safety.violations(SafetyViolation.Property.EPOCH_ENDED_BY_STRANGER).size();
    long doubleRuns = safety.violations().size() - staleAccepted - strangerEnds;
    long sdkCancels = sdkCancels(history);
    long ambiguousLocks = ambiguousLocks(history);
    List<ContainerSnapshot> all = sim.containers();
    long completed = all.stream().filter(c -> c.state().equals("Complete")).count();
    long cancelled = all.stream().filter(c -> c.state().equals("Cancelled")).count();
    long requests = sim.requestCounts().values().stream().mapToLong(Long::longValue).sum();
    return new Result(
        mode,
        containers,
        completed,
        cancelled,
        notFinal,
        locksWon,
        conflicts,
        relocks,
        chaosUnlocks,
        chaosCancels,
        staleBlocked,
        staleAccepted,
        doubleRuns,
        strangerEnds,
        sdkCancels,
        ambiguousLocks,
        falseLosses,
        leakedThreads,
        leakedConnections,
        requests,
        wall,
        seed,
        safety,
        stuck);
  }

  /**
   * Lock attempts that the lock holder could not attribute: a lock accepted by the server whose
   * sender then retried and was refused because the container was Locked in that very epoch (its
   * answer was lost).
   */
  private static long ambiguousLocks(List<HistoryEvent> history) {
    java.util.Map<String, HistoryEvent> lastAcceptedLock = new java.util.HashMap<>();
    long n = 0;
    for (HistoryEvent e : history) {
      if (e.action() != WriteAction.LOCK) {
        continue;
      }
      String key = e.containerUuid() + " " + e.clientIdentity();
      if (e.accepted()) {
        lastAcceptedLock.put(key, e);
      } else {
        HistoryEvent won = lastAcceptedLock.remove(key);
        if (won != null
            && "Locked".equals(e.stateBefore())
            && java.util.Objects.equals(won.epochAfter(), e.appliedEpoch())) {
          n++;
        }
      }
    }
    return n;
  }

  /**
   * Containers that ended Cancelled by the SDK's own doing: every cancel in the demo should come
   * from the chaos client (a user's cancel) or from the server's {@code MaxDispatchAttempts} rule
   * on an unlock. A dispatcher or runner write that moved a container to Cancelled is counted.
   */
  private static long sdkCancels(List<HistoryEvent> history) {
    Set<String> out = new HashSet<>();
    for (HistoryEvent e : history) {
      boolean toCancelled =
          e.accepted()
              && "Cancelled".equals(e.stateAfter())
              && !"Cancelled".equals(e.stateBefore());
      boolean byUnlock = e.action() == WriteAction.UNLOCK || "Queued".equals(e.requestedState());
      if (toCancelled && !byUnlock && !e.clientIdentity().equals("chaos")) {
        out.add(e.containerUuid());
      }
    }
    return out.size();
  }

  /**
   * The {@code demo --json} report: one object, its shape documented in {@code src/docs/cli.md}
   * (field names never change meaning; new fields may be added).
   */
  static JsonObject json(RaceDemo demo, Result guarded, @Nullable Result plain) {
    JsonObject o = header("demo", guarded.ok());
    o.addProperty("seed", demo.seed);
    JsonObject settings = new JsonObject();
    settings.addProperty("containers", demo.containers);
    settings.addProperty("dispatchers", demo.localDispatchers);
    settings.addProperty("jvms", demo.jvms);
    settings.addProperty("concurrency", demo.concurrency);
    settings.addProperty("poll_interval_ms", demo.poll.toMillis());
    settings.addProperty("timeout_ms", demo.timeout.toMillis());
    settings.add(
        "race_window_ms",
        demo.raceWindow == null
            ? JsonNull.INSTANCE
            : new com.google.gson.JsonPrimitive(demo.raceWindow.toMillis()));
    settings.addProperty("shared_token", demo.sharedToken);
    settings.addProperty("lost_response_rate", demo.lostResponseRate);
    o.add("settings", settings);
    o.add("guarded", json(guarded));
    o.add("plain", plain == null ? JsonNull.INSTANCE : json(plain));
    return o;
  }

  /** The {@code demo --soak-requests N --json} report: every round and the verdict. */
  static JsonObject json(Soak soak) {
    JsonObject o = header("demo-soak", soak.ok());
    JsonArray rounds = new JsonArray();
    for (Result r : soak.rounds()) {
      rounds.add(json(r));
    }
    o.addProperty("wall_seconds", soak.wall().toMillis() / 1000.0);
    o.add("rounds", rounds);
    return o;
  }

  private static JsonObject header(String report, boolean safe) {
    JsonObject o = new JsonObject();
    o.addProperty("report", report);
    o.addProperty("version", VersionProvider.VERSION);
    o.addProperty("safe", safe);
    o.addProperty("exit_status", safe ? 0 : 1);
    return o;
  }

  private static JsonObject json(Result r) {
    JsonObject o = new JsonObject();
    o.addProperty("mode", r.mode());
    o.addProperty("seed", r.seed());
    o.addProperty("ok", r.ok());
    o.addProperty("containers", r.containers());
    o.addProperty("completed", r.completed());
    o.addProperty("cancelled", r.cancelled());
    o.addProperty("not_final", r.notFinal());
    o.addProperty("locks_won", r.locksWon());
    o.addProperty("lock_conflicts", r.lockConflicts());
    o.addProperty("relocks", r.relocks());
    o.addProperty("forced_unlocks", r.chaosUnlocks());
    o.addProperty("forced_cancels", r.chaosCancels());
    o.addProperty("stale_writes_blocked", r.staleBlocked());
    o.addProperty("stale_writes_accepted", r.staleAccepted());
    o.addProperty("double_runs", r.doubleRuns());
    o.addProperty("epochs_ended_by_stranger", r.strangerEnds());
    o.addProperty("sdk_cancels", r.sdkCancels());
    o.addProperty("ambiguous_locks", r.ambiguousLocks());
    o.addProperty("false_losses", r.falseLosses());
    o.addProperty("leaked_threads", r.leakedThreads());
    o.addProperty("leaked_connections", r.leakedConnections());
    o.addProperty("requests", r.requests());
    o.addProperty("wall_seconds", r.wall().toMillis() / 1000.0);
    JsonObject safety = new JsonObject();
    safety.addProperty("safe", r.safety().isSafe());
    safety.addProperty("events_checked", r.safety().eventsChecked());
    safety.addProperty("violations", r.safety().violations().size());
    o.add("safety", safety);
    JsonArray stuck = new JsonArray();
    for (Stuck c : r.stuck()) {
      JsonObject j = new JsonObject();
      j.addProperty("uuid", c.uuid());
      j.addProperty("state", c.state());
      j.addProperty("lock_count", c.lockCount());
      j.addProperty("why", c.why());
      stuck.add(j);
    }
    o.add("stuck", stuck);
    return o;
  }

  static String report(Result g, Result p) {
    StringBuilder sb = new StringBuilder();
    String fmt = "%-40s %14s %14s%n";
    sb.append(String.format(Locale.ROOT, fmt, "", "with guard", p == null ? "" : "plain updates"));
    row(sb, fmt, "containers", g.containers(), p == null ? null : (long) p.containers());
    row(sb, fmt, "  completed", g.completed(), p == null ? null : p.completed());
    row(sb, fmt, "  cancelled", g.cancelled(), p == null ? null : p.cancelled());
    row(sb, fmt, "  not final at the end", g.notFinal(), p == null ? null : p.notFinal());
    row(sb, fmt, "locks won", g.locksWon(), p == null ? null : p.locksWon());
    row(sb, fmt, "lock conflicts", g.lockConflicts(), p == null ? null : p.lockConflicts());
    row(sb, fmt, "re-locks (container locked again)", g.relocks(), p == null ? null : p.relocks());
    row(
        sb,
        fmt,
        "forced unlocks under runners",
        g.chaosUnlocks(),
        p == null ? null : (Long) p.chaosUnlocks());
    row(
        sb,
        fmt,
        "forced cancels during runs",
        g.chaosCancels(),
        p == null ? null : (Long) p.chaosCancels());
    row(
        sb,
        fmt,
        "stale writes blocked by the guard",
        g.staleBlocked(),
        p == null ? null : p.staleBlocked());
    row(
        sb,
        fmt,
        "stale writes accepted (must be 0)",
        g.staleAccepted(),
        p == null ? null : p.staleAccepted());
    row(sb, fmt, "double runs (must be 0)", g.doubleRuns(), p == null ? null : p.doubleRuns());
    row(
        sb,
        fmt,
        "epochs ended by a stranger (must be 0)",
        g.strangerEnds(),
        p == null ? null : p.strangerEnds());
    row(
        sb,
        fmt,
        "cancelled by the SDK itself (must be 0)",
        g.sdkCancels(),
        p == null ? null : p.sdkCancels());
    row(
        sb,
        fmt,
        "lock answers lost, not attributable",
        g.ambiguousLocks(),
        p == null ? null : p.ambiguousLocks());
    row(sb, fmt, "false losses (must be 0)", g.falseLosses(), p == null ? null : p.falseLosses());
    row(
        sb,
        fmt,
        "leaked threads + connections (must be 0)",
        g.leakedThreads() + g.leakedConnections(),
        p == null ? null : p.leakedThreads() + p.leakedConnections());
    sb.append(
        String.format(
            Locale.ROOT,
            fmt,
            "requests per container",
            String.format(Locale.ROOT, "%.1f", g.requestsPerContainer()),
            p == null ? "" : String.format(Locale.ROOT, "%.1f", p.requestsPerContainer())));
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
            p == null ? "" : (p.safety().isSafe() ? "PASS" : "FAIL")));
    sb.append("seed ").append(g.seed()).append('\n');
    return sb.toString();
  }

  private static void row(StringBuilder sb, String fmt, String label, long g, Long p) {
    sb.append(String.format(Locale.ROOT, fmt, label, g, p == null ? "" : p.toString()));
  }
}

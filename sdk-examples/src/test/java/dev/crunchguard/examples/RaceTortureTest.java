package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.SimulatorEvents;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The race torture of the reliability campaign, bounded to run in the normal test run: 8
 * dispatchers (6 in this JVM, 2 in two other JVMs), 2,000 containers, faults on (lost responses
 * after commit, connection resets, 502, 503, 429 with Retry-After, delays), forced re-locks under
 * running runners and cancellations during runs. Safety is judged from the simulator's history, not
 * from the SDK. Replay a failure with {@code -Dtorture.seed=<seed printed below>}.
 *
 * <p>Three shapes: every dispatcher with its own token; every dispatcher sharing one token (as
 * clusters run them with the SystemRootToken), where "locked by my token" proves nothing and lost
 * lock answers must never lead to two runners, or to a dispatcher ending a run it did not start;
 * and every dispatcher on the event stream ({@code events(true)}) while the stream restarts, loses
 * events, stalls its clients and delays delivery.
 */
class RaceTortureTest {
  @Test
  void eightDispatchersInThreeJvms_overTwoThousandContainers_underFaults_staySafe()
      throws Exception {
    long seed = Long.getLong("torture.seed", System.nanoTime() & 0xffffffffL);
    System.out.println(
        "RaceTortureTest seed=" + seed + " (replay with -Dtorture.seed=" + seed + ")");
    RaceDemo demo =
        new RaceDemo(
            2000,
            6,
            2,
            8,
            seed,
            Duration.ofMinutes(4),
            Duration.ofMillis(100),
            new PrintStream(System.out, true, StandardCharsets.UTF_8));

    RaceDemo.Result r = demo.run(true);
    System.out.print(RaceDemo.report(r, null));
    assertSafe(r, seed);
  }

  @Test
  void eightDispatchersSharingOneToken_inThreeJvms_withFivePercentLostAnswers_staySafe()
      throws Exception {
    long seed = Long.getLong("torture.seed", System.nanoTime() & 0xffffffffL);
    System.out.println(
        "RaceTortureTest (shared token) seed="
            + seed
            + " (replay with -Dtorture.seed="
            + seed
            + ")");
    RaceDemo demo =
        new RaceDemo(
                1000,
                6,
                2,
                8,
                seed,
                Duration.ofMinutes(4),
                Duration.ofMillis(100),
                new PrintStream(System.out, true, StandardCharsets.UTF_8))
            .withSharedToken(true)
            .withLostResponseRate(0.05)
            .withOrphanGrace(Duration.ofSeconds(10));

    RaceDemo.Result r = demo.run(true);
    System.out.print(RaceDemo.report(r, null));
    assertSafe(r, seed);
    assertThat(r.ambiguousLocks())
        .as("lost lock answers that the shared token made unattributable")
        .isPositive();
  }

  @Test
  void eightDispatchersOnTheEventStream_inThreeJvms_underStreamAndRequestFaults_staySafe()
      throws Exception {
    long seed = Long.getLong("torture.seed", System.nanoTime() & 0xffffffffL);
    System.out.println(
        "RaceTortureTest (events) seed=" + seed + " (replay with -Dtorture.seed=" + seed + ")");
    StreamChaos chaos = new StreamChaos(seed, 8);
    RaceDemo demo =
        new RaceDemo(
                1000,
                6,
                2,
                8,
                seed,
                Duration.ofMinutes(4),
                // events drive the dispatch; the polls are the fallback while the stream is down
                Duration.ofMillis(500),
                new PrintStream(System.out, true, StandardCharsets.UTF_8))
            .withEvents(true)
            .withSimulatorSettings(b -> b.enableControlEndpoints(true))
            .whileRunning(chaos);

    RaceDemo.Result r = demo.run(true);
    System.out.print(RaceDemo.report(r, null));
    System.out.println("  stream: " + chaos);
    assertSafe(r, seed);
    // the stream was really used, and every stream fault really fired
    assertThat(chaos.failure).as("the chaos client's own failure").isNull();
    assertThat(chaos.maxOpen)
        .as("stream connections open at once: every dispatcher, the other JVMs' included")
        .isEqualTo(8);
    assertThat(chaos.eventsSent).as("events delivered").isGreaterThan(r.containers());
    assertThat(chaos.restarts.get()).as("restarts with downtime").isPositive();
    assertThat(chaos.restartDropped.get()).as("connections a restart dropped").isPositive();
    assertThat(chaos.connectionsAccepted)
        .as("connections accepted: the reconnections after the faults")
        .isGreaterThan(8);
    assertThat(chaos.droppedEvents).as("events dropped").isPositive();
    assertThat(chaos.stalledClients.get()).as("clients stalled").isPositive();
    assertThat(chaos.queueFullDisconnects).as("clients closed on a full queue").isPositive();
    assertThat(chaos.delays.get()).as("delayed deliveries").isPositive();
  }

  /**
   * Faults on the event stream during the run, through the simulator's control endpoints (as a
   * harness outside the JVM would inject them), in a seeded order that fires every kind in its
   * first four steps: a restart with a downtime, dropped events, every client stalled (their queues
   * fill and the server closes them), delayed delivery. Waits first for every dispatcher to
   * connect. Runs until interrupted; then reads the stream's counters while the simulator still
   * serves.
   */
  static final class StreamChaos implements Consumer<ArvadosSimulator> {
    enum Kind {
      RESTART,
      DROP,
      STALL,
      DELAY
    }

    private final Random rnd;
    private final int dispatchers;
    private final HttpClient http =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    // written by the chaos thread only; read by the test after the demo joined it
    volatile @Nullable Throwable failure;
    volatile int maxOpen;
    final AtomicInteger restarts = new AtomicInteger();
    final AtomicInteger restartDropped = new AtomicInteger();
    final AtomicInteger drops = new AtomicInteger();
    final AtomicInteger stalls = new AtomicInteger();
    final AtomicInteger stalledClients = new AtomicInteger();
    final AtomicInteger delays = new AtomicInteger();
    volatile long eventsSent;
    volatile long droppedEvents;
    volatile long queueFullDisconnects;
    volatile long connectionsAccepted;

    StreamChaos(long seed, int dispatchers) {
      this.rnd = new Random(seed ^ 0x5eed5eedL);
      this.dispatchers = dispatchers;
    }

    @Override
    public void accept(ArvadosSimulator sim) {
      try {
        awaitOpen(sim, dispatchers, Duration.ofSeconds(30));
        List<Kind> first = new ArrayList<>(List.of(Kind.values()));
        Collections.shuffle(first, rnd);
        for (int step = 0; ; step++) {
          awaitOpen(sim, 1, Duration.ofSeconds(10)); // a fault for somebody
          // The first steps fire every kind within a few seconds: the dispatchers may finish the
          // whole queue in under ten.
          boolean early = step < first.size();
          Kind k = early ? first.get(step) : Kind.values()[rnd.nextInt(4)];
          switch (k) {
            case RESTART -> {
              JsonObject a =
                  post(
                      sim,
                      "restart",
                      "{\"downtime_ms\":" + (300 + rnd.nextInt(early ? 400 : 1200)) + "}");
              restarts.incrementAndGet();
              restartDropped.addAndGet(a.get("dropped").getAsInt());
            }
            case DROP -> {
              post(sim, "drop", "{\"count\":" + (1 + rnd.nextInt(5)) + "}");
              drops.incrementAndGet();
            }
            case STALL -> {
              stalledClients.addAndGet(post(sim, "stall", "{}").get("stalled").getAsInt());
              stalls.incrementAndGet();
            }
            case DELAY -> {
              post(sim, "delay", "{\"delay_ms\":" + (100 + rnd.nextInt(300)) + "}");
              delays.incrementAndGet();
              Thread.sleep(early ? 300 + rnd.nextInt(300) : 500 + rnd.nextInt(1000));
              post(sim, "delay", "{\"delay_ms\":0}");
            }
          }
          Thread.sleep(early ? 100 + rnd.nextInt(200) : 300 + rnd.nextInt(900));
        }
      } catch (InterruptedException e) {
        // the run is over
      } catch (IOException | RuntimeException e) {
        failure = e;
      } finally {
        SimulatorEvents ev = sim.events();
        ev.clearFaults();
        eventsSent = ev.eventsSent();
        droppedEvents = ev.droppedEvents();
        queueFullDisconnects = ev.queueFullDisconnects();
        connectionsAccepted = ev.connectionsAccepted();
      }
    }

    /** Waits until at least {@code n} stream connections are open, noting the most seen. */
    private void awaitOpen(ArvadosSimulator sim, int n, Duration limit)
        throws IOException, InterruptedException {
      long end = System.nanoTime() + limit.toNanos();
      while (true) {
        int open = get(sim).get("open_connections").getAsInt();
        maxOpen = Math.max(maxOpen, open);
        if (open >= n || System.nanoTime() > end) {
          return;
        }
        Thread.sleep(50);
      }
    }

    private JsonObject get(ArvadosSimulator sim) throws IOException, InterruptedException {
      return send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "_simulator/events")).GET());
    }

    private JsonObject post(ArvadosSimulator sim, String fault, String json)
        throws IOException, InterruptedException {
      return send(
          HttpRequest.newBuilder(URI.create(sim.baseUrl() + "_simulator/events/" + fault))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private JsonObject send(HttpRequest.Builder request) throws IOException, InterruptedException {
      HttpResponse<String> res =
          http.send(
              request.timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (res.statusCode() != 200) {
        throw new IllegalStateException(
            request.build().uri() + " answered " + res.statusCode() + ": " + res.body());
      }
      return JsonParser.parseString(res.body()).getAsJsonObject();
    }

    @Override
    public String toString() {
      return "max open connections "
          + maxOpen
          + ", events sent "
          + eventsSent
          + ", restarts "
          + restarts
          + " (connections dropped "
          + restartDropped
          + "), connections accepted "
          + connectionsAccepted
          + ", drops "
          + drops
          + " (events dropped "
          + droppedEvents
          + "), stalls "
          + stalls
          + " (clients stalled "
          + stalledClients
          + ", closed on a full queue "
          + queueFullDisconnects
          + "), delays "
          + delays;
    }
  }

  private static void assertSafe(RaceDemo.Result r, long seed) {
    assertThat(r.safety().isSafe()).as(r.safety().summary()).isTrue();
    assertThat(r.staleAccepted()).as("writes accepted from a stale epoch, seed " + seed).isZero();
    assertThat(r.doubleRuns()).as("epochs with more than one runner, seed " + seed).isZero();
    assertThat(r.strangerEnds())
        .as("epochs unlocked or cancelled by a dispatcher that did not start them, seed " + seed)
        .isZero();
    assertThat(r.sdkCancels()).as("containers cancelled by the SDK itself, seed " + seed).isZero();
    assertThat(r.safety().isSafe()).as(r.safety().summary()).isTrue();
    assertThat(r.falseLosses())
        .as("LostOwnershipException while the epoch was current, seed " + seed)
        .isZero();
    assertThat(r.notFinal()).as("containers neither final nor unlocked, seed " + seed).isZero();
    assertThat(r.leakedThreads()).as("threads left after shutdown").isZero();
    assertThat(r.leakedConnections()).as("connections not returned to the pool").isZero();
    // the run really exercised what it claims to
    assertThat(r.chaosUnlocks()).isPositive();
    assertThat(r.relocks()).isPositive();
    assertThat(r.staleBlocked()).isPositive();
    assertThat(r.chaosCancels()).isPositive();
  }
}

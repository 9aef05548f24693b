package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * Runs small test classes that leak (or do not) through the JUnit Platform's test kit, and checks
 * that the extension fails exactly the leaking ones. The nested classes are not run by Surefire (it
 * skips nested classes); only this test selects them.
 */
class LeakCheckExtensionTest {
  /** Released by the outer test once the leaking class has been judged. */
  static volatile CountDownLatch release = new CountDownLatch(0);

  private static Events run(Class<?> testClass) {
    release = new CountDownLatch(1);
    try {
      return EngineTestKit.engine("junit-jupiter")
          .selectors(selectClass(testClass))
          .execute()
          .testEvents();
    } finally {
      release.countDown();
    }
  }

  private static String failureMessage(Events events) {
    Event failed = events.failed().stream().findFirst().orElseThrow();
    Throwable t =
        failed.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
    return t.getMessage();
  }

  private static Thread parked(String name) {
    Thread t =
        new Thread(
            () -> {
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Test
  void aTestLeavingAnSdkThreadFails_namingTheThread() {
    Events events = run(LeavesAnSdkThread.class);
    events.assertStatistics(s -> s.started(1).failed(1));
    assertThat(failureMessage(events))
        .contains("threads still running")
        .contains("crunchguard-runner-leaked");
  }

  @Test
  void aTestThatStopsItsThreadsPasses() {
    run(StopsItsThread.class).assertStatistics(s -> s.started(1).succeeded(1));
  }

  @Test
  void aThreadStartedBeforeTheTestIsNotBlamedOnIt() {
    run(ThreadFromBeforeAll.class).assertStatistics(s -> s.started(1).succeeded(1));
  }

  @Test
  void anAddedPrefixIsChecked() {
    Events events = run(LeavesOwnThread.class);
    events.assertStatistics(s -> s.started(1).failed(1));
    assertThat(failureMessage(events)).contains("my-pool-1");
  }

  @Test
  void aTestLeavingARequestInFlightFails_onTheSimulatorAndTheClient() {
    Events events = run(LeavesARequestInFlight.class);
    events.assertStatistics(s -> s.started(1).failed(1));
    assertThat(failureMessage(events))
        .contains("1 request(s) in flight")
        .contains("1 running call(s)");
  }

  @Test
  void aTestWhoseRequestsAreAnsweredPasses() {
    run(AnswersEveryRequest.class).assertStatistics(s -> s.started(1).succeeded(1));
  }

  @ExtendWith(LeakCheckExtension.class)
  static class LeavesAnSdkThread {
    @Test
    void leaks() {
      parked("crunchguard-runner-leaked");
    }
  }

  @ExtendWith(LeakCheckExtension.class)
  static class StopsItsThread {
    @Test
    void stops() throws InterruptedException {
      Thread t = new Thread(() -> {}, "crunchguard-dispatch-poll-ok");
      t.start();
      t.join();
    }
  }

  @ExtendWith(LeakCheckExtension.class)
  static class ThreadFromBeforeAll {
    static Thread shared;

    @BeforeAll
    static void start() {
      shared = parked("crunchguard-events-1-timer");
    }

    @Test
    void usesIt() {
      assertThat(shared.isAlive()).isTrue();
    }
  }

  static class LeavesOwnThread {
    @RegisterExtension
    final LeakCheckExtension leaks =
        new LeakCheckExtension().threadsNamed("my-pool-").grace(Duration.ofMillis(100));

    @Test
    void leaks() {
      parked("my-pool-1");
    }
  }

  static class LeavesARequestInFlight {
    static ArvadosSimulator sim;
    static OkHttpClient http;

    @RegisterExtension
    final LeakCheckExtension leaks = new LeakCheckExtension().grace(Duration.ofMillis(200));

    @BeforeAll
    static void start() {
      sim = ArvadosSimulator.builder().adminToken("leak-admin-secret-0123").build().start();
      http = new OkHttpClient();
    }

    @AfterAll
    static void stop() {
      sim.close();
      http.dispatcher().executorService().shutdownNow();
      http.connectionPool().evictAll();
    }

    @Test
    void leaks() throws InterruptedException {
      leaks.watch(sim);
      leaks.watch(http);
      sim.faults()
          .add(
              FaultRule.of(FaultKind.DELAY).on(Endpoint.LIST).delay(Duration.ofSeconds(3)).build());
      CountDownLatch arrived = new CountDownLatch(1);
      http.newCall(
              new Request.Builder()
                  .url(sim.baseUrl() + "arvados/v1/containers")
                  .header("Authorization", "Bearer leak-admin-secret-0123")
                  .build())
          .enqueue(
              new Callback() {
                @Override
                public void onFailure(Call call, IOException e) {}

                @Override
                public void onResponse(Call call, Response response) {
                  response.close();
                }
              });
      while (sim.requestsInFlight() == 0) {
        arrived.await(10, java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    }
  }

  @ExtendWith(LeakCheckExtension.class)
  static class AnswersEveryRequest {
    @RegisterExtension static final ArvadosSimulatorExtension SIM = new ArvadosSimulatorExtension();

    @RegisterExtension final LeakCheckExtension leaks = new LeakCheckExtension();

    @Test
    void answered(ArvadosSimulator sim) {
      leaks.watch(sim);
      try (RivalWriter w =
          RivalWriter.forSimulator(sim, ArvadosSimulatorExtension.DEFAULT_ADMIN_TOKEN)) {
        String uuid = sim.createContainer();
        List<Integer> statuses =
            StartGate.race(4, Duration.ofSeconds(10), i -> w.get(uuid).status()).values();
        assertThat(statuses).containsOnly(200);
      }
    }
  }
}

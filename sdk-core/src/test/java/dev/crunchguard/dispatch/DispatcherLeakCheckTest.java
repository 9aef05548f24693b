package dev.crunchguard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ArvadosSimulatorExtension;
import dev.crunchguard.testkit.LeakCheckExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * The testkit's {@link LeakCheckExtension} on the SDK's real threads: a test that forgets to close
 * its {@link Dispatcher} fails, naming the dispatcher's poll thread; one that closes it passes. The
 * nested classes run only through the platform's test kit (Surefire skips nested classes).
 */
class DispatcherLeakCheckTest {
  static volatile Dispatcher forgotten;
  static volatile ArvadosClient forgottenClient;

  private static Events run(Class<?> testClass) {
    return EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(testClass))
        .execute()
        .testEvents();
  }

  @Test
  void aTestThatLeavesItsDispatcherRunningFails() {
    try {
      Events events = run(ForgetsToCloseItsDispatcher.class);
      events.assertStatistics(s -> s.started(1).failed(1));
      Throwable t =
          events.failed().stream()
              .findFirst()
              .orElseThrow()
              .getPayload(TestExecutionResult.class)
              .orElseThrow()
              .getThrowable()
              .orElseThrow();
      assertThat(t).hasMessageContaining("crunchguard-dispatch-poll");
    } finally {
      if (forgotten != null) {
        forgotten.close();
      }
      if (forgottenClient != null) {
        forgottenClient.close();
      }
    }
  }

  @Test
  void aTestThatClosesItsDispatcherPasses() {
    run(ClosesItsDispatcher.class).assertStatistics(s -> s.started(1).succeeded(1));
  }

  private static Dispatcher started(ArvadosClient client) {
    Dispatcher d =
        Dispatcher.builder(client, ctx -> ctx.lock().complete(0, null))
            .pollInterval(Duration.ofMillis(50))
            .shutdownTimeout(Duration.ofSeconds(5))
            .build();
    d.start();
    return d;
  }

  private static ArvadosClient client(ArvadosSimulator sim) {
    return ArvadosClient.builder()
        .baseUrl(sim.baseUrl())
        .token(ArvadosSimulatorExtension.DEFAULT_ADMIN_TOKEN)
        .build();
  }

  static class ForgetsToCloseItsDispatcher {
    @RegisterExtension
    static final ArvadosSimulatorExtension SIMULATOR = new ArvadosSimulatorExtension();

    @RegisterExtension
    final LeakCheckExtension leaks = new LeakCheckExtension().grace(Duration.ofMillis(300));

    @Test
    void forgets(ArvadosSimulator sim) {
      forgottenClient = client(sim);
      forgotten = started(forgottenClient);
    }
  }

  static class ClosesItsDispatcher {
    @RegisterExtension
    static final ArvadosSimulatorExtension SIMULATOR = new ArvadosSimulatorExtension();

    @RegisterExtension final LeakCheckExtension leaks = new LeakCheckExtension();

    @Test
    void closes(ArvadosSimulator sim) {
      leaks.watch(sim);
      try (ArvadosClient client = client(sim);
          Dispatcher d = started(client)) {
        sim.createContainer();
      }
    }
  }
}

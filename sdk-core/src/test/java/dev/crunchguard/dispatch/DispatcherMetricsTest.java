package dev.crunchguard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.RetryPolicy;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.LeakCheckExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheckExtension.class)
class DispatcherMetricsTest {
  static final String TOKEN = "metricstesttoken0123456789abc";

  @Test
  void aDispatchRun_isCountedByTheMeters_withTheGivenTags() throws Exception {
    MeterRegistry registry = new SimpleMeterRegistry();
    try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken(TOKEN).build().start();
        ArvadosClient client =
            ArvadosClient.builder()
                .baseUrl(sim.baseUrl())
                .token(TOKEN)
                .retryPolicy(RetryPolicy.builder().initialBackoff(Duration.ofMillis(5)).build())
                .build()) {
      String ok1 = sim.createContainer(ContainerSpec.builder().priority(3).build());
      String ok2 = sim.createContainer(ContainerSpec.builder().priority(2).build());
      String failing = sim.createContainer(ContainerSpec.builder().priority(1).build());
      try (Dispatcher d =
          Dispatcher.builder(
                  client,
                  ctx -> {
                    if (ctx.containerUuid().equals(failing)) {
                      throw new IllegalStateException("could not stage the image");
                    }
                    ctx.lock().markRunning();
                    ctx.lock().complete(0, null);
                  })
              .pollInterval(Duration.ofMillis(50))
              .lockRetryInterval(Duration.ofMinutes(5))
              .listener(new DispatcherMetrics(registry, "dispatcher", "d1"))
              .build()) {
        d.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(sim.container(ok1).state().equals("Complete")
                && sim.container(ok2).state().equals("Complete")
                && registry.get("crunchguard.dispatcher.unlocks").counter().count() == 1
                && d.stats().active() == 0) // every run has ended: close() stops none
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
      }
    }

    assertThat(
            registry
                .get("crunchguard.dispatcher.locks.won")
                .tag("dispatcher", "d1")
                .counter()
                .count())
        .isEqualTo(3);
    assertThat(registry.get("crunchguard.dispatcher.lock.attempts").counter().count()).isEqualTo(3);
    assertThat(registry.get("crunchguard.dispatcher.runs.started").counter().count()).isEqualTo(3);
    assertThat(registry.get("crunchguard.dispatcher.runs.failed").counter().count()).isEqualTo(1);
    assertThat(registry.get("crunchguard.dispatcher.unlocks").counter().count()).isEqualTo(1);
    assertThat(registry.get("crunchguard.dispatcher.polls").counter().count()).isPositive();
    assertThat(registry.get("crunchguard.dispatcher.queue.to.lock").timer().count()).isEqualTo(3);
    assertThat(registry.get("crunchguard.dispatcher.runs.active").gauge().value()).isZero();
    assertThat(
            registry
                .get("crunchguard.dispatcher.stops")
                .tag("reason", "shutdown")
                .counter()
                .count())
        .isZero();
  }

  @Test
  void tagsMustComeInPairs() {
    assertThatThrownBy(() -> new DispatcherMetrics(new SimpleMeterRegistry(), "dispatcher"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pairs");
  }
}

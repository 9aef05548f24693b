package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class StartGateTest {
  private static final String DISPATCHER = "dispatcher-secret-0123456789";
  private static final String SECOND_DISPATCHER = "second-dispatcher-secret-0123456789";

  @RegisterExtension final LeakCheckExtension leaks = new LeakCheckExtension();

  @Test
  void noWriterStartsBeforeAllAreWaiting() {
    int n = 8;
    CountDownLatch started = new CountDownLatch(n);
    StartGate.Results<Long> r =
        StartGate.race(
            n,
            Duration.ofSeconds(10),
            i -> {
              started.countDown();
              // Every writer is past the gate only when all are: none waits here for long.
              return started.await(5, TimeUnit.SECONDS) ? (long) i : -1L;
            });
    assertThat(r.values()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
    assertThat(r.failures()).isEmpty();
    assertThat(r.timedOut()).isZero();
  }

  @Test
  void twoDispatchersRacingForOneLock_exactlyOneWins() {
    try (ArvadosSimulator sim =
            leaks.watch(
                ArvadosSimulator.builder()
                    .adminToken(DISPATCHER)
                    .adminToken(SECOND_DISPATCHER)
                    .build()
                    .start());
        RivalWriter first = RivalWriter.forSimulator(sim, DISPATCHER);
        RivalWriter second = RivalWriter.forSimulator(sim, SECOND_DISPATCHER)) {
      for (int round = 0; round < 20; round++) {
        String uuid = sim.createContainer();
        List<Callable<RivalWriter.Response>> writers =
            List.of(() -> first.lock(uuid), () -> second.lock(uuid));
        StartGate.Results<RivalWriter.Response> r = StartGate.race(Duration.ofSeconds(10), writers);
        assertThat(r.values())
            .extracting(RivalWriter.Response::status)
            .containsExactlyInAnyOrder(200, 422);
        assertThat(sim.container(uuid).lockCount()).isEqualTo(1);
      }
    }
  }

  @Test
  void failuresAreCollected_andValuesReportThem() {
    StartGate.Results<String> r =
        StartGate.race(
            3,
            Duration.ofSeconds(5),
            i -> {
              if (i == 1) {
                throw new IllegalStateException("writer one fails");
              }
              return "w" + i;
            });
    assertThat(r.outcomes())
        .extracting(StartGate.Outcome::succeeded)
        .containsExactly(true, false, true);
    assertThat(r.outcomes().get(0).value()).isEqualTo("w0");
    assertThat(r.failures())
        .singleElement()
        .extracting(Throwable::getMessage)
        .isEqualTo("writer one fails");
    assertThatThrownBy(r::values)
        .isInstanceOf(AssertionError.class)
        .hasMessage("writer 1 threw")
        .hasCauseInstanceOf(IllegalStateException.class);
  }

  @Test
  void aWriterThatOverrunsTheTimeoutIsInterrupted_andReportedAsTimedOut() {
    AtomicInteger interrupted = new AtomicInteger();
    long start = System.nanoTime();
    StartGate.Results<String> r =
        StartGate.race(
            2,
            Duration.ofMillis(300),
            i -> {
              if (i == 0) {
                return "quick";
              }
              try {
                Thread.sleep(60_000);
                return "slow";
              } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
              }
            });
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(r.timedOut()).isEqualTo(1);
    assertThat(r.outcomes().get(0).value()).isEqualTo("quick");
    assertThat(r.outcomes().get(1).timedOut()).isTrue();
    assertThat(interrupted).hasValue(1);
    assertThatThrownBy(r::values).hasMessage("writer 1 timed out");
    // The leak check after this test proves the slow writer's thread ended.
  }

  @Test
  void rejectsNoWritersAndNonPositiveTimeouts() {
    assertThatThrownBy(() -> StartGate.race(0, Duration.ofSeconds(1), i -> i))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StartGate.race(Duration.ofSeconds(1), List.<Callable<String>>of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StartGate.race(1, Duration.ZERO, i -> i))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

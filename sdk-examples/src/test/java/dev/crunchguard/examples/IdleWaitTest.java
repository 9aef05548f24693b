package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IdleWaitTest {
  final ByteArrayOutputStream err = new ByteArrayOutputStream();
  final PrintStream progress = new PrintStream(err, true, StandardCharsets.UTF_8);

  @Test
  void printsOneProgressLinePerSliceUntilIdle() throws Exception {
    AtomicInteger polls = new AtomicInteger();
    boolean idle =
        IdleWait.await(
            max -> polls.incrementAndGet() == 3,
            () -> "runs " + polls.get(),
            Duration.ofMinutes(1),
            Duration.ofMillis(10),
            progress);

    assertThat(idle).isTrue();
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "dispatching: runs 1\ndispatching: runs 2\n".replace("\n", System.lineSeparator()));
  }

  @Test
  void givesUpAtTheTimeout_neverWaitingPastIt() throws Exception {
    long start = System.nanoTime();
    boolean idle =
        IdleWait.await(
            max -> {
              assertThat(max).isLessThanOrEqualTo(Duration.ofMillis(200));
              Thread.sleep(max.toMillis());
              return false;
            },
            () -> "busy",
            Duration.ofMillis(200),
            Duration.ofSeconds(10),
            progress);

    assertThat(idle).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("dispatching: busy");
  }
}

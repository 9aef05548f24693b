package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The race torture of the reliability campaign, bounded to run in the normal test run: 8
 * dispatchers (6 in this JVM, 2 in two other JVMs), 2,000 containers, faults on (lost responses
 * after commit, connection resets, 502, 503, 429 with Retry-After, delays), forced re-locks under
 * running runners and cancellations during runs. Safety is judged from the simulator's history, not
 * from the SDK. Replay a failure with {@code -Dtorture.seed=<seed printed below>}.
 *
 * <p>Two shapes: every dispatcher with its own token, and every dispatcher sharing one token (as
 * clusters run them with the SystemRootToken), where "locked by my token" proves nothing and lost
 * lock answers must never lead to two runners, or to a dispatcher ending a run it did not start.
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

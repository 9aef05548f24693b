package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The race torture of the reliability campaign, bounded to run in the normal test run: 8 dispatchers
 * (6 in this JVM, 2 in two other JVMs), 2,000 containers, faults on (lost responses after commit,
 * connection resets, 502, 503, 429 with Retry-After, delays), forced re-locks under running runners
 * and cancellations during runs. Safety is judged from the simulator's history, not from the SDK.
 * Replay a failure with {@code -Dtorture.seed=<seed printed below>}.
 */
class RaceTortureTest {
  @Test
  void eightDispatchersInThreeJvms_overTwoThousandContainers_underFaults_staySafe() throws Exception {
    long seed = Long.getLong("torture.seed", System.nanoTime() & 0xffffffffL);
    System.out.println("RaceTortureTest seed=" + seed + " (replay with -Dtorture.seed=" + seed + ")");
    RaceDemo demo = new RaceDemo(2000, 6, 2, 8, seed, Duration.ofMinutes(4), Duration.ofMillis(100),
        new PrintStream(System.out, true, StandardCharsets.UTF_8));

    RaceDemo.Result r = demo.run(true);
    System.out.print(RaceDemo.report(r, null));

    assertThat(r.staleAccepted()).as("writes accepted from a stale epoch, seed " + seed).isZero();
    assertThat(r.doubleRuns()).as("epochs with more than one runner, seed " + seed).isZero();
    assertThat(r.safety().isSafe()).as(r.safety().summary()).isTrue();
    assertThat(r.falseLosses()).as("LostOwnershipException while the epoch was current, seed " + seed).isZero();
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

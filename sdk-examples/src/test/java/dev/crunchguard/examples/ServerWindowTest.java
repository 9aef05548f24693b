package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.SafetyViolation;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * What the guard can and cannot do against the real server's update window (src/docs/simulator.md,
 * section 5): the server checks {@code auth_uuid} against a copy read before its row lock. A stale
 * write that reads its copy just before an unlock-and-relock and writes just after is accepted. The
 * simulator reproduces that with {@code updateRaceWindow}; in its default atomic mode the same race
 * is refused. Either way the stale writer's next call (or its runner's ownership watch) finds the
 * epoch gone.
 */
class ServerWindowTest {
  static final String TOKEN = "windowtesttoken0123456789ab";
  static final int ROUNDS = 20;

  /** Runs ROUNDS races; returns how many stale writes the server accepted. */
  private static int race(@Nullable Duration window) throws Exception {
    int accepted = 0;
    try (ArvadosSimulator sim =
            ArvadosSimulator.builder().adminToken(TOKEN).updateRaceWindow(window).build().start();
        ArvadosClient stale =
            ArvadosClient.builder()
                .baseUrl(sim.baseUrl())
                .token(TOKEN)
                .clientId("stale-runner")
                .build();
        ArvadosClient other =
            ArvadosClient.builder()
                .baseUrl(sim.baseUrl())
                .token(TOKEN)
                .clientId("dispatcher")
                .build()) {
      for (int i = 0; i < ROUNDS; i++) {
        String uuid = sim.createContainer(ContainerSpec.builder().build());
        ContainerLock old = stale.containers().lock(uuid);
        // the stale runner's write is in flight while another process requeues and re-locks
        CompletableFuture<Boolean> write =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    old.markRunning();
                    return true;
                  } catch (LostOwnershipException e) {
                    return false;
                  }
                });
        Thread.sleep(10);
        try {
          other.containers().unlock(uuid);
          other.containers().lock(uuid);
        } catch (RuntimeException raced) {
          // the stale write got in first (Running): no re-lock this round
        }
        boolean ok = write.get(10, TimeUnit.SECONDS);
        String epochNow = sim.container(uuid).authUuid();
        // Accepted although the epoch moved on: re-locked (a new auth_uuid), or only requeued when
        // the
        // stale write slipped in between the unlock and the lock (no auth_uuid now).
        if (ok && !java.util.Objects.equals(epochNow, old.authUuid())) {
          accepted++;
          // the guard still fences the stale runner's next step
          try {
            old.verify();
            throw new AssertionError("verify() did not see the new epoch");
          } catch (LostOwnershipException expected) {
            // fenced off from here on
          }
        }
      }
      if (window == null) {
        assertThat(sim.checkSafety().violations(SafetyViolation.Property.STALE_EPOCH_WRITE))
            .isEmpty();
      } else {
        assertThat(sim.checkSafety().violations(SafetyViolation.Property.STALE_EPOCH_WRITE))
            .hasSize(accepted);
      }
    }
    return accepted;
  }

  @Test
  void atomicServer_refusesEveryRacingStaleWrite() throws Exception {
    assertThat(race(null)).isZero();
  }

  @Test
  void serverWithTheRealWindow_acceptsRacingStaleWrites_butTheNextCallIsFenced() throws Exception {
    int accepted = race(Duration.ofMillis(100));
    System.out.println(
        "server window 100 ms: " + accepted + " of " + ROUNDS + " racing stale writes accepted");
    assertThat(accepted).as("the simulator reproduces the real server's window").isPositive();
  }
}

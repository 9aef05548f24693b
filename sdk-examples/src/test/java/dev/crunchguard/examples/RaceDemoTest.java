package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.SafetyViolation;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

class RaceDemoTest {
  @Test
  void guardedRun_endsWithEveryContainerFinal_andNoSafetyViolation() throws Exception {
    long seed = System.nanoTime();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    RaceDemo demo =
        new RaceDemo(
            60,
            2,
            1,
            4,
            seed,
            Duration.ofMinutes(2),
            Duration.ofMillis(50),
            new PrintStream(progress, true, StandardCharsets.UTF_8));

    RaceDemo.Result r = demo.run(true);

    assertThat(r.notFinal()).as("seed " + seed).isZero();
    assertThat(r.completed() + r.cancelled()).isEqualTo(60);
    assertThat(r.staleAccepted()).isZero();
    assertThat(r.doubleRuns()).isZero();
    assertThat(r.safety().isSafe()).as(r.safety().summary()).isTrue();
    assertThat(r.locksWon()).isGreaterThanOrEqualTo(60);
    String report = RaceDemo.report(r, null);
    assertThat(report).contains("double runs (must be 0)", "PASS", "seed " + seed);
  }

  @Test
  void reportPutsBothRunsSideBySide() throws Exception {
    RaceDemo demo =
        new RaceDemo(
            10,
            1,
            0,
            2,
            7,
            Duration.ofMinutes(1),
            Duration.ofMillis(50),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    RaceDemo.Result guarded = demo.run(true);
    RaceDemo.Result plain = demo.run(false);
    String report = RaceDemo.report(guarded, plain);
    assertThat(report)
        .contains(
            "with guard",
            "plain updates",
            "stale writes accepted (must be 0)",
            "requests per container");
    assertThat(report.lines().filter(l -> l.startsWith("containers")).findFirst().orElseThrow())
        .matches("containers\\s+10\\s+10");
  }

  /**
   * What the demo's plain mode shows, made deterministic: a stale plain write is accepted and
   * flagged; the guarded one is refused.
   */
  @Test
  void staleRunnerAfterRelock_plainWriteIsAccepted_guardedWriteIsRefused() {
    String token = "racedemotesttoken0123456789";
    try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken(token).build().start();
        ArvadosClient client =
            ArvadosClient.builder().baseUrl(sim.baseUrl()).token(token).build()) {
      OkHttpClient http = new OkHttpClient();
      String a = sim.createContainer(ContainerSpec.builder().build());
      String b = sim.createContainer(ContainerSpec.builder().build());

      ContainerLock staleA = client.containers().lock(a);
      ContainerLock staleB = client.containers().lock(b);
      for (String uuid : new String[] {a, b}) {
        client.containers().unlock(uuid);
        client.containers().lock(uuid);
      }

      JsonObject running = new JsonObject();
      running.addProperty("state", "Running");
      int status =
          new PlainWriter(http, sim.baseUrl(), token, "stale-plain")
              .update(a, running, staleA.authUuid());
      assertThat(status).as("the server accepts the stale plain write").isEqualTo(200);
      assertThat(sim.checkSafety().violations(SafetyViolation.Property.STALE_EPOCH_WRITE))
          .hasSize(1);

      try {
        staleB.markRunning();
        throw new AssertionError("the guarded stale write was accepted");
      } catch (LostOwnershipException expected) {
        assertThat(sim.container(b).state()).isEqualTo("Locked");
      }
      assertThat(sim.checkSafety().violations().stream().map(SafetyViolation::containerUuid))
          .doesNotContain(b);
      http.dispatcher().executorService().shutdown();
    }
  }
}

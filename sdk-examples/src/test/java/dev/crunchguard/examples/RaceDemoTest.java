package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
import java.util.List;
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

  @Test
  void jsonReport_isOneObjectWithBothHalves_andTheWorkersFiguresCounted() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.run(
            List.of(
                "demo",
                "--containers",
                "12",
                "--dispatchers",
                "1",
                "--jvms",
                "1",
                "--concurrency",
                "2",
                "--poll-interval",
                "50ms",
                "--seed",
                "11",
                "--json"),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String progress = err.toString(StandardCharsets.UTF_8);
    String stdout = out.toString(StandardCharsets.UTF_8);

    assertThat(stdout.lines()).as("one line of JSON on stdout").hasSize(1);
    JsonObject report = JsonParser.parseString(stdout).getAsJsonObject();
    assertThat(report.get("report").getAsString()).isEqualTo("demo");
    assertThat(report.get("safe").getAsBoolean()).as(progress).isTrue();
    assertThat(report.get("exit_status").getAsInt()).isZero().isEqualTo(status);
    assertThat(report.get("seed").getAsLong()).isEqualTo(11);
    assertThat(report.getAsJsonObject("settings").get("jvms").getAsInt()).isEqualTo(1);
    assertThat(report.getAsJsonObject("settings").get("race_window_ms").isJsonNull()).isTrue();
    for (String half : List.of("guarded", "plain")) {
      JsonObject r = report.getAsJsonObject(half);
      assertThat(r.get("mode").getAsString()).isEqualTo(half);
      assertThat(r.get("containers").getAsInt()).isEqualTo(12);
      assertThat(r.get("completed").getAsLong() + r.get("cancelled").getAsLong())
          .isEqualTo(12 - r.get("not_final").getAsLong());
      assertThat(r.getAsJsonArray("stuck").size())
          .isEqualTo((int) Math.min(10, r.get("not_final").getAsLong()));
      assertThat(r.getAsJsonObject("safety").get("events_checked").getAsLong()).isPositive();
    }
    JsonObject guarded = report.getAsJsonObject("guarded");
    assertThat(guarded.get("ok").getAsBoolean()).isTrue();
    assertThat(guarded.get("stale_writes_accepted").getAsLong()).isZero();
    assertThat(guarded.get("false_losses").getAsLong()).isZero();
    // the other JVM's report (one JSON line) was read: its figures are in the progress
    assertThat(progress).contains("other JVM: locksWon=");
  }

  @Test
  void workerReport_roundTripsThroughOneJsonLine_withSnakeCaseNames() {
    DemoDispatcher.WorkerReport r = new DemoDispatcher.WorkerReport(1, 2, 3, 4, 5, 6, 7, 8, 9);
    String line = r.toJson();
    assertThat(line)
        .doesNotContain("\n")
        .contains("\"false_losses\":8", "\"leaked_connections\":9");
    assertThat(DemoDispatcher.WorkerReport.parse(line)).isEqualTo(r);
    assertThatThrownBy(() -> DemoDispatcher.WorkerReport.parse("READY"))
        .isInstanceOf(com.google.gson.JsonParseException.class);
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

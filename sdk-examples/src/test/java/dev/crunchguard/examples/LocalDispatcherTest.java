package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The local dispatcher and the example runner, each in its own JVM, against the simulator. */
class LocalDispatcherTest {
  static final String TOKEN = "localdispatchtesttoken012345";

  @Test
  void dispatchUntilIdle_runsEachCommandInARunnerProcess_andRecordsExitCodes() throws Exception {
    try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken(TOKEN).build().start()) {
      String ok = sim.createContainer(ContainerSpec.builder().command("true").priority(5).build());
      String three =
          sim.createContainer(
              ContainerSpec.builder().command("sh", "-c", "exit 3").priority(4).build());
      String missing =
          sim.createContainer(
              ContainerSpec.builder()
                  .command("/nonexistent/crunchguard-binary")
                  .priority(3)
                  .build());

      String java =
          System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
      ProcessBuilder pb =
          new ProcessBuilder(
              java,
              "-cp",
              System.getProperty("java.class.path"),
              Main.class.getName(),
              "dispatch",
              "--until-idle",
              "--concurrency",
              "2",
              "--poll-interval",
              "200ms",
              "--watch-interval",
              "200ms",
              "--timeout",
              "90s");
      pb.environment().put("ARVADOS_API_HOST", sim.baseUrl());
      pb.environment().put("ARVADOS_API_TOKEN", TOKEN);
      pb.environment().remove("ARVADOS_API_HOST_INSECURE");
      File stdout = File.createTempFile("dispatch", ".out");
      File stderr = File.createTempFile("dispatch", ".err");
      stdout.deleteOnExit();
      stderr.deleteOnExit();
      pb.redirectOutput(stdout).redirectError(stderr);
      Process p = pb.start();
      boolean exited = p.waitFor(120, TimeUnit.SECONDS);
      if (!exited) {
        p.destroyForcibly();
      }
      String output = Files.readString(stderr.toPath(), StandardCharsets.UTF_8);

      assertThat(exited).as(output).isTrue();
      assertThat(p.exitValue()).as(output).isZero();
      assertThat(output).doesNotContain(TOKEN);
      // progress and the final counters on stderr; stdout is left to reports
      assertThat(output).contains("dispatching from ", "dispatcher idle: locksWon=");
      assertThat(Files.readString(stdout.toPath(), StandardCharsets.UTF_8)).isEmpty();
      assertThat(sim.container(ok).state()).isEqualTo("Complete");
      assertThat(sim.container(ok).exitCode()).isZero();
      assertThat(sim.container(three).state()).isEqualTo("Complete");
      assertThat(sim.container(three).exitCode()).isEqualTo(3L);
      assertThat(sim.container(missing).state()).isEqualTo("Cancelled");
      sim.checkSafety().assertSafe();
      assertThat(List.of(ok, three, missing))
          .allSatisfy(u -> assertThat(sim.container(u).lockCount()).isEqualTo(1));
    }
  }

  @Test
  void dispatchWithAMetricsPort_servesTheDispatchersMetersInPrometheusTextFormat_whileItRuns()
      throws Exception {
    try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken(TOKEN).build().start()) {
      String ok = sim.createContainer(ContainerSpec.builder().command("true").priority(5).build());
      String java =
          System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
      ProcessBuilder pb =
          new ProcessBuilder(
              java,
              "-cp",
              System.getProperty("java.class.path"),
              Main.class.getName(),
              "dispatch",
              "--concurrency",
              "1",
              "--poll-interval",
              "200ms",
              "--watch-interval",
              "200ms",
              "--timeout",
              "90s",
              "--metrics-port",
              "0");
      pb.environment().put("ARVADOS_API_HOST", sim.baseUrl());
      pb.environment().put("ARVADOS_API_TOKEN", TOKEN);
      pb.environment().remove("ARVADOS_API_HOST_INSECURE");
      pb.redirectErrorStream(true);
      Process p = pb.start();
      try {
        BufferedReader out =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String url = null;
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          if (line.startsWith("metrics on ")) {
            url = line.substring("metrics on ".length()).trim();
            break;
          }
        }
        assertThat(url).as("the dispatcher announces its metrics URL").isNotNull();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!sim.container(ok).state().equals("Complete") && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        HttpResponse<String> scrape =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString());

        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(scrape.body())
            .contains("crunchguard_dispatcher_locks_won_total{dispatcher=\"local\"} 1.0")
            .contains("crunchguard_dispatcher_runs_started_total{dispatcher=\"local\"} 1.0")
            .contains("crunchguard_dispatcher_queue_to_lock_seconds_count{dispatcher=\"local\"} 1")
            .contains("crunchguard_dispatcher_polls_total")
            .doesNotContain(TOKEN);
      } finally {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
  }
}

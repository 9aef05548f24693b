package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Starts the shaded jar as a subprocess, exactly as the README does (runs after packaging). */
class StandaloneJarIT {
  private static Path jar() {
    String p = System.getProperty("simulator.jar", "target/arvados-simulator.jar");
    Path jar = Path.of(p);
    assertThat(jar).exists();
    return jar;
  }

  private static Process start(String... args) throws Exception {
    return startWith(List.of(), args);
  }

  private static Process startWith(List<String> jvmOptions, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-jar");
    cmd.add(jar().toString());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  @Test
  void jarPrintsOneListeningLineAndServesTheApiUntilKilled() throws Exception {
    Process p = start("--port", "0", "--admin-token", "SECRET", "--control");
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).matches("listening on http://127\\.0\\.0\\.1:[0-9]+");
      Http http =
          new Http(
              line.substring("listening on ".length()), java.net.http.HttpClient.newHttpClient());
      Http.Res me = http.get("arvados/v1/api_client_authorizations/current").token("SECRET").send();
      assertThat(me.status()).isEqualTo(200);
      Http.Res created = http.post("_simulator/containers").json("{\"priority\":1}").send();
      String uuid = created.str("uuid");
      Http.Res lock = http.lock(uuid, "SECRET");
      assertThat(lock.status()).isEqualTo(200);
      assertThat(lock.str("locked_by_uuid")).isEqualTo(me.str("uuid"));
      assertThat(http.get("_simulator/check").send().json().get("safe").getAsBoolean()).isTrue();
      assertThat(p.isAlive()).isTrue();
      assertThat(out.ready()).as("nothing else on stdout").isFalse();
    } finally {
      p.destroy();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void jarWithEventsAnnouncesAWebsocketUrlThatServesTheStream() throws Exception {
    Process p = start("--admin-token", "SECRET", "--events", "--events-keepalive", "200ms");
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).matches("listening on http://127\\.0\\.0\\.1:[0-9]+");
      Http http =
          new Http(
              line.substring("listening on ".length()), java.net.http.HttpClient.newHttpClient());
      String ws = http.get("discovery/v1/apis/arvados/v1/rest").send().str("websocketUrl");
      assertThat(ws).matches("ws://127\\.0\\.0\\.1:[0-9]+/websocket");
      try (WsClient c = new WsClient(ws, "SECRET")) {
        assertThat(c.opened.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(c.openStatus).as(String.valueOf(c.endReason)).isEqualTo(101);
        c.subscribe("{\"method\":\"subscribe\"}");
        assertThat(c.next(Duration.ofSeconds(3))).as("--events-keepalive 200ms").isEqualTo("{}");
      }
      assertThat(out.ready()).as("still the one line on stdout").isFalse();
    } finally {
      p.destroy();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * The median time of sequential requests on one connection to a jar started with {@code
   * jvmOptions}: about 40 ms each when the server writes with Nagle's algorithm against the
   * client's delayed ACKs, a few milliseconds without.
   */
  private static long medianRequestMillis(List<String> jvmOptions) throws Exception {
    Process p = startWith(jvmOptions, "--admin-token", "SECRET");
    try {
      String line =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      Http http =
          new Http(
              line.substring("listening on ".length()), java.net.http.HttpClient.newHttpClient());
      List<Long> millis = new ArrayList<>();
      for (int i = 0; i < 25; i++) {
        long t0 = System.nanoTime();
        assertThat(
                http.get("arvados/v1/api_client_authorizations/current")
                    .token("SECRET")
                    .send()
                    .status())
            .isEqualTo(200);
        millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      }
      java.util.Collections.sort(millis);
      return millis.get(millis.size() / 2);
    } finally {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void jarSetsNodelayItself_unlessTheCommandLineGivesIt() throws Exception {
    assertThat(medianRequestMillis(List.of()))
        .as("median ms per request, the jar's own sun.net.httpserver.nodelay=true")
        .isLessThan(25);
    assertThat(medianRequestMillis(List.of("-Dsun.net.httpserver.nodelay=false")))
        .as("median ms per request with -Dsun.net.httpserver.nodelay=false: the user's choice kept")
        .isGreaterThanOrEqualTo(30);
  }

  @Test
  void jarHttpsModeWritesCertificateAndPrintsHttpsUrl() throws Exception {
    File cert = File.createTempFile("simulator", ".pem");
    cert.deleteOnExit();
    Process p = start("--https", "--cert-out", cert.getPath(), "--admin-token", "SECRET");
    try {
      String line =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      assertThat(line).matches("listening on https://127\\.0\\.0\\.1:[0-9]+");
      assertThat(Files.readString(cert.toPath())).startsWith("-----BEGIN CERTIFICATE-----");
    } finally {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void jarProxyModeFaultsRequestsToAnotherServer() throws Exception {
    try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken("SECRET").build().start()) {
      Process p =
          start(
              "--proxy",
              sim.baseUrl(),
              "--fault",
              "{\"kind\":\"TOO_MANY_REQUESTS\",\"endpoint\":\"lock\"}");
      try {
        String line =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        assertThat(line).matches("listening on http://127\\.0\\.0\\.1:[0-9]+");
        Http http =
            new Http(
                line.substring("listening on ".length()), java.net.http.HttpClient.newHttpClient());
        String uuid = sim.createContainer(ContainerSpec.builder().priority(1).build());
        Http.Res first = http.lock(uuid, "SECRET");
        assertThat(first.status()).isEqualTo(429);
        assertThat(first.header("Retry-After")).isEqualTo("1");
        assertThat(http.lock(uuid, "SECRET").status()).isEqualTo(200);
        assertThat(sim.container(uuid).state()).isEqualTo("Locked");
      } finally {
        p.destroy();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  @Test
  void jarPrintsHelpAndVersion_fromItsShadedCommandLine() throws Exception {
    for (String option : List.of("--help", "--version")) {
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-jar",
                  jar().toString(),
                  option)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(err).isZero();
      assertThat(err).isEmpty();
      assertThat(out)
          .startsWith(
              option.equals("--help")
                  ? "Usage: arvados-simulator.jar"
                  : "arvados-simulator (Crunch Guard testkit) ");
    }
  }

  @Test
  void jarRejectsBadFlagsWithExitCodeTwo() throws Exception {
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            jar().toString(),
            "--nope");
    Process p = new ProcessBuilder(cmd).start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(err).contains("Unknown option: '--nope'", "arvados-simulator.jar --help");
    assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
  }
}

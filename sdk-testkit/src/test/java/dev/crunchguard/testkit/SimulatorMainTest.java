package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimulatorMainTest {
  private static int run(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
    return SimulatorMain.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void helpPrintsEveryOptionOnStdoutAndExitsZero() {
    for (String help : new String[] {"--help", "-h"}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      assertThat(run(out, err, help)).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8))
          .startsWith("Usage: arvados-simulator.jar")
          .contains("--admin-token", "--proxy", "--fault", "--race-window-ms", "Exit status:")
          .contains(
              "--events",
              "--events-port",
              "--events-keepalive",
              "--events-queue",
              "--events-replay-window");
      assertThat(err.size()).isZero();
    }
  }

  @Test
  void versionIsTheBuildsOnStdoutAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(run(out, err, "--version")).isZero();
    assertThat(SimulatorMain.Version.VERSION).matches("[0-9]+\\.[0-9]+\\.[0-9]+.*");
    assertThat(out.toString(StandardCharsets.UTF_8))
        .startsWith("arvados-simulator (Crunch Guard testkit) " + SimulatorMain.Version.VERSION);
    assertThat(err.size()).isZero();
  }

  @Test
  void unknownOptionIsAUsageErrorOnStderrAndExitsTwo() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(run(out, err, "--frobnicate")).isEqualTo(2);
    assertThat(out.size()).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("error: Unknown option: '--frobnicate'")
        .contains("Try 'arvados-simulator.jar --help' for more information.");
  }

  @Test
  void aMisspeltOptionNeverEchoesTheValueAfterIt_whichMayBeAToken() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(run(out, err, "--admin-tokn", "sekrit-y", "--user-tokn=sekrit-z")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("Unknown options: '--admin-tokn', '--user-tokn'")
        .doesNotContain("sekrit");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"sekrit-w"}))
        .hasMessageContaining("options only")
        .hasMessageNotContaining("sekrit");
  }

  @Test
  void missingOrBadValuesAreUsageErrorsThatNeverEchoTheToken() {
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--port"}))
        .hasMessageContaining("Missing required parameter for option '--port'");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--port", "x"}))
        .hasMessageContaining("'x' is not an int");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--port", "70000"}))
        .hasMessageContaining("--port");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--cluster-id", "TOOLONG"}))
        .hasMessageContaining("cluster id");
    assertThatThrownBy(
            () -> SimulatorMain.parse(new String[] {"--admin-token", "has space-secret"}))
        .hasMessageNotContaining("space-secret");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--cert-out", "/tmp/x"}))
        .hasMessageContaining("--https");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--disable-api", "containers.frob"}))
        .hasMessageContaining("unknown action");
  }

  @Test
  void acceptsEveryDocumentedOptionInBothForms() throws Exception {
    SimulatorMain.Options o =
        SimulatorMain.parse(
            new String[] {
              "--port=0",
              "--bind",
              "127.0.0.1",
              "--admin-token",
              "a1",
              "--admin-token=a2",
              "--user-token",
              "u1",
              "--system-root-token",
              "root",
              "--cluster-id",
              "xyzzy",
              "--max-dispatch-attempts",
              "3",
              "--control",
              "--race-window-ms",
              "5",
              "--disable-api",
              "containers.lock",
              "--threads",
              "4"
            });
    try (ArvadosSimulator sim = o.builder.build().start()) {
      assertThat(sim.clusterId()).isEqualTo("xyzzy");
      assertThat(sim.maxDispatchAttempts()).isEqualTo(3);
      assertThat(sim.tokenUuid("root")).isEqualTo("xyzzy-gj3su-000000000000000");
      assertThat(sim.tokenUuid("a2")).startsWith("xyzzy-gj3su-");
      assertThat(new Http(sim).get("_simulator/counts").send().status()).isEqualTo(200);
      Http.Res lock = new Http(sim).lock(sim.createContainer(), "a1");
      assertThat(lock.status()).isEqualTo(404);
      assertThat(lock.errors().get(0)).startsWith("Disabled");
    }
  }

  @Test
  void withoutEvents_theDiscoveryDocumentAnnouncesNoStream() throws Exception {
    SimulatorMain.Options o = SimulatorMain.parse(new String[] {"--admin-token", "a1"});
    try (ArvadosSimulator sim = o.builder.build().start()) {
      assertThat(discovery(sim).get("websocketUrl").getAsString()).isEmpty();
    }
  }

  @Test
  void eventsServesTheStreamOnTheGivenPort_announcedByTheDiscoveryDocument() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    SimulatorMain.Options o =
        SimulatorMain.parse(
            new String[] {"--admin-token", "a1", "--events", "--events-port", "" + port});
    try (ArvadosSimulator sim = o.builder.build().start()) {
      assertThat(sim.events().port()).isEqualTo(port);
      assertThat(discovery(sim).get("websocketUrl").getAsString())
          .isEqualTo("ws://127.0.0.1:" + port + "/websocket")
          .isEqualTo(sim.events().websocketUrl());
      try (WsClient c = WsClient.open(sim, "a1")) {
        c.subscribe("{\"method\":\"subscribe\"}");
        String uuid = sim.createContainer();
        assertThat(c.nextEvent().get("object_uuid").getAsString()).isEqualTo(uuid);
      }
    }
  }

  @Test
  void eventsKeepaliveSetsTheKeepalivePeriod_inTheDurationSyntax() throws Exception {
    SimulatorMain.Options o =
        SimulatorMain.parse(
            new String[] {"--admin-token", "a1", "--events", "--events-keepalive=0.2s"});
    try (ArvadosSimulator sim = o.builder.build().start();
        WsClient c = WsClient.open(sim, "a1")) {
      // the default period is 60 s: two keepalives within two seconds are the option's
      assertThat(c.next(Duration.ofSeconds(2))).isEqualTo("{}");
      assertThat(c.next(Duration.ofSeconds(2))).isEqualTo("{}");
    }
  }

  @Test
  void eventsQueueSetsHowManyEventsAStalledClientHoldsBeforeItIsClosed() throws Exception {
    SimulatorMain.Options o =
        SimulatorMain.parse(
            new String[] {"--admin-token", "a1", "--events", "--events-queue", "2"});
    try (ArvadosSimulator sim = o.builder.build().start();
        WsClient c = WsClient.open(sim, "a1")) {
      c.subscribe("{\"method\":\"subscribe\"}");
      assertThat(sim.events().stallClients()).isEqualTo(1);
      sim.createContainer();
      sim.createContainer();
      assertThat(c.awaitEnd(Duration.ofMillis(300))).as("two events fit").isFalse();
      sim.createContainer();
      assertThat(c.awaitEnd(Duration.ofSeconds(5))).as("the third overflows").isTrue();
      assertThat(sim.events().queueFullDisconnects()).isEqualTo(1);
    }
  }

  @Test
  void eventsReplayWindowBoundsWhatALastLogIdSubscriptionReplays() throws Exception {
    SimulatorMain.Options o =
        SimulatorMain.parse(
            new String[] {"--admin-token", "a1", "--events", "--events-replay-window", "300ms"});
    try (ArvadosSimulator sim = o.builder.build().start()) {
      sim.createContainer();
      long from = sim.events().lastEventId(); // last_log_id 0 means "no replay"
      sim.createContainer(); // older than the window at the subscription
      Thread.sleep(600);
      String recent = sim.createContainer();
      try (WsClient c = WsClient.open(sim, "a1")) {
        c.subscribe("{\"method\":\"subscribe\",\"last_log_id\":" + from + "}");
        List<String> replayed = c.drain(Duration.ofMillis(300));
        assertThat(replayed).hasSize(1);
        assertThat(replayed.get(0)).contains(recent);
      }
    }
  }

  @Test
  void eventSettingsNeedEvents_andBadValuesAreUsageErrors() {
    for (String[] args :
        List.of(
            new String[] {"--events-port", "1234"},
            new String[] {"--events-keepalive", "5s"},
            new String[] {"--events-queue", "8"},
            new String[] {"--events-replay-window", "2m"})) {
      assertThatThrownBy(() -> SimulatorMain.parse(args))
          .isInstanceOf(SimulatorMain.UsageException.class)
          .hasMessageContaining(args[0] + " needs --events");
    }
    assertThatThrownBy(
            () -> SimulatorMain.parse(new String[] {"--events", "--events-keepalive", "soon"}))
        .hasMessageContaining("not a duration");
    assertThatThrownBy(
            () -> SimulatorMain.parse(new String[] {"--events", "--events-replay-window", "0"}))
        .hasMessageContaining("must be positive");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--events", "--events-queue", "0"}))
        .hasMessageContaining("--events-queue");
    assertThatThrownBy(
            () -> SimulatorMain.parse(new String[] {"--events", "--events-port", "70000"}))
        .hasMessageContaining("--events-port");
    assertThatThrownBy(
            () -> SimulatorMain.parse(new String[] {"--proxy", "http://127.0.0.1:1/", "--events"}))
        .hasMessageContaining("--events")
        .hasMessageContaining("not a --proxy option");
  }

  @Test
  void durationsAreWrittenAsTheOtherCommandLinesWriteThem() {
    SimulatorMain.DurationConverter c = new SimulatorMain.DurationConverter();
    assertThat(c.convert("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(c.convert("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.convert("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(c.convert("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.convert("40")).isEqualTo(Duration.ofMillis(40));
  }

  private static com.google.gson.JsonObject discovery(ArvadosSimulator sim) {
    return new Http(sim).get("discovery/v1/apis/arvados/v1/rest").send().json();
  }

  @Test
  void proxyModeBuildsAFaultProxyWithItsFaults() throws Exception {
    try (ArvadosSimulator sim = ArvadosSimulator.builder().adminToken("a1").build().start()) {
      SimulatorMain.Options o =
          SimulatorMain.parse(
              new String[] {
                "--proxy",
                sim.baseUrl(),
                "--port=0",
                "--control",
                "--threads",
                "2",
                "--fault",
                "{\"kind\":\"BAD_GATEWAY\",\"endpoint\":\"lock\",\"times\":1}"
              });
      try (FaultProxy proxy = o.proxy().start()) {
        Http h = new Http(proxy.baseUrl(), java.net.http.HttpClient.newHttpClient());
        String u = sim.createContainer(ContainerSpec.builder().priority(1).build());
        assertThat(h.lock(u, "a1").status()).isEqualTo(502);
        assertThat(h.lock(u, "a1").status()).isEqualTo(200);
        assertThat(h.get("_proxy/counts").send().status()).isEqualTo(200);
      }
    }
  }

  @Test
  void proxyModeRefusesSimulatorOptionsAndBadFaults() {
    assertThatThrownBy(
            () ->
                SimulatorMain.parse(
                    new String[] {"--proxy", "http://127.0.0.1:1/", "--admin-token", "sekrit-x"}))
        .hasMessageContaining("--admin-token")
        .hasMessageContaining("not a --proxy option")
        .hasMessageNotContaining("sekrit-x");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--proxy", "ftp://x/"}))
        .hasMessageContaining("--proxy");
    assertThatThrownBy(
            () ->
                SimulatorMain.parse(
                    new String[] {"--proxy", "http://h/", "--fault", "{\"kind\":\"NOPE\"}"}))
        .hasMessageContaining("--fault");
    assertThatThrownBy(() -> SimulatorMain.parse(new String[] {"--fault", "{\"kind\":\"DELAY\"}"}))
        .hasMessageContaining("need --proxy");
  }
}

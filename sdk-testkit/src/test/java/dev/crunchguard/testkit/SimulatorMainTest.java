package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
          .contains("--admin-token", "--proxy", "--fault", "--race-window-ms", "Exit status:");
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

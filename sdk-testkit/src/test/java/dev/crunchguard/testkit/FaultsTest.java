package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultsTest {
  ArvadosSimulator sim;
  Fixtures fx;
  Http http;

  @BeforeEach
  void start() {
    sim = Fixtures.builder().enableControlEndpoints(true).build().start();
    fx = new Fixtures(sim);
    http = fx.http;
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void lostResponseAppliesTheLockThenDropsTheConnection() {
    String u = fx.queued();
    sim.faults().add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).container(u).build());
    assertThatThrownBy(() -> http.post(c(u) + "/lock").token(SYSTEM_ROOT).sendOrThrow())
        .isInstanceOf(IOException.class);
    assertThat(sim.container(u).state()).isEqualTo("Locked");
    assertThat(sim.history(u))
        .last()
        .satisfies(
            e -> {
              assertThat(e.action()).isEqualTo(WriteAction.LOCK);
              assertThat(e.accepted()).isTrue();
            });
    // Used up: the retry sees the real outcome of the lost attempt.
    Http.Res retry = http.lock(u, SYSTEM_ROOT);
    assertThat(retry.status()).isEqualTo(422);
    assertThat(retry.errors().get(0)).contains("cannot lock when Locked");
    assertThat(sim.requestCount(Endpoint.LOCK, u)).isEqualTo(2);
  }

  @Test
  void lostResponseOnUpdateAppliesTheWrite() {
    String u = fx.running();
    sim.faults().add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.UPDATE).build());
    assertThatThrownBy(
            () ->
                http.put(c(u))
                    .token(SYSTEM_ROOT)
                    .json("{\"container\":{\"progress\":0.5}}")
                    .sendOrThrow())
        .isInstanceOf(IOException.class);
    assertThat(sim.container(u).progress()).isEqualTo(0.5);
  }

  @Test
  void connectionResetDropsTheConnectionWithoutApplying() {
    String u = fx.running();
    sim.faults()
        .add(FaultRule.of(FaultKind.CONNECTION_RESET).on(Endpoint.UPDATE).container(u).build());
    assertThatThrownBy(
            () ->
                http.put(c(u))
                    .token(SYSTEM_ROOT)
                    .json("{\"container\":{\"progress\":0.5}}")
                    .sendOrThrow())
        .isInstanceOf(IOException.class);
    assertThat(sim.container(u).progress()).isNull();
    assertThat(sim.history(u).stream().filter(e -> e.action() == WriteAction.UPDATE))
        .hasSize(1); // only "Running"
  }

  @Test
  void badGatewayAndServiceUnavailableAnswerBeforeApplyingWithControllerEnvelope() {
    String u = fx.queued();
    sim.faults().add(FaultRule.of(FaultKind.BAD_GATEWAY).on(Endpoint.LOCK).times(2).build());
    sim.faults().add(FaultRule.of(FaultKind.SERVICE_UNAVAILABLE).on(Endpoint.LOCK).build());
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Http.Res r = http.lock(u, SYSTEM_ROOT);
      statuses.add(r.status());
      if (r.status() >= 500) {
        assertThat(r.json().keySet()).containsExactly("errors");
        assertThat(fx.state(u)).isEqualTo("Queued");
      }
    }
    assertThat(statuses).containsExactly(502, 502, 503, 200);
    assertThat(sim.faults().rules()).allMatch(r -> r.remaining() == 0);
  }

  @Test
  void tooManyRequestsCarriesRetryAfter() {
    String u = fx.queued();
    sim.faults()
        .add(
            FaultRule.of(FaultKind.TOO_MANY_REQUESTS)
                .on(Endpoint.GET)
                .retryAfterSeconds(7)
                .build());
    Http.Res r = http.show(u, SYSTEM_ROOT);
    assertThat(r.status()).isEqualTo(429);
    assertThat(r.header("Retry-After")).isEqualTo("7");
    assertThat(http.show(u, SYSTEM_ROOT).status()).isEqualTo(200);
  }

  @Test
  void serviceUnavailableSendsRetryAfterOnlyWhenAsked() {
    String u = fx.queued();
    sim.faults().add(FaultRule.of(FaultKind.SERVICE_UNAVAILABLE).on(Endpoint.GET).build());
    sim.faults()
        .add(
            FaultRule.of(FaultKind.SERVICE_UNAVAILABLE)
                .on(Endpoint.GET)
                .retryAfterSeconds(3)
                .build());
    Http.Res plain = http.show(u, SYSTEM_ROOT);
    assertThat(plain.status()).isEqualTo(503);
    assertThat(plain.header("Retry-After")).isNull();
    Http.Res withHeader = http.show(u, SYSTEM_ROOT);
    assertThat(withHeader.status()).isEqualTo(503);
    assertThat(withHeader.header("Retry-After")).isEqualTo("3");
  }

  @Test
  void delayHoldsTheRequestThenHandlesIt() {
    String u = fx.queued();
    sim.faults()
        .add(FaultRule.of(FaultKind.DELAY).on(Endpoint.LOCK).delay(Duration.ofMillis(300)).build());
    long t0 = System.nanoTime();
    assertThat(http.lock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(290);
  }

  @Test
  void faultsAreScopedByEndpointAndContainer() {
    String a = fx.queued();
    String b = fx.queued();
    sim.faults()
        .add(
            FaultRule.of(FaultKind.SERVICE_UNAVAILABLE)
                .on(Endpoint.LOCK)
                .container(a)
                .always()
                .build());
    assertThat(http.show(a, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.lock(b, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.lock(a, SYSTEM_ROOT).status()).isEqualTo(503);
    assertThat(http.lock(a, SYSTEM_ROOT).status()).isEqualTo(503);
    sim.faults().clear();
    assertThat(http.lock(a, SYSTEM_ROOT).status()).isEqualTo(200);
  }

  private List<Integer> randomRun(long seed) {
    try (ArvadosSimulator s = Fixtures.builder().build().start()) {
      Fixtures f = new Fixtures(s);
      String u = f.queued();
      s.faults()
          .random(
              RandomFaults.seed(seed)
                  .on(Endpoint.GET)
                  .rate(FaultKind.SERVICE_UNAVAILABLE, 0.3)
                  .rate(FaultKind.TOO_MANY_REQUESTS, 0.2)
                  .build());
      List<Integer> out = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        out.add(f.http.show(u, SYSTEM_ROOT).status());
      }
      assertThat(f.http.lock(u, SYSTEM_ROOT).status())
          .as("other endpoints unaffected")
          .isEqualTo(200);
      return out;
    }
  }

  @Test
  void randomFaultsAreDeterministicForASeed() {
    List<Integer> a = randomRun(42);
    assertThat(randomRun(42)).isEqualTo(a);
    assertThat(a).contains(200, 503, 429);
    assertThat(randomRun(43)).isNotEqualTo(a);
  }

  @Test
  void controlEndpointInstallsAndClearsFaults() {
    String u = fx.queued();
    Http.Res add =
        http.post("_simulator/faults")
            .json(
                "{\"kind\":\"BAD_GATEWAY\",\"endpoint\":\"lock\",\"container\":\""
                    + u
                    + "\",\"times\":1}")
            .send();
    assertThat(add.status()).isEqualTo(200);
    assertThat(http.get("_simulator/faults").send().json().getAsJsonArray("rules")).hasSize(1);
    assertThat(http.lock(u, SYSTEM_ROOT).status()).isEqualTo(502);
    http.post("_simulator/faults")
        .json(
            "{\"random\":{\"seed\":1,\"rates\":{\"SERVICE_UNAVAILABLE\":1.0},\"endpoints\":[\"get\"]}}")
        .send();
    assertThat(http.show(u, SYSTEM_ROOT).status()).isEqualTo(503);
    assertThat(http.delete("_simulator/faults").send().status()).isEqualTo(200);
    assertThat(http.show(u, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.post("_simulator/faults").json("{\"kind\":\"NOPE\"}").send().status())
        .isEqualTo(422);
  }
}

package dev.crunchguard.testkit;

import static dev.crunchguard.testkit.Fixtures.SECOND_DISPATCHER;
import static dev.crunchguard.testkit.Fixtures.SYSTEM_ROOT;
import static dev.crunchguard.testkit.Http.c;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@link FaultProxy} in front of the simulator: forwarding, every fault kind, counts, write log.
 */
class FaultProxyTest {
  ArvadosSimulator sim;
  Fixtures fx;
  FaultProxy proxy;
  Http http;

  @BeforeEach
  void start() {
    sim = Fixtures.builder().build().start();
    fx = new Fixtures(sim);
    proxy = FaultProxy.builder(sim.baseUrl()).enableControlEndpoints(true).build().start();
    http =
        new Http(
            proxy.baseUrl(), HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
  }

  @AfterEach
  void stop() {
    proxy.close();
    sim.close();
  }

  private String authUuidOf(String uuid) {
    return sim.container(uuid).authUuid();
  }

  @Test
  void forwardsRequestsAndAnswersUnchanged() {
    String u = fx.queued();
    Http.Res direct = fx.http.show(u, SYSTEM_ROOT);
    Http.Res proxied = http.show(u, SYSTEM_ROOT);
    assertThat(proxied.status()).isEqualTo(200);
    assertThat(proxied.json()).isEqualTo(direct.json());
    Http.Res refused = http.show(u, "no-such-token-0123456789");
    assertThat(refused.status()).isEqualTo(401);
    assertThat(refused.errors().get(0)).startsWith("Not logged in");
    assertThat(proxied.header("X-Request-Id")).startsWith("req-");
  }

  @Test
  void countsPerEndpointAndContainerAndLogsWritesWithAuthUuid() {
    String u = fx.queued();
    String other = fx.queued();
    assertThat(http.lock(u, SYSTEM_ROOT).status()).isEqualTo(200);
    String epoch = authUuidOf(u);
    assertThat(
            http.update(u, SYSTEM_ROOT, "{\"state\":\"Running\",\"auth_uuid\":\"" + epoch + "\"}")
                .status())
        .isEqualTo(200);
    assertThat(http.update(u, SYSTEM_ROOT, "{\"progress\":0.5}").status()).isEqualTo(200);
    assertThat(http.show(other, SYSTEM_ROOT).status()).isEqualTo(200);

    assertThat(proxy.requestCount(Endpoint.LOCK, u)).isEqualTo(1);
    assertThat(proxy.requestCount(Endpoint.UPDATE, u)).isEqualTo(2);
    assertThat(proxy.requestCount(Endpoint.GET, other)).isEqualTo(1);
    assertThat(proxy.requestCount(Endpoint.GET, u)).isZero();
    assertThat(proxy.requestCounts(u))
        .containsOnly(
            java.util.Map.entry("containers.lock", 1L),
            java.util.Map.entry("containers.update", 2L));
    assertThat(proxy.requestCounts()).containsEntry("containers.get", 1L);
    assertThat(
            http.get("arvados/v1/api_client_authorizations/current")
                .token(SYSTEM_ROOT)
                .send()
                .status())
        .isEqualTo(200);
    assertThat(http.get("arvados/v1/no-such-thing").token(SYSTEM_ROOT).send().status())
        .isEqualTo(404);
    assertThat(proxy.totalRequestCount()).isEqualTo(6);

    List<ProxiedWrite> w = proxy.writes(u);
    assertThat(w).extracting(ProxiedWrite::method).containsExactly("POST", "PUT", "PUT");
    assertThat(w)
        .extracting(ProxiedWrite::endpoint)
        .containsExactly(Endpoint.LOCK, Endpoint.UPDATE, Endpoint.UPDATE);
    assertThat(w).extracting(ProxiedWrite::carriedAuthUuid).containsExactly(false, true, false);
    assertThat(w).extracting(ProxiedWrite::status).containsExactly(200, 200, 200);
    assertThat(w).extracting(ProxiedWrite::fault).containsOnlyNulls();
    assertThat(w.get(0).path()).isEqualTo("/" + c(u) + "/lock");
    assertThat(proxy.writes())
        .hasSize(3)
        .extracting(ProxiedWrite::sequence)
        .containsExactly(1L, 2L, 3L);
  }

  @Test
  void recognisesAuthUuidInFormAndStringEncodedAttributes() {
    assertThat(
            FaultProxy.carriesAuthUuid(
                "container=%7B%22auth_uuid%22%3A%22x%22%7D".getBytes(StandardCharsets.UTF_8),
                "application/x-www-form-urlencoded",
                null))
        .isTrue();
    assertThat(
            FaultProxy.carriesAuthUuid(
                "{\"container\":\"{\\\"auth_uuid\\\":\\\"x\\\"}\"}"
                    .getBytes(StandardCharsets.UTF_8),
                "application/json",
                null))
        .isTrue();
    assertThat(
            FaultProxy.carriesAuthUuid(
                new byte[0], null, "container=%7B%22auth_uuid%22%3A%22x%22%7D"))
        .isTrue();
    assertThat(
            FaultProxy.carriesAuthUuid(
                "{\"container\":{\"state\":\"Running\"}}".getBytes(StandardCharsets.UTF_8),
                "application/json",
                null))
        .isFalse();
    assertThat(
            FaultProxy.carriesAuthUuid(
                "{\"auth_uuid\":\"x\"}".getBytes(StandardCharsets.UTF_8), "application/json", null))
        .isTrue();
    assertThat(
            FaultProxy.carriesAuthUuid(
                "not json".getBytes(StandardCharsets.UTF_8), "application/json", null))
        .isFalse();
  }

  @Test
  void lostResponseLetsTheUpstreamApplyThenDropsTheAnswer() {
    String u = fx.queued();
    proxy
        .faults()
        .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).container(u).build());
    assertThatThrownBy(() -> http.post(c(u) + "/lock").token(SYSTEM_ROOT).sendOrThrow())
        .isInstanceOf(IOException.class);
    assertThat(sim.container(u).state()).isEqualTo("Locked");
    assertThat(proxy.writes(u))
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.fault()).isEqualTo(FaultKind.LOST_RESPONSE);
              assertThat(w.status()).isEqualTo(200);
              assertThat(w.reachedUpstream()).isTrue();
            });
    Http.Res retry = http.lock(u, SYSTEM_ROOT);
    assertThat(retry.status()).isEqualTo(422);
    assertThat(retry.errors().get(0)).contains("cannot lock when Locked");
    assertThat(proxy.requestCount(Endpoint.LOCK, u)).isEqualTo(2);
    assertThat(sim.requestCount(Endpoint.LOCK, u)).isEqualTo(2);
  }

  @Test
  void connectionResetForwardsNothing() {
    String u = fx.queued();
    proxy.faults().add(FaultRule.of(FaultKind.CONNECTION_RESET).on(Endpoint.LOCK).build());
    assertThatThrownBy(() -> http.post(c(u) + "/lock").token(SYSTEM_ROOT).sendOrThrow())
        .isInstanceOf(IOException.class);
    assertThat(sim.container(u).state()).isEqualTo("Queued");
    assertThat(sim.requestCount(Endpoint.LOCK, u)).isZero();
    assertThat(proxy.writes(u))
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.fault()).isEqualTo(FaultKind.CONNECTION_RESET);
              assertThat(w.status()).isZero();
              assertThat(w.reachedUpstream()).isFalse();
            });
  }

  @Test
  void gatewayAndThrottlingFaultsAnswerWithoutForwarding() {
    String u = fx.queued();
    proxy
        .faults()
        .add(FaultRule.of(FaultKind.BAD_GATEWAY).on(Endpoint.LOCK).build())
        .add(
            FaultRule.of(FaultKind.SERVICE_UNAVAILABLE)
                .on(Endpoint.LOCK)
                .retryAfterSeconds(4)
                .build())
        .add(
            FaultRule.of(FaultKind.TOO_MANY_REQUESTS)
                .on(Endpoint.LOCK)
                .retryAfterSeconds(2)
                .build());
    Http.Res r502 = http.lock(u, SYSTEM_ROOT);
    Http.Res r503 = http.lock(u, SYSTEM_ROOT);
    Http.Res r429 = http.lock(u, SYSTEM_ROOT);
    assertThat(r502.status()).isEqualTo(502);
    assertThat(r502.errors().get(0)).contains("connection refused");
    assertThat(r503.status()).isEqualTo(503);
    assertThat(r503.header("Retry-After")).isEqualTo("4");
    assertThat(r429.status()).isEqualTo(429);
    assertThat(r429.header("Retry-After")).isEqualTo("2");
    assertThat(sim.container(u).state()).isEqualTo("Queued");
    assertThat(sim.requestCount(Endpoint.LOCK, u)).isZero();
    assertThat(http.lock(u, SYSTEM_ROOT).status()).as("rules used up").isEqualTo(200);
    assertThat(proxy.writes(u))
        .extracting(ProxiedWrite::status)
        .containsExactly(502, 503, 429, 200);
    assertThat(proxy.writes(u))
        .extracting(ProxiedWrite::fault)
        .containsExactly(
            FaultKind.BAD_GATEWAY,
            FaultKind.SERVICE_UNAVAILABLE,
            FaultKind.TOO_MANY_REQUESTS,
            null);
  }

  @Test
  void delaySleepsThenForwards() {
    String u = fx.queued();
    proxy
        .faults()
        .add(FaultRule.of(FaultKind.DELAY).on(Endpoint.GET).delay(Duration.ofMillis(300)).build());
    long t0 = System.nanoTime();
    assertThat(http.show(u, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(300));
    long t1 = System.nanoTime();
    assertThat(http.show(u, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - t1)).isLessThan(Duration.ofMillis(300));
  }

  @Test
  void rulesAreScopedToTheirContainerAndCount() {
    String a = fx.queued();
    String b = fx.queued();
    proxy
        .faults()
        .add(FaultRule.of(FaultKind.BAD_GATEWAY).on(Endpoint.GET).container(a).times(2).build());
    assertThat(http.show(b, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(http.show(a, SYSTEM_ROOT).status()).isEqualTo(502);
    assertThat(http.show(a, SYSTEM_ROOT).status()).isEqualTo(502);
    assertThat(http.show(a, SYSTEM_ROOT).status()).isEqualTo(200);
    assertThat(proxy.faults().rules())
        .singleElement()
        .satisfies(r -> assertThat(r.remaining()).isZero());
  }

  private List<Integer> statusesWithSeed(long seed) {
    proxy.reset();
    proxy
        .faults()
        .random(
            RandomFaults.seed(seed)
                .rate(FaultKind.BAD_GATEWAY, 0.3)
                .rate(FaultKind.TOO_MANY_REQUESTS, 0.2)
                .on(Endpoint.GET)
                .build());
    String u = fx.queued();
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      out.add(http.show(u, SYSTEM_ROOT).status());
    }
    return out;
  }

  @Test
  void seededRandomFaultsRepeatForTheSameSeed() {
    List<Integer> first = statusesWithSeed(42);
    List<Integer> again = statusesWithSeed(42);
    List<Integer> other = statusesWithSeed(43);
    assertThat(again).isEqualTo(first);
    assertThat(first).contains(200, 502, 429);
    assertThat(other).isNotEqualTo(first);
  }

  @Test
  void createIsLoggedWithTheNewContainersUuid() {
    Http.Res created =
        http.post("arvados/v1/containers")
            .token(SYSTEM_ROOT)
            .json(
                "{\"container\":{\"command\":[\"true\"],\"container_image\":\"img\",\"output_path\":\"/out\",\"priority\":1}}")
            .send();
    assertThat(created.status()).isEqualTo(200);
    assertThat(proxy.writes())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.endpoint()).isEqualTo(Endpoint.CREATE);
              assertThat(w.containerUuid()).isEqualTo(created.str("uuid"));
            });
  }

  @Test
  void unreachableUpstreamIsA502AndLoggedWithoutStatus() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (FaultProxy dead = FaultProxy.builder("http://127.0.0.1:" + port + "/").build().start()) {
      Http h = new Http(dead.baseUrl(), HttpClient.newHttpClient());
      Http.Res r = h.lock("zzzzz-dz642-000000000000000", SYSTEM_ROOT);
      assertThat(r.status()).isEqualTo(502);
      assertThat(r.body()).doesNotContain(SYSTEM_ROOT);
      assertThat(dead.writes())
          .singleElement()
          .satisfies(
              w -> {
                assertThat(w.status()).isZero();
                assertThat(w.reachedUpstream()).isFalse();
              });
    }
  }

  @Test
  void controlEndpointsInstallFaultsAndReportCountsAndWrites() {
    String u = fx.queued();
    assertThat(
            http.post("_proxy/faults")
                .json(
                    "{\"kind\":\"LOST_RESPONSE\",\"endpoint\":\"lock\",\"container\":\""
                        + u
                        + "\"}")
                .send()
                .status())
        .isEqualTo(200);
    assertThat(http.get("_proxy/faults").send().json().getAsJsonArray("rules")).hasSize(1);
    assertThatThrownBy(() -> http.post(c(u) + "/lock").token(SYSTEM_ROOT).sendOrThrow())
        .isInstanceOf(IOException.class);
    assertThat(
            http.get("_proxy/counts")
                .send()
                .json()
                .getAsJsonObject("containers")
                .getAsJsonObject(u)
                .get("containers.lock")
                .getAsLong())
        .isEqualTo(1);
    assertThat(
            http.get("_proxy/writes")
                .send()
                .json()
                .getAsJsonArray("writes")
                .get(0)
                .getAsJsonObject()
                .get("fault")
                .getAsString())
        .isEqualTo("LOST_RESPONSE");
    assertThat(http.post("_proxy/faults").json("{\"kind\":\"NOPE\"}").send().status())
        .isEqualTo(422);
    assertThat(http.delete("_proxy/faults").send().status()).isEqualTo(200);
    assertThat(proxy.faults().rules()).isEmpty();
    assertThat(http.delete("_proxy/counts").send().status()).isEqualTo(200);
    assertThat(proxy.writes()).isEmpty();
  }

  @Test
  void controlEndpointsAreOffByDefault() {
    try (FaultProxy plain = FaultProxy.builder(sim.baseUrl()).build().start()) {
      Http h = new Http(plain.baseUrl(), HttpClient.newHttpClient());
      assertThat(h.get("_proxy/faults").send().status())
          .as("forwarded to the simulator")
          .isEqualTo(404);
    }
  }

  @Test
  void neverLogsTokensEvenFromQueryStrings() {
    Logger logger = (Logger) LoggerFactory.getLogger(FaultProxy.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    Level before = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    logger.addAppender(appender);
    try {
      String u = fx.queued();
      proxy
          .faults()
          .add(FaultRule.of(FaultKind.LOST_RESPONSE).on(Endpoint.LOCK).build())
          .add(FaultRule.of(FaultKind.BAD_GATEWAY).on(Endpoint.GET).build());
      assertThatThrownBy(() -> http.post(c(u) + "/lock").token(SYSTEM_ROOT).sendOrThrow())
          .isInstanceOf(IOException.class);
      http.get(c(u)).query("api_token", SECOND_DISPATCHER).send();
      http.get(c(u)).query("api_token", SECOND_DISPATCHER).send();
      assertThat(appender.list).isNotEmpty();
      for (ILoggingEvent e : appender.list) {
        assertThat(e.getFormattedMessage()).doesNotContain(SYSTEM_ROOT, SECOND_DISPATCHER);
      }
      assertThat(proxy.writes().toString()).doesNotContain(SYSTEM_ROOT, SECOND_DISPATCHER);
      assertThat(proxy.toString()).doesNotContain(SYSTEM_ROOT, SECOND_DISPATCHER);
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(before);
    }
  }

  @Test
  void refusesABadUpstreamUrl() {
    assertThatThrownBy(() -> FaultProxy.builder("ftp://x/").build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FaultProxy.builder("http://h/?q=1").build())
        .isInstanceOf(IllegalArgumentException.class);
  }
}

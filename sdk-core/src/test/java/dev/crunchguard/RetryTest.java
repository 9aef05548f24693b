package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.AUTH_B;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import java.io.IOException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The retry matrix (sdk/go/arvados/client.go Do, src/docs/guide.md "Lost responses") with a fake
 * clock and sleeper: what is retried, how long it waits, when it stops.
 */
class RetryTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long S = TimeUnit.SECONDS.toNanos(1);

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static ResponseDefinitionBuilder status(int status) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(
            status == 502
                ? "{\"errors\":[\"dial tcp 127.0.0.1:8004: connect: connection refused\"]}"
                : Fixtures.envelope(
                    "#<ActiveRecord::Deadlocked: PG::TRDeadlockDetected: ERROR:  deadlock detected>"));
  }

  /** GET answers {@code first} once, then the record. */
  private static void getFailsOnceWith(ResponseDefinitionBuilder first) {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .inScenario("retry")
            .whenScenarioStateIs(STARTED)
            .willReturn(first)
            .willSetStateTo("ok"));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .inScenario("retry")
            .whenScenarioStateIs("ok")
            .willReturn(okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0))));
  }

  private List<String> requestIds() {
    return allRequests().stream()
        .map(r -> r.getHeader("X-Request-Id"))
        .collect(Collectors.toList());
  }

  @ParameterizedTest(name = "HTTP {0}")
  @ValueSource(ints = {500, 502, 503, 504, 429})
  void retryableStatus_isRetriedAfterAJitteredBackoff_withTheSameRequestId(int code) {
    getFailsOnceWith(status(code));

    Container c = containers().get(CONTAINER);

    assertThat(c.uuid()).isEqualTo(CONTAINER);
    assertThat(requestCount()).isEqualTo(2);
    assertThat(requestIds()).containsOnly(requestIds().get(0));
    assertThat(time.sleeps).hasSize(1);
    assertThat(time.sleeps.get(0)).isBetween(125 * MS, 250 * MS);
  }

  @ParameterizedTest(name = "HTTP {0}")
  @ValueSource(ints = {429, 503})
  void retryAfterSeconds_isHonoured(int code) {
    getFailsOnceWith(status(code).withHeader("Retry-After", "7"));

    containers().get(CONTAINER);

    assertThat(time.sleeps).containsExactly(7 * S);
  }

  @Test
  void retryAfterHttpDate_isHonoured() {
    String in20s =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(20));
    getFailsOnceWith(status(503).withHeader("Retry-After", in20s));

    containers().get(CONTAINER);

    assertThat(time.sleeps).hasSize(1);
    assertThat(time.sleeps.get(0)).isBetween(18 * S, 20 * S);
  }

  @Test
  void retryAfterInThePast_meansRetryNow() {
    getFailsOnceWith(status(429).withHeader("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"));
    containers().get(CONTAINER);
    assertThat(time.sleeps).containsExactly(0L);
  }

  @Test
  void unparsableRetryAfter_fallsBackToBackoff() {
    getFailsOnceWith(status(503).withHeader("Retry-After", "soon"));
    containers().get(CONTAINER);
    assertThat(time.sleeps.get(0)).isBetween(125 * MS, 250 * MS);
  }

  @Test
  void retryAfterOnAGatewayError_isNotWhatDecidesTheWait() {
    getFailsOnceWith(status(502).withHeader("Retry-After", "30"));
    containers().get(CONTAINER);
    assertThat(time.sleeps.get(0)).isBetween(125 * MS, 250 * MS);
  }

  @Test
  void retryAfterBeyondTheTimeBudget_stopsRetrying() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(status(503).withHeader("Retry-After", "3600")));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));

    assertThat(e.status()).isEqualTo(503);
    assertThat(requestCount()).isEqualTo(1);
    assertThat(time.sleeps).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = Fault.class,
      names = {"CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "RANDOM_DATA_THEN_CLOSE"})
  void brokenConnection_isRetried(Fault fault) {
    getFailsOnceWith(aResponse().withFault(fault));

    assertThat(containers().get(CONTAINER).uuid()).isEqualTo(CONTAINER);

    assertThat(requestCount()).isEqualTo(2);
    assertThat(requestIds()).containsOnly(requestIds().get(0));
    assertThat(time.sleeps).hasSize(1);
  }

  @Test
  void readTimeout_isRetried() {
    try (ArvadosClient quick = builder().readTimeout(Duration.ofMillis(500)).build()) {
      getFailsOnceWith(
          okJson(Fixtures.recordJson(CONTAINER, "Queued", null, null, 0)).withFixedDelay(2500));

      assertThat(quick.containers().get(CONTAINER).uuid()).isEqualTo(CONTAINER);
    }
    assertThat(requestCount()).isEqualTo(2);
    assertThat(requestIds()).containsOnly(requestIds().get(0));
  }

  @Test
  void backoff_growsExponentially_withJitter_andIsCappedAtMaxBackoff() {
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(8)
            .initialBackoff(Duration.ofMillis(100))
            .maxBackoff(Duration.ofSeconds(1))
            .maxElapsed(Duration.ofMinutes(5))
            .build();
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(status(503)));
    try (ArvadosClient c = builder().retryPolicy(policy).build()) {
      ArvadosServiceException e =
          expect(ArvadosServiceException.class, () -> c.containers().get(CONTAINER));
      assertThat(e.status()).isEqualTo(503);
    }

    assertThat(requestCount()).isEqualTo(8);
    long[] bounds = {100, 200, 400, 800, 1000, 1000, 1000};
    assertThat(time.sleeps).hasSize(bounds.length);
    for (int i = 0; i < bounds.length; i++) {
      assertThat(time.sleeps.get(i))
          .as("wait before attempt %d", i + 2)
          .isBetween(bounds[i] * MS / 2, bounds[i] * MS);
    }
    assertThat(requestIds()).containsOnly(requestIds().get(0));
  }

  @Test
  void defaultPolicy_makesSixAttempts_thenReportsTheLastAnswer() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(502)
                    .withHeader("Content-Type", "text/html")
                    .withBody(
                        "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.bodyExcerpt()).contains("502 Bad Gateway");
    assertThat(requestCount()).isEqualTo(6);
    assertThat(time.sleeps).hasSize(5);
    assertThat(time.totalSleptNanos()).isLessThanOrEqualTo(60 * S);
  }

  @Test
  void retries_stopWhenTheNextWaitWouldPassMaxElapsed() {
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(100)
            .initialBackoff(Duration.ofSeconds(2))
            .maxBackoff(Duration.ofSeconds(8))
            .maxElapsed(Duration.ofSeconds(20))
            .build();
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

    try (ArvadosClient c = builder().retryPolicy(policy).build()) {
      ArvadosTransportException e =
          expect(ArvadosTransportException.class, () -> c.containers().get(CONTAINER));
      assertThat(e.attempts()).isEqualTo(requestCount());
    }

    // Waits are >= 1, 2, 4, 4, ... s: at most 7 fit in 20 s; at least 2 always do (<= 2 + 4 s).
    assertThat(time.totalSleptNanos()).isLessThanOrEqualTo(20 * S);
    assertThat(requestCount()).isBetween(3, 8);
  }

  @Test
  void timeSpentInRequests_countsAgainstMaxElapsed() {
    // A clock that moves 15 s at every reading, as if each request were slow: the 60 s budget is
    // used up by request time alone, so retries stop although attempts remain.
    java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
    java.util.function.LongSupplier slow = () -> clock.addAndGet(15 * S);
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(status(503)));

    try (ArvadosClient c = builder().nanoClock(slow).build()) {
      assertThatThrownBy(() -> c.containers().get(CONTAINER))
          .isInstanceOf(ArvadosServiceException.class);
    }
    assertThat(requestCount()).isLessThan(6);
  }

  @Test
  void transportFailureOnEveryAttempt_isTransportException_withAttemptsAndRequestId() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

    ArvadosTransportException e =
        expect(ArvadosTransportException.class, () -> containers().get(CONTAINER));

    assertThat(e.attempts()).isEqualTo(6);
    assertThat(e.requestId()).matches(Fixtures.REQUEST_ID).isEqualTo(requestIds().get(0));
    assertThat(requestIds()).hasSize(6).containsOnly(e.requestId());
    assertThat(e.getCause()).isInstanceOf(IOException.class);
    assertThat(e.getMessage())
        .contains("get container " + CONTAINER)
        .contains(e.requestId())
        .contains("6 attempts");
  }

  @ParameterizedTest(name = "HTTP {0}")
  @ValueSource(ints = {400, 401, 403, 404, 422})
  void clientErrors_areNeverRetried(int code) {
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(status(code)));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));

    assertThat(e.status()).isEqualTo(code);
    assertThat(requestCount()).isEqualTo(1);
    assertThat(time.sleeps).isEmpty();
  }

  @Test
  void staleWriterRefusal_isNeverRetried() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(422)
                    .withHeader("Content-Type", "application/json")
                    .withBody(Fixtures.staleWriter("Running", AUTH_B, AUTH_A))));
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_B, DISPATCHER_TOKEN_UUID, 4))));

    assertThatThrownBy(() -> heldLock().markRunning()).isInstanceOf(LostOwnershipException.class);

    wm.verify(1, putRequestedFor(urlPathEqualTo(CONTAINER_PATH)));
    assertThat(time.sleeps).isEmpty();
  }

  @Test
  void noneRetryPolicy_makesExactlyOneAttempt() {
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(status(503)));
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/containers/current"))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

    try (ArvadosClient c = builder().retryPolicy(RetryPolicy.none()).build()) {
      assertThat(
              expect(ArvadosServiceException.class, () -> c.containers().get(CONTAINER)).status())
          .isEqualTo(503);
      assertThat(expect(ArvadosTransportException.class, () -> c.containers().current()).attempts())
          .isEqualTo(1);
    }

    assertThat(requestCount()).isEqualTo(2);
    assertThat(time.sleeps).isEmpty();
  }

  @Test
  void customRetryStatuses_replaceTheDefaults() {
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(status(502)));
    try (ArvadosClient c =
        builder().retryPolicy(RetryPolicy.builder().retryStatuses(503).build()).build()) {
      assertThat(
              expect(ArvadosServiceException.class, () -> c.containers().get(CONTAINER)).status())
          .isEqualTo(502);
    }
    assertThat(requestCount()).isEqualTo(1);
  }

  @Test
  void lockPost_isRetriedToo() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .inScenario("lock")
            .whenScenarioStateIs(STARTED)
            .willReturn(status(503))
            .willSetStateTo("ok"));
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .inScenario("lock")
            .whenScenarioStateIs("ok")
            .willReturn(
                okJson(
                    Fixtures.lockFields(CONTAINER, "Locked", 1, AUTH_A, DISPATCHER_TOKEN_UUID))));

    assertThat(containers().lock(CONTAINER).authUuid()).isEqualTo(AUTH_A);
    assertThat(requestCount()).isEqualTo(2);
  }

  @Test
  void interruptWhileWaitingToRetry_stopsWithTransportException_andKeepsTheInterruptFlag() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    Http.Sleeper interrupted =
        nanos -> {
          throw new InterruptedException("shutdown");
        };
    try (ArvadosClient c = builder().sleeper(interrupted).build()) {
      ArvadosTransportException e =
          expect(ArvadosTransportException.class, () -> c.containers().get(CONTAINER));
      assertThat(Thread.interrupted()).as("interrupt flag restored (and cleared here)").isTrue();
      assertThat(e.getCause()).isInstanceOf(InterruptedException.class);
      assertThat(e.getSuppressed()).hasSize(1).allMatch(s -> s instanceof IOException);
      assertThat(e.attempts()).isEqualTo(1);
      assertThat(e.getMessage()).contains("interrupted");
    }
    assertThat(requestCount()).isEqualTo(1);
  }

  @Test
  void connectFailures_neverReachedTheServer_butOtherIoFailuresMayHave() {
    assertThat(Http.mayHaveReachedServer(new java.net.SocketTimeoutException("Connect timed out")))
        .as("JDK 13+")
        .isFalse();
    assertThat(Http.mayHaveReachedServer(new java.net.SocketTimeoutException("connect timed out")))
        .as("JDK 8-12")
        .isFalse();
    assertThat(Http.mayHaveReachedServer(new java.net.ConnectException("Connection refused")))
        .isFalse();
    assertThat(Http.mayHaveReachedServer(new java.net.UnknownHostException("zzzzz.example.org")))
        .isFalse();
    assertThat(Http.mayHaveReachedServer(new java.net.SocketTimeoutException("timeout")))
        .as("read timeout")
        .isTrue();
    assertThat(Http.mayHaveReachedServer(new java.net.SocketException("Connection reset")))
        .isTrue();
    assertThat(
            Http.mayHaveReachedServer(new java.io.EOFException("\\n not found: limit=0 content=…")))
        .isTrue();
  }

  // ---- RetryPolicy itself ----

  @Test
  void defaults_areAsDocumented() {
    RetryPolicy d = RetryPolicy.defaults();
    assertThat(d.maxAttempts()).isEqualTo(6);
    assertThat(d.initialBackoff()).isEqualTo(Duration.ofMillis(250));
    assertThat(d.maxBackoff()).isEqualTo(Duration.ofSeconds(8));
    assertThat(d.maxElapsed()).isEqualTo(Duration.ofSeconds(60));
    assertThat(d.retryStatuses()).containsExactlyInAnyOrder(429, 500, 502, 503, 504);
    assertThat(RetryPolicy.none().maxAttempts()).isEqualTo(1);
    assertThat(d.toString()).contains("maxAttempts=6").contains("[429, 500, 502, 503, 504]");
  }

  @Test
  void backoffNanos_isJitteredBetweenHalfAndAllOfTheBound() {
    RetryPolicy p =
        RetryPolicy.builder()
            .initialBackoff(Duration.ofMillis(100))
            .maxBackoff(Duration.ofMillis(700))
            .build();
    long[] bounds = {100, 200, 400, 700, 700};
    for (int retry = 1; retry <= bounds.length; retry++) {
      long bound = bounds[retry - 1] * MS;
      long min = Long.MAX_VALUE;
      long max = Long.MIN_VALUE;
      for (int i = 0; i < 2000; i++) {
        long w = p.backoffNanos(retry);
        min = Math.min(min, w);
        max = Math.max(max, w);
      }
      assertThat(min)
          .as("retry %d", retry)
          .isGreaterThanOrEqualTo(bound / 2)
          .isLessThan(bound * 6 / 10);
      assertThat(max)
          .as("retry %d", retry)
          .isLessThanOrEqualTo(bound)
          .isGreaterThan(bound * 9 / 10);
    }
  }

  @Test
  void backoffNanos_doesNotOverflowForLateRetries() {
    RetryPolicy p =
        RetryPolicy.builder()
            .maxAttempts(100)
            .initialBackoff(Duration.ofDays(1))
            .maxBackoff(Duration.ofDays(3650))
            .build();
    assertThat(p.backoffNanos(99))
        .isBetween(Duration.ofDays(3650).toNanos() / 2, Duration.ofDays(3650).toNanos());
  }

  @Test
  void parseRetryAfter_acceptsSecondsAndDates_rejectsTheRest() {
    assertThat(Http.parseRetryAfterNanos("120")).isEqualTo(120 * S);
    assertThat(Http.parseRetryAfterNanos(" 0 ")).isZero();
    assertThat(Http.parseRetryAfterNanos("99999999")).as("capped at a day").isEqualTo(86_400 * S);
    assertThat(Http.parseRetryAfterNanos("-5")).isEqualTo(-1);
    assertThat(Http.parseRetryAfterNanos("1.5")).isEqualTo(-1);
    assertThat(Http.parseRetryAfterNanos("Wed, 21 Oct 2015 07:28:00 GMT")).isZero();
    assertThat(Http.parseRetryAfterNanos("tomorrow")).isEqualTo(-1);
  }
}

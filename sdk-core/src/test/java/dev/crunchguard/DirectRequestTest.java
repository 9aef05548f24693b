package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The container calls (get, lock, unlock, the guarded update) build their OkHttp requests directly,
 * and {@code Http} sends every call itself: the URLs under any base path, exactly the client's
 * headers, empty bodies as Retrofit sent them, and the 32 MiB bound on error answers as well as on
 * successful ones.
 */
class DirectRequestTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();

  private static final String PREFIX = "/proxy/arvados-api";
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static LoggedRequest only(List<LoggedRequest> requests) {
    assertThat(requests).hasSize(1);
    return requests.get(0);
  }

  /** Header names in lower case, each with how often it was sent. */
  private static Set<String> headerNames(LoggedRequest r) {
    Set<String> names = new TreeSet<>();
    for (HttpHeader h : r.getHeaders().all()) {
      assertThat(h.values()).as("header %s sent once", h.key()).hasSize(1);
      names.add(h.key().toLowerCase(Locale.ROOT));
    }
    return names;
  }

  @Test
  void everyCall_isSentUnderTheBaseUrlsPath() {
    String record = Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3);
    wm.stubFor(get(urlPathEqualTo(PREFIX + CONTAINER_PATH)).willReturn(okJson(record)));
    wm.stubFor(
        post(urlPathEqualTo(PREFIX + CONTAINER_PATH + "/lock"))
            .willReturn(
                okJson(
                    Fixtures.lockFields(CONTAINER, "Locked", 1, AUTH_A, DISPATCHER_TOKEN_UUID))));
    wm.stubFor(
        post(urlPathEqualTo(PREFIX + CONTAINER_PATH + "/unlock"))
            .willReturn(okJson(Fixtures.lockFields(CONTAINER, "Queued", 1, null, null))));
    wm.stubFor(put(urlPathEqualTo(PREFIX + CONTAINER_PATH)).willReturn(okJson(record)));
    wm.stubFor(
        get(urlPathEqualTo(PREFIX + "/arvados/v1/containers"))
            .willReturn(okJson(Fixtures.listPage(0, 100, 1L, List.of(CONTAINER)))));
    wm.stubFor(
        get(urlPathEqualTo(PREFIX + "/arvados/v1/api_client_authorizations/current"))
            .willReturn(okJson(Fixtures.tokenRecord(DISPATCHER_TOKEN_UUID))));

    try (ArvadosClient c = builder().baseUrl(wm.baseUrl() + PREFIX).build()) {
      Containers containers = c.containers();
      containers.get(CONTAINER);
      ContainerLock lock = containers.lock(CONTAINER);
      lock.verify();
      lock.reportProgress(0.5);
      containers.unlock(CONTAINER);
      assertThat(containers.list(ContainerQuery.all())).hasSize(1);
      assertThat(c.tokenUuid()).isEqualTo(DISPATCHER_TOKEN_UUID);
    }

    assertThat(allRequests())
        .extracting(LoggedRequest::getUrl)
        .hasSize(7)
        .allMatch(url -> url.startsWith(PREFIX + "/arvados/v1/"));
    LoggedRequest verify =
        only(
            wm.findAll(
                getRequestedFor(urlPathEqualTo(PREFIX + CONTAINER_PATH))
                    .withQueryParam("select", matching(".+"))));
    assertThat(verify.queryParameter("select").firstValue()).isEqualTo(Containers.EPOCH_SELECT);
  }

  @Test
  void aLock_postsAnEmptyBodyWithoutContentType_andExactlyTheClientHeaders() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .willReturn(
                okJson(
                    Fixtures.lockFields(CONTAINER, "Locked", 1, AUTH_A, DISPATCHER_TOKEN_UUID))));

    containers().lock(CONTAINER);

    LoggedRequest r = only(allRequests());
    assertThat(r.getBody()).isEmpty();
    assertThat(r.getHeader("Content-Length")).isEqualTo("0");
    assertThat(r.containsHeader("Content-Type")).isFalse();
    assertThat(r.getHeader("Authorization")).isEqualTo("Bearer " + DISPATCHER_TOKEN);
    assertThat(r.getHeader("X-Request-Id")).matches(Fixtures.REQUEST_ID);
    assertThat(headerNames(r))
        .containsExactlyInAnyOrder(
            "authorization",
            "user-agent",
            "x-crunch-guard-client",
            "accept",
            "x-request-id",
            // OkHttp's own
            "host",
            "connection",
            "accept-encoding",
            "content-length");
  }

  @Test
  void aGuardedUpdate_putsJsonWithExactlyTheClientHeaders() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                okJson(
                    Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3))));

    heldLock().reportProgress(0.5);

    LoggedRequest r = only(allRequests());
    assertThat(r.getHeader("Content-Type"))
        .isEqualToIgnoringCase("application/json; charset=utf-8");
    assertThat(r.getBodyAsString())
        .isEqualTo("{\"container\":{\"progress\":0.5,\"auth_uuid\":\"" + AUTH_A + "\"}}");
    assertThat(headerNames(r))
        .containsExactlyInAnyOrder(
            "authorization",
            "user-agent",
            "x-crunch-guard-client",
            "accept",
            "x-request-id",
            "host",
            "connection",
            "accept-encoding",
            "content-length",
            "content-type");
  }

  @Test
  void anErrorAnswerLargerThan32MiB_isMalformed_andNotRetried() {
    int size = (int) Http.MAX_BODY_BYTES + 1024;
    wm.stubFor(
        any(urlPathMatching(CONTAINER_PATH + ".*"))
            .willReturn(
                aResponse()
                    .withStatus(422)
                    .withHeader("Content-Type", "application/json")
                    .withBody("{\"errors\":[\"" + "x".repeat(size) + "\"]}")));

    MalformedResponseException e =
        expect(
            MalformedResponseException.class,
            () -> heldLock().update(ContainerUpdate.builder().priority(1).build()));

    assertThat(e.status()).isEqualTo(422);
    assertThat(e.getMessage()).contains("larger than " + Http.MAX_BODY_BYTES);
    assertThat(e.requestId()).matches(Fixtures.REQUEST_ID);
    assertThat(requestCount()).as("not retried, no read-back").isEqualTo(1);
  }

  @Test
  void aRetriedDirectCall_sendsTheSameRequestIdEveryTime() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .inScenario("busy")
            .whenScenarioStateIs(Scenario.STARTED)
            .willReturn(aResponse().withStatus(503))
            .willSetStateTo("ready"));
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .inScenario("busy")
            .whenScenarioStateIs("ready")
            .willReturn(
                okJson(
                    Fixtures.lockFields(CONTAINER, "Locked", 1, AUTH_A, DISPATCHER_TOKEN_UUID))));

    containers().lock(CONTAINER);

    List<LoggedRequest> all = allRequests();
    assertThat(all).hasSize(2);
    assertThat(all.get(1).getHeader("X-Request-Id"))
        .matches(Fixtures.REQUEST_ID)
        .isEqualTo(all.get(0).getHeader("X-Request-Id"));
  }
}

package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.crunchguard.Fixtures.AUTH_A;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.DISPATCHER_TOKEN_UUID;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Undecodable answers become typed exceptions with the status and a short excerpt; never an NPE or
 * a Gson exception.
 */
class MalformedResponseTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static void getAnswers(int status, String contentType, String body) {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(
                aResponse()
                    .withStatus(status)
                    .withHeader("Content-Type", contentType)
                    .withBody(body)));
  }

  private MalformedResponseException malformedGet() {
    MalformedResponseException e =
        expect(MalformedResponseException.class, () -> containers().get(CONTAINER));
    assertThat(e.getCause()).as("no Gson or JDK exception leaks out").isNull();
    assertThat(e.requestId()).matches(Fixtures.REQUEST_ID);
    assertThat(e).isNotInstanceOf(ArvadosServiceException.class);
    assertThat(e.getMessage())
        .contains("get container " + CONTAINER)
        .contains("could not decode the response");
    return e;
  }

  private static String recordWith(String field, String rawJsonValue) {
    JsonObject r = Fixtures.record(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3);
    r.add(field, JsonParser.parseString(rawJsonValue));
    return Json.GSON.toJson(r);
  }

  @Test
  void truncatedJson_isMalformed_withStatusAndExcerpt() {
    String full = Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3);
    getAnswers(200, "application/json", full.substring(0, 150));

    MalformedResponseException e = malformedGet();

    assertThat(e.status()).isEqualTo(200);
    assertThat(e.getMessage()).contains("invalid JSON");
    assertThat(e.bodyExcerpt())
        .startsWith("{\"kind\":\"arvados#container\"")
        .hasSizeLessThanOrEqualTo(201);
  }

  @Test
  void htmlPageWithStatus200_isMalformed() {
    getAnswers(
        200,
        "text/html",
        "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>Please log in</body></html>");

    MalformedResponseException e = malformedGet();

    assertThat(e.status()).isEqualTo(200);
    assertThat(e.bodyExcerpt())
        .isEqualTo(
            "<!DOCTYPE html> <html><head><title>Sign in</title></head> <body>Please log in</body></html>");
  }

  @Test
  void htmlBadGatewayPage_afterRetriesAreExhausted_isApiException502WithExcerpt() {
    getAnswers(
        502,
        "text/html",
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
            + "<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
            + "<!-- padding -->".repeat(30));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));

    assertThat(e).isExactlyInstanceOf(ArvadosServiceException.class);
    assertThat(e.status()).isEqualTo(502);
    assertThat(e.errors()).isEmpty();
    assertThat(e.bodyExcerpt())
        .startsWith("<html> <head><title>502 Bad Gateway</title></head>")
        .endsWith("…")
        .hasSize(201);
    assertThat(e.bodyExcerpt()).doesNotContain("\n").doesNotContain("\r");
    assertThat(requestCount()).isEqualTo(RetryPolicy.defaults().maxAttempts());
  }

  @Test
  void emptyBodyWithStatus200_isMalformed() {
    getAnswers(200, "application/json", "");
    assertThat(malformedGet().getMessage()).contains("empty body");
  }

  @Test
  void noContent204_whereARecordWasExpected_isMalformed() {
    wm.stubFor(get(urlPathEqualTo(CONTAINER_PATH)).willReturn(aResponse().withStatus(204)));
    assertThat(malformedGet().status()).isEqualTo(204);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "priority               | \"high\"",
        "state                  | 5",
        "lock_count             | 1.5",
        "exit_code              | \"0\"",
        "priority               | 1e400",
        "progress               | \"half\"",
        "command                | \"echo hello\"",
        "command                | [\"echo\", 1]",
        "environment            | {\"HOME\": 1}",
        "runtime_status         | [\"error\"]",
        "mounts                 | \"/out\"",
        "created_at             | \"yesterday\"",
        "interactive_session_started | \"false\"",
        "auth_uuid              | {}",
      })
  void wrongFieldTypes_areMalformed_namingTheField(String field, String value) {
    getAnswers(200, "application/json", recordWith(field, value));
    assertThat(malformedGet().getMessage()).contains("field '" + field);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "[{\"uuid\":\"" + CONTAINER + "\"}]   | an array",
        "\"" + CONTAINER + "\"                  | a string",
        "null                                  | null",
        "42                                    | a number",
      })
  void jsonThatIsNotAnObject_isMalformed(String body, String kind) {
    getAnswers(200, "application/json", body);
    assertThat(malformedGet().getMessage()).contains("expected a JSON object, got " + kind);
  }

  @Test
  void trailingDataAfterTheDocument_isMalformed() {
    getAnswers(
        200,
        "application/json",
        Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3) + "{}");
    assertThat(malformedGet().getMessage()).contains("trailing data");
  }

  @Test
  void recordWithoutUuid_isMalformed() {
    getAnswers(200, "application/json", "{\"kind\":\"arvados#container\",\"state\":\"Running\"}");
    assertThat(malformedGet().getMessage()).contains("no 'uuid'");
  }

  @Test
  void absurdlyDeepNesting_isMalformed_notAStackOverflow() {
    getAnswers(
        200,
        "application/json",
        "{\"uuid\":\""
            + CONTAINER
            + "\",\"mounts\":"
            + "[".repeat(100_000)
            + "]".repeat(100_000)
            + "}");
    malformedGet();
  }

  @Test
  void bodyLargerThan32MiB_isMalformed_withoutReadingItAll() {
    int size = (int) Http.MAX_BODY_BYTES + 1024;
    StringBuilder sb =
        new StringBuilder(size + 100)
            .append("{\"uuid\":\"")
            .append(CONTAINER)
            .append("\",\"log\":\"");
    sb.append("x".repeat(size)).append("\"}");
    getAnswers(200, "application/json", sb.toString());

    MalformedResponseException e = malformedGet();

    assertThat(e.status()).isEqualTo(200);
    assertThat(e.getMessage()).contains("larger than " + Http.MAX_BODY_BYTES);
    assertThat(requestCount()).as("not retried").isEqualTo(1);
  }

  @Test
  void bodyOfExactly32MiB_isStillRead() {
    String head = "{\"uuid\":\"" + CONTAINER + "\",\"log\":\"";
    String tail = "\"}";
    int pad = (int) Http.MAX_BODY_BYTES - head.length() - tail.length();
    getAnswers(200, "application/json", head + "x".repeat(pad) + tail);

    Container c = containers().get(CONTAINER);

    assertThat(c.log()).hasSize(pad);
  }

  @Test
  void unknownFields_areTolerated_andUnknownStatesReadAsUnknown() {
    JsonObject r = Fixtures.record(CONTAINER, "Paused", AUTH_A, DISPATCHER_TOKEN_UUID, 3);
    r.add(
        "hibernation",
        JsonParser.parseString("{\"since\":\"2027-01-01T00:00:00Z\",\"tier\":[1,2]}"));
    r.addProperty("another_new_field", 17);
    getAnswers(200, "application/json", Json.GSON.toJson(r));

    Container c = containers().get(CONTAINER);

    assertThat(c.state()).isEqualTo(ContainerState.UNKNOWN);
    assertThat(c.state().wireName()).isEmpty();
    assertThat(c.has("hibernation")).as("only the known fields are tracked").isFalse();
    assertThat(c.has("lock_count")).isTrue();
    assertThat(c.authUuid()).isEqualTo(AUTH_A);
  }

  @Test
  void absentFields_readAsNullOrEmpty_andHasTellsAbsentFromNull() {
    getAnswers(
        200,
        "application/json",
        "{\"uuid\":\"" + CONTAINER + "\",\"state\":\"Queued\",\"priority\":0,\"exit_code\":null}");

    Container c = containers().get(CONTAINER);

    assertThat(c.has("exit_code")).isTrue();
    assertThat(c.exitCode()).isNull();
    assertThat(c.has("lock_count")).isFalse();
    assertThat(c.lockCount()).isNull();
    assertThat(c.command()).isEmpty();
    assertThat(c.mounts()).isEmpty();
    assertThat(c.priority()).isZero();
    assertThat(c.toString()).contains(CONTAINER).contains("state=Queued");
  }

  @Test
  void decodedCollections_areUnmodifiable() {
    getAnswers(
        200,
        "application/json",
        Fixtures.recordJson(CONTAINER, "Running", AUTH_A, DISPATCHER_TOKEN_UUID, 3));
    Container c = containers().get(CONTAINER);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.command().add("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.environment().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
    @SuppressWarnings("unchecked")
    Map<String, Object> out = (Map<String, Object>) c.mounts().get("/out");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> out.put("x", 1))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void lockAnswerNotShowingLocked_isMalformed() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .willReturn(okJson(Fixtures.lockFields(CONTAINER, "Queued", 1, null, null))));
    MalformedResponseException e =
        expect(MalformedResponseException.class, () -> containers().lock(CONTAINER));
    assertThat(e.getMessage()).contains("lock succeeded but");
  }

  @Test
  void lockAnswerThatIsNotJson_isMalformed() {
    wm.stubFor(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock"))
            .willReturn(aResponse().withStatus(200).withBody("OK")));
    assertThat(
            expect(MalformedResponseException.class, () -> containers().lock(CONTAINER))
                .bodyExcerpt())
        .isEqualTo("OK");
  }

  @Test
  void tokenRecordWithoutUuid_isMalformed() {
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/api_client_authorizations/current"))
            .willReturn(okJson("{\"kind\":\"arvados#apiClientAuthorization\"}")));
    assertThat(expect(MalformedResponseException.class, () -> client.tokenUuid()))
        .hasMessageContaining("uuid");
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/api_client_authorizations/current"))
            .willReturn(okJson("{\"uuid\":7}")));
    assertThat(expect(MalformedResponseException.class, () -> client.tokenUuid()))
        .hasMessageContaining("uuid");
  }

  @Test
  void authRecordWithoutApiToken_isMalformed() {
    wm.stubFor(
        get(urlPathEqualTo(CONTAINER_PATH + "/auth"))
            .willReturn(okJson("{\"uuid\":\"" + AUTH_A + "\",\"api_token\":\"\"}")));
    assertThat(expect(MalformedResponseException.class, () -> containers().auth(CONTAINER)))
        .hasMessageContaining("api_token");
  }

  @Test
  void listEnvelopeWithWrongItemsAvailable_isMalformed() {
    wm.stubFor(
        get(urlPathEqualTo("/arvados/v1/containers"))
            .willReturn(okJson("{\"items\":[],\"items_available\":\"many\"}")));
    assertThat(
            expect(
                MalformedResponseException.class,
                () -> containers().list(ContainerQuery.all()).count()))
        .hasMessageContaining("items_available");
  }

  @Test
  void updateAnsweredWithAnUndecodableBody_isMalformed_andTheLockIsNotLost() {
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withStatus(200).withBody("<html>proxy</html>")));
    ContainerLock lock = heldLock();

    assertThat(expect(MalformedResponseException.class, lock::markRunning).status()).isEqualTo(200);
    assertThat(lock.isLost()).isFalse();
  }

  @Test
  void completeAnsweredWithAnUndecodableBody_stillReleasesTheLock() {
    // The server said 200: the epoch has ended, whatever the body looks like.
    wm.stubFor(
        put(urlPathEqualTo(CONTAINER_PATH))
            .willReturn(aResponse().withStatus(200).withBody("{\"uuid\":")));
    ContainerLock lock = heldLock();

    expect(MalformedResponseException.class, () -> lock.complete(0, Fixtures.OUTPUT_PDH));

    assertThat(lock.isReleased()).isTrue();
    assertThat(expect(IllegalStateException.class, lock::markRunning))
        .hasMessageContaining("released");
  }

  @Test
  void errorEnvelopeWithOddShapes_isStillAnApiException() {
    getAnswers(422, "application/json", "{\"errors\":\"not a list\",\"error_token\":{}}");
    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));
    assertThat(e.errors()).isEmpty();
    assertThat(e.errorToken()).isNull();
    assertThat(e.bodyExcerpt()).contains("not a list");

    getAnswers(422, "application/json", "{\"errors\":[{\"code\":7},\"plain\",null]}");
    e = expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));
    assertThat(e.errors()).hasSize(3).contains("plain");
  }
}

package dev.crunchguard;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.crunchguard.Fixtures.CONTAINER;
import static dev.crunchguard.Fixtures.ERROR_TOKEN;
import static dev.crunchguard.Fixtures.SERVER_REQ;
import static dev.crunchguard.Fixtures.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every error class of the server (services/api/app/controllers/application_controller.rb
 * render_error, lib/controller/router/response.go sendError) becomes the documented exception type,
 * with the envelope's details.
 */
class ErrorMappingTest extends ClientTestBase {
  @RegisterExtension static WireMockExtension wm = Fixtures.wireMock();
  private static final String CONTAINER_PATH = "/arvados/v1/containers/" + CONTAINER;

  @Override
  protected WireMockExtension wm() {
    return wm;
  }

  private static void answer(MappingBuilder m, int status, String body) {
    wm.stubFor(
        m.willReturn(
            aResponse()
                .withStatus(status)
                .withHeader("Content-Type", "application/json")
                .withBody(body)));
  }

  private String sentRequestId() {
    return allRequests().get(allRequests().size() - 1).getHeader("X-Request-Id");
  }

  @ParameterizedTest(name = "HTTP {0} -> {1}")
  @CsvSource({
    "401, dev.crunchguard.UnauthorizedException, Not logged in",
    "403, dev.crunchguard.PermissionDeniedException, #<ArvadosModel::PermissionDeniedError: ArvadosModel::PermissionDeniedError>",
    "404, dev.crunchguard.NotFoundException, Path not found",
    "422, dev.crunchguard.ArvadosServiceException, Invalid attribute 'bogus' of Container in select parameter",
    "400, dev.crunchguard.ArvadosServiceException, bad request",
  })
  void get_errorStatus_isMappedToItsTypeWithEnvelopeDetails(int status, String type, String message)
      throws Exception {
    answer(get(urlPathEqualTo(CONTAINER_PATH)), status, Fixtures.envelope(message));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));

    assertThat(e).isExactlyInstanceOf(Class.forName(type));
    assertThat(e.status()).isEqualTo(status);
    assertThat(e.errors()).containsExactly(message + " (" + SERVER_REQ + ")");
    assertThat(e.errorToken()).isEqualTo(ERROR_TOKEN);
    assertThat(e.requestId()).isEqualTo(sentRequestId()).matches(Fixtures.REQUEST_ID);
    assertThat(e.bodyExcerpt()).isNull();
    assertThat(e.getMessage())
        .contains("get container " + CONTAINER)
        .contains("HTTP " + status)
        .contains(message)
        .contains(e.requestId());
    assertThat(e.hasErrorContaining(message)).isTrue();
    assertThat(e.hasErrorContaining("something else entirely")).isFalse();
    assertThat(requestCount()).as("4xx is never retried").isEqualTo(1);
  }

  @Test
  void errorWithSeveralMessages_keepsThemAllInOrder() {
    answer(
        get(urlPathEqualTo(CONTAINER_PATH)),
        422,
        Fixtures.envelope("Priority can't be blank", "Priority is not a number"));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));

    assertThat(e.errors())
        .containsExactly(
            "Priority can't be blank (" + SERVER_REQ + ")",
            "Priority is not a number (" + SERVER_REQ + ")");
    assertThat(e.getMessage())
        .contains("Priority can't be blank")
        .contains("Priority is not a number");
  }

  @Test
  void controllerError_withoutErrorToken_hasNullErrorToken() {
    // Errors made by arvados-controller itself carry no error_token and no request-id suffix (spec
    // lib/controller/router/response.go).
    answer(
        get(urlPathEqualTo(CONTAINER_PATH)),
        400,
        "{\"errors\":[\"invalid character 'x' looking for beginning of value\"]}");

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().get(CONTAINER));

    assertThat(e.status()).isEqualTo(400);
    assertThat(e.errorToken()).isNull();
    assertThat(e.errors()).containsExactly("invalid character 'x' looking for beginning of value");
  }

  @Test
  void errorBodyThatIsNotTheEnvelope_isKeptAsAShortExcerpt() {
    answer(get(urlPathEqualTo(CONTAINER_PATH)), 404, "404 page not found\n");

    NotFoundException e = expect(NotFoundException.class, () -> containers().get(CONTAINER));

    assertThat(e.errors()).isEmpty();
    assertThat(e.bodyExcerpt()).isEqualTo("404 page not found");
    assertThat(e.getMessage()).contains("unexpected body: 404 page not found");
  }

  @Test
  void lock_cannotLockWhenLocked_isLockConflictWithoutReadBack() {
    answer(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock")),
        422,
        Fixtures.envelope(Fixtures.LOCK_FAILED_LOCKED));

    LockConflictException e =
        expect(LockConflictException.class, () -> containers().lock(CONTAINER));

    assertThat(e.status()).isEqualTo(422);
    assertThat(e.containerUuid()).isEqualTo(CONTAINER);
    assertThat(e.isPriorityZero()).isFalse();
    assertThat(e.observedState()).isNull();
    assertThat(e.errorToken()).isEqualTo(ERROR_TOKEN);
    assertThat(e.requestId()).isEqualTo(sentRequestId());
    assertThat(e.getMessage()).contains("cannot lock when Locked");
    assertThat(requestCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Running", "Complete", "Cancelled"})
  void lock_cannotLockWhenNotQueued_isLockConflict(String state) {
    answer(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock")),
        422,
        Fixtures.envelope("#<ArvadosModel::LockFailedError: cannot lock when " + state + ">"));

    LockConflictException e =
        expect(LockConflictException.class, () -> containers().lock(CONTAINER));

    assertThat(e.isPriorityZero()).isFalse();
    assertThat(requestCount()).isEqualTo(1);
  }

  @Test
  void lock_priorityZero_isLockConflictThatSaysSo() {
    answer(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock")),
        422,
        Fixtures.envelope(Fixtures.LOCK_FAILED_PRIORITY));

    LockConflictException e =
        expect(LockConflictException.class, () -> containers().lock(CONTAINER));

    assertThat(e.isPriorityZero()).isTrue();
    assertThat(e.observedState()).isNull();
    assertThat(requestCount()).isEqualTo(1);
  }

  @Test
  void lock_otherUnprocessable_isPlainApiException() {
    answer(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock")),
        422,
        Fixtures.envelope("Auth uuid cannot be assigned because priority <= 0"));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().lock(CONTAINER));

    assertThat(e).isExactlyInstanceOf(ArvadosServiceException.class);
  }

  @Test
  void lock_byNonAdmin_isPermissionDenied() {
    answer(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock")),
        403,
        Fixtures.envelope(
            "#<ArvadosModel::PermissionDeniedError: ArvadosModel::PermissionDeniedError>"));

    assertThat(expect(ArvadosServiceException.class, () -> containers().lock(CONTAINER)))
        .isExactlyInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void lock_withUnknownToken_isUnauthorized() {
    answer(
        post(urlPathEqualTo(CONTAINER_PATH + "/lock")),
        401,
        Fixtures.envelope(Fixtures.NOT_LOGGED_IN));

    assertThat(expect(ArvadosServiceException.class, () -> containers().lock(CONTAINER)))
        .isExactlyInstanceOf(UnauthorizedException.class);
  }

  @Test
  void auth_notLockedByThisToken_isPermissionDenied() {
    answer(
        get(urlPathEqualTo(CONTAINER_PATH + "/auth")),
        403,
        Fixtures.envelope("#<ArvadosModel::PermissionDeniedError: Not locked by your token>"));

    PermissionDeniedException e =
        expect(PermissionDeniedException.class, () -> containers().auth(CONTAINER));

    assertThat(e.hasErrorContaining("Not locked by your token")).isTrue();
  }

  @Test
  void current_withATokenOfNoContainer_isNotFound() {
    answer(
        get(urlPathEqualTo("/arvados/v1/containers/current")),
        404,
        Fixtures.envelope("Token is not associated with a container."));

    assertThat(expect(ArvadosServiceException.class, () -> containers().current()))
        .isExactlyInstanceOf(NotFoundException.class);
  }

  @Test
  void plainUnlock_ofAnotherTokensLock_isPermissionDenied() {
    answer(
        post(urlPathEqualTo(CONTAINER_PATH + "/unlock")),
        403,
        Fixtures.envelope(Fixtures.UNLOCK_DIFFERENT_TOKEN));

    PermissionDeniedException e =
        expect(PermissionDeniedException.class, () -> containers().unlock(CONTAINER));

    assertThat(e.hasErrorContaining("locked by a different token")).isTrue();
  }

  @Test
  void plainUnlock_whenNotLocked_withoutLostAttempt_isApiExceptionWithoutReadBack() {
    answer(
        post(urlPathEqualTo(CONTAINER_PATH + "/unlock")),
        422,
        Fixtures.envelope(
            "#<ArvadosModel::InvalidStateTransitionError: cannot unlock when Queued>"));

    ArvadosServiceException e =
        expect(ArvadosServiceException.class, () -> containers().unlock(CONTAINER));

    assertThat(e).isExactlyInstanceOf(ArvadosServiceException.class);
    assertThat(e.hasErrorContaining("cannot unlock when Queued")).isTrue();
    wm.verify(0, getRequestedFor(anyUrl()));
  }

  @Test
  void tokenUuid_withUnknownToken_isUnauthorized_andNothingIsCached() {
    answer(
        get(urlPathEqualTo("/arvados/v1/api_client_authorizations/current")),
        401,
        Fixtures.envelope(Fixtures.NOT_LOGGED_IN));

    assertThat(expect(ArvadosServiceException.class, () -> client.tokenUuid()))
        .isExactlyInstanceOf(UnauthorizedException.class);
    assertThat(expect(ArvadosServiceException.class, () -> client.tokenUuid()))
        .isExactlyInstanceOf(UnauthorizedException.class);
    assertThat(requestCount()).isEqualTo(2);
  }

  @Test
  void allApiExceptions_areUncheckedArvadosExceptions() {
    answer(get(urlPathEqualTo(CONTAINER_PATH)), 404, Fixtures.envelope(Fixtures.PATH_NOT_FOUND));
    Throwable e = expect(RuntimeException.class, () -> containers().get(CONTAINER));
    assertThat(e).isInstanceOf(ArvadosException.class).isInstanceOf(ArvadosServiceException.class);
  }
}

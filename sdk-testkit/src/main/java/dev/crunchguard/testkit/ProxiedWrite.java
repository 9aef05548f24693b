package dev.crunchguard.testkit;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One write (any request other than {@code GET}/{@code HEAD}) that passed through a {@link
 * FaultProxy}, in arrival order. Holds no secret: no headers, no query string, no body.
 *
 * @param sequence 1-based arrival order among the proxy's writes
 * @param method the HTTP method ({@code POST}, {@code PUT}, ...)
 * @param path the request path, without the query string
 * @param endpoint the containers API endpoint, or null for any other path
 * @param containerUuid the container the request was about (for {@code create}: the uuid in the
 *     upstream's answer), or null
 * @param carriedAuthUuid whether the body's container attributes held an {@code auth_uuid} (a
 *     fenced write)
 * @param status the upstream's HTTP status; for a fault answered by the proxy the status it sent;
 *     {@code 0} when there is no HTTP answer (connection reset by the proxy, upstream unreachable:
 *     then the proxy answers 502)
 * @param fault the fault applied to the request, or null
 */
public record ProxiedWrite(
    long sequence,
    String method,
    String path,
    @Nullable Endpoint endpoint,
    @Nullable String containerUuid,
    boolean carriedAuthUuid,
    int status,
    @Nullable FaultKind fault) {
  /**
   * Checks the non-null components.
   *
   * @param sequence 1-based arrival order among the proxy's writes
   * @param method the HTTP method ({@code POST}, {@code PUT}, ...); must not be null
   * @param path the request path, without the query string; must not be null
   * @param endpoint the containers API endpoint, or null for any other path
   * @param containerUuid the container the request was about, or null
   * @param carriedAuthUuid whether the body's container attributes held an {@code auth_uuid}
   * @param status the HTTP status answered (by the upstream, or by the proxy for a fault), or
   *     {@code 0} when there was no HTTP answer
   * @param fault the fault applied to the request, or null
   * @throws NullPointerException when {@code method} or {@code path} is null
   */
  public ProxiedWrite {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
  }

  /**
   * Whether the upstream received and answered the request (its effect, if any, happened), even if
   * the client never saw the answer ({@link FaultKind#LOST_RESPONSE}).
   *
   * @return true when no fault, or only {@link FaultKind#LOST_RESPONSE} / {@link FaultKind#DELAY},
   *     was applied and the status is not {@code 0}
   */
  public boolean reachedUpstream() {
    boolean passed = fault == null || fault == FaultKind.LOST_RESPONSE || fault == FaultKind.DELAY;
    return passed && status != 0;
  }
}

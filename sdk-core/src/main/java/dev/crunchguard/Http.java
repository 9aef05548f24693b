package dev.crunchguard;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes one logical call: attempts, retries with backoff, one request id for all attempts,
 * bounded body reading, and the mapping of error responses to exceptions. Thread-safe.
 *
 * <p>It also records whether an earlier attempt of the call may have been applied by the server
 * although its answer was lost (a transport failure after the request could have been sent, or a
 * gateway error). The callers use that to tell a lost response from a real refusal.
 */
final class Http {
  private static final Logger log = LoggerFactory.getLogger(Http.class);
  private static final byte[] BASE36 =
      "0123456789abcdefghijklmnopqrstuvwxyz".getBytes(StandardCharsets.US_ASCII);
  static final long MAX_BODY_BYTES = 32L * 1024 * 1024;
  static final String REQUEST_ID_HEADER = "X-Request-Id";

  /** What a POST or PUT without a body sends: nothing, and no {@code Content-Type}. */
  private static final RequestBody EMPTY_BODY = RequestBody.create(new byte[0], null);

  private static final int EXCERPT_CHARS = 200;

  /** Sleeps; replaced in tests. */
  interface Sleeper {
    void sleep(long nanos) throws InterruptedException;
  }

  static final Sleeper REAL_SLEEPER = nanos -> TimeUnit.NANOSECONDS.sleep(nanos);

  private final RetryPolicy policy;
  private final Redactor redactor;
  private final Sleeper sleeper;
  private final LongSupplier nanoClock;

  /**
   * The headers of every request (token, user agent, client id, Accept), built once per client and
   * copied into each call's request: an interceptor adding them would rebuild every request.
   */
  private final Headers clientHeaders;

  private final OkHttpClient okHttp;

  Http(
      OkHttpClient okHttp,
      RetryPolicy policy,
      Redactor redactor,
      Sleeper sleeper,
      LongSupplier nanoClock,
      Headers clientHeaders) {
    this.okHttp = okHttp;
    this.clientHeaders = clientHeaders;
    this.policy = policy;
    this.redactor = redactor;
    this.sleeper = sleeper;
    this.nanoClock = nanoClock;
  }

  Redactor redactor() {
    return redactor;
  }

  /** {@code req-} followed by 20 lowercase base-36 characters, as Arvados clients generate. */
  static String newRequestId() {
    byte[] id = {'r', 'e', 'q', '-', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ThreadLocalRandom random = ThreadLocalRandom.current(); // a correlation id, not a secret
    for (int i = 4; i < id.length; i++) {
      id[i] = BASE36[random.nextInt(BASE36.length)];
    }
    return new String(id, StandardCharsets.US_ASCII);
  }

  /**
   * The final answer of a call: a status and its body (any status; errors are not thrown here).
   * {@code maybeAppliedEarlier}: an earlier attempt may have been applied by the server although
   * its answer was lost.
   */
  record Outcome(
      String operation,
      int status,
      String body,
      String requestId,
      int attempts,
      boolean maybeAppliedEarlier) {
    boolean isSuccess() {
      return status >= 200 && status < 300;
    }
  }

  /**
   * Runs a call built directly on OkHttp: {@code method} on {@code url} with the client headers and
   * a fresh request id; {@code body} may be null (an empty body for POST and PUT, as Retrofit
   * sends). See {@link #execute(String, Function)}.
   */
  Outcome call(String operation, String method, HttpUrl url, @Nullable RequestBody body) {
    String requestId = newRequestId();
    return send(operation, request(method, url, body, requestId), requestId);
  }

  /**
   * The request of one call: the client headers, then {@code X-Request-Id}. Built once per call;
   * every attempt sends it again (its body, pre-serialised bytes, can be replayed).
   */
  Request request(String method, HttpUrl url, @Nullable RequestBody body, String requestId) {
    boolean needsBody = method.equals("POST") || method.equals("PUT");
    RequestBody sent = body == null && needsBody ? EMPTY_BODY : body;
    return new Request.Builder()
        .url(url)
        .headers(clientHeaders)
        .addHeader(REQUEST_ID_HEADER, requestId)
        .method(method, sent)
        .build();
  }

  /** The client headers (token, user agent, client id, Accept), for requests built elsewhere. */
  Headers clientHeaders() {
    return clientHeaders;
  }

  /**
   * Runs the call, retrying per the policy. {@code newRequest} builds the call's request from its
   * request id, once; every attempt sends that request through OkHttp and reads the answer itself,
   * bounded, whatever its status. Returns the last HTTP answer, success or not; throws {@link
   * ArvadosTransportException} when no attempt produced an answer that can be used.
   */
  Outcome execute(String operation, Function<String, Request> newRequest) {
    String requestId = newRequestId();
    return send(operation, newRequest.apply(requestId), requestId);
  }

  private Outcome send(String operation, Request request, String requestId) {
    long start = nanoClock.getAsLong();
    long budget = policy.maxElapsed().toNanos();
    boolean maybeApplied = false;
    int attempt = 0;
    while (true) {
      attempt++;
      long t0 = nanoClock.getAsLong();
      int status;
      String body;
      @Nullable String retryAfter;
      try {
        Response response = okHttp.newCall(request).execute();
        status = response.code();
        retryAfter = response.header("Retry-After");
        body = readBounded(response.body(), status);
      } catch (BodyTooLargeException e) {
        if (log.isDebugEnabled()) {
          log.debug(
              "{} {} -> {} body over {} bytes [{}]",
              request.method(),
              request.url().encodedPath(),
              e.status,
              MAX_BODY_BYTES,
              requestId);
        }
        throw malformed(
            operation,
            e.status,
            requestId,
            "response body larger than " + MAX_BODY_BYTES + " bytes",
            "");
      } catch (IOException e) {
        boolean applied = mayHaveReachedServer(e);
        maybeApplied |= applied;
        if (log.isDebugEnabled()) {
          log.debug(
              "{} {} attempt {} failed: {} [{}]",
              request.method(),
              request.url().encodedPath(),
              attempt,
              describe(e),
              requestId);
        }
        if (e instanceof SSLHandshakeException || e instanceof SSLPeerUnverifiedException) {
          // Certificate and handshake problems do not heal by retrying.
          throw new ArvadosTransportException(
              operation + ": TLS failure: " + describe(e), requestId, attempt, maybeApplied, e);
        }
        long wait = nextWait(attempt, start, budget, null, -1);
        if (wait < 0) {
          throw new ArvadosTransportException(
              operation + ": " + describe(e), requestId, attempt, maybeApplied, e);
        }
        sleep(wait, operation, requestId, attempt, maybeApplied, e);
        continue;
      } catch (RuntimeException e) {
        // OkHttp surfaces some protocol failures as unchecked exceptions; treat them like I/O.
        throw new ArvadosTransportException(
            operation + ": " + describe(e), requestId, attempt, true, e);
      }
      if (log.isDebugEnabled()) {
        long ms = TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - t0);
        log.debug(
            "{} {} -> {} in {} ms (attempt {}) [{}]",
            request.method(),
            request.url().encodedPath(),
            status,
            ms,
            attempt,
            requestId);
      }
      if (policy.isRetryableStatus(status)) {
        boolean gateway = status == 502 || status == 504;
        long wait = nextWait(attempt, start, budget, retryAfter, status);
        if (wait >= 0) {
          maybeApplied |= gateway;
          if (log.isDebugEnabled()) {
            log.debug(
                "{} {} will retry after HTTP {} in {} ms [{}]",
                request.method(),
                request.url().encodedPath(),
                status,
                TimeUnit.NANOSECONDS.toMillis(wait),
                requestId);
          }
          sleep(wait, operation, requestId, attempt, maybeApplied, null);
          continue;
        }
      }
      return new Outcome(operation, status, body, requestId, attempt, maybeApplied);
    }
  }

  /** The wait before the next attempt in nanos, or -1 when the policy says stop. */
  private long nextWait(
      int attemptsSoFar, long start, long budget, @Nullable String retryAfter, int status) {
    if (attemptsSoFar >= policy.maxAttempts()) {
      return -1;
    }
    long wait = policy.backoffNanos(attemptsSoFar);
    if (retryAfter != null && (status == 429 || status == 503)) {
      long ra = parseRetryAfterNanos(retryAfter);
      if (ra >= 0) {
        wait = ra;
      }
    }
    long elapsed = nanoClock.getAsLong() - start;
    if (elapsed + wait > budget) {
      return -1;
    }
    return wait;
  }

  static long parseRetryAfterNanos(String value) {
    String v = value.trim();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? -1 : TimeUnit.SECONDS.toNanos(Math.min(seconds, 86_400));
    } catch (NumberFormatException notSeconds) {
      try {
        Instant when = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        long millis = when.toEpochMilli() - System.currentTimeMillis();
        return TimeUnit.MILLISECONDS.toNanos(Math.max(0, millis));
      } catch (DateTimeParseException notDate) {
        return -1;
      }
    }
  }

  private void sleep(
      long nanos,
      String operation,
      String requestId,
      int attempt,
      boolean maybeApplied,
      @Nullable IOException cause) {
    try {
      sleeper.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ArvadosTransportException ex =
          new ArvadosTransportException(
              operation + ": interrupted while waiting to retry",
              requestId,
              attempt,
              maybeApplied,
              e);
      if (cause != null) {
        ex.addSuppressed(cause);
      }
      throw ex;
    }
  }

  /**
   * A connect failure never reached the server; anything later might have. The JDK spells a connect
   * timeout "Connect timed out" since JDK 13 and "connect timed out" before.
   */
  static boolean mayHaveReachedServer(IOException e) {
    return !(e instanceof ConnectException
        || e instanceof UnknownHostException
        || e instanceof NoRouteToHostException
        || (e instanceof InterruptedIOException
            && "connect timed out".equalsIgnoreCase(e.getMessage())));
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName()
        + (m == null ? "" : ": " + (m.length() > 200 ? m.substring(0, 200) : m));
  }

  private static final class BodyTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;

    BodyTooLargeException(int status) {
      super("body too large", null);
      this.status = status;
    }
  }

  private static String readBounded(@Nullable ResponseBody rb, int status) throws IOException {
    if (rb == null) {
      return "";
    }
    try (rb) {
      BufferedSource source = rb.source();
      if (source.request(MAX_BODY_BYTES + 1)) {
        throw new BodyTooLargeException(status);
      }
      Buffer buffer = source.getBuffer();
      return buffer.readString(StandardCharsets.UTF_8);
    }
  }

  // ---- mapping answers to results or exceptions ----

  /** Parses a successful answer's JSON object, or throws {@link MalformedResponseException}. */
  JsonObject successObject(Outcome o) {
    try {
      return Json.parseObject(o.body());
    } catch (Json.DecodeException e) {
      throw malformed(o.operation(), o.status(), o.requestId(), e.getMessage(), o.body());
    }
  }

  /** Decodes the container record a successful answer carries, by streaming (no JSON tree). */
  Container container(Outcome o) {
    try {
      return ContainerDecoder.parse(o.body());
    } catch (Json.DecodeException e) {
      throw malformed(o.operation(), o.status(), o.requestId(), e.getMessage(), o.body());
    }
  }

  /** Decodes a container from a successful answer already parsed into a tree. */
  Container container(Outcome o, JsonObject json) {
    try {
      return Container.fromJson(json);
    } catch (Json.DecodeException e) {
      throw malformed(o.operation(), o.status(), o.requestId(), e.getMessage(), o.body());
    }
  }

  MalformedResponseException malformed(
      String operation, int status, String requestId, @Nullable String reason, String body) {
    String excerpt = redactor.excerpt(body, EXCERPT_CHARS);
    String message =
        operation
            + ": HTTP "
            + status
            + ": could not decode the response ("
            + redactor.redact(reason)
            + ")"
            + (excerpt.isEmpty() ? "" : ": unexpected body: " + excerpt);
    return new MalformedResponseException(
        message, status, requestId, excerpt.isEmpty() ? null : excerpt);
  }

  /** The exception for an error answer, typed by status. */
  ArvadosServiceException error(Outcome o) {
    return error(details(o));
  }

  static ArvadosServiceException error(ErrorDetails d) {
    switch (d.status()) {
      case 401:
        return new UnauthorizedException(d);
      case 403:
        return new PermissionDeniedException(d);
      case 404:
        return new NotFoundException(d);
      default:
        return new ArvadosServiceException(d);
    }
  }

  /** What an error answer says, redacted. */
  ErrorDetails details(Outcome o) {
    List<String> errors = new ArrayList<>();
    String errorToken = null;
    String excerpt = null;
    try {
      JsonObject env = Json.parseObject(o.body());
      JsonElement list = env.get("errors");
      if (list != null && list.isJsonArray()) {
        for (JsonElement e : list.getAsJsonArray()) {
          errors.add(redactor.redact(e.isJsonPrimitive() ? e.getAsString() : e.toString()));
        }
      }
      JsonElement tok = env.get("error_token");
      if (tok != null && tok.isJsonPrimitive()) {
        errorToken = tok.getAsString();
      }
      if (errors.isEmpty()) {
        excerpt = redactor.excerpt(o.body(), EXCERPT_CHARS);
      }
    } catch (Json.DecodeException notJson) {
      excerpt = o.body().isEmpty() ? "" : redactor.excerpt(o.body(), EXCERPT_CHARS);
    }
    return new ErrorDetails(o.operation(), o.status(), errors, errorToken, o.requestId(), excerpt);
  }
}

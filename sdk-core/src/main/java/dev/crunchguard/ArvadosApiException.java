package dev.crunchguard;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The Arvados server (or a proxy in front of it) answered with an HTTP error status.
 *
 * <p>Carries the status, the server's {@code errors} messages (each usually ends with
 * {@code " (req-…)"}), the {@code error_token} the server logs, the request id, and a short excerpt
 * of the body when it was not the JSON error envelope (for example a proxy's HTML 502 page). It never
 * carries a token.
 *
 * <p>Subtypes name the common statuses: {@link UnauthorizedException} (401),
 * {@link PermissionDeniedException} (403), {@link NotFoundException} (404),
 * {@link LockConflictException} (a refused lock) and {@link MalformedResponseException} (a
 * response the SDK could not decode).
 */
public class ArvadosApiException extends ArvadosException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final List<String> errors;
  private final @Nullable String errorToken;
  private final String requestId;
  private final @Nullable String bodyExcerpt;

  ArvadosApiException(
      String operation,
      int status,
      List<String> errors,
      @Nullable String errorToken,
      String requestId,
      @Nullable String bodyExcerpt) {
    super(describe(operation, status, errors, requestId, bodyExcerpt));
    this.status = status;
    this.errors = List.copyOf(errors);
    this.errorToken = errorToken;
    this.requestId = requestId;
    this.bodyExcerpt = bodyExcerpt;
  }

  /** Copies the details of another exception under a new type. */
  ArvadosApiException(ArvadosApiException source) {
    super(source.getMessage(), source.getCause());
    this.status = source.status;
    this.errors = source.errors;
    this.errorToken = source.errorToken;
    this.requestId = source.requestId;
    this.bodyExcerpt = source.bodyExcerpt;
  }

  private static String describe(
      String operation, int status, List<String> errors, String requestId, @Nullable String excerpt) {
    StringBuilder sb = new StringBuilder(operation).append(": HTTP ").append(status);
    if (!errors.isEmpty()) {
      sb.append(": ").append(String.join("; ", errors));
    } else if (excerpt != null && !excerpt.isEmpty()) {
      sb.append(": unexpected body: ").append(excerpt);
    }
    sb.append(" [").append(requestId).append(']');
    return sb.toString();
  }

  /**
   * The HTTP status code.
   *
   * @return the status, for example 422
   */
  public int status() {
    return status;
  }

  /**
   * The server's error messages, in order; empty when the body was not the Arvados error envelope.
   *
   * @return an unmodifiable list
   */
  public List<String> errors() {
    return errors;
  }

  /**
   * The {@code error_token} of the Arvados error envelope ({@code <unix seconds>+<8 hex>}), which
   * an administrator can find in the server's logs; null when absent.
   *
   * @return the error token or null
   */
  public @Nullable String errorToken() {
    return errorToken;
  }

  /**
   * The {@code X-Request-Id} this SDK sent with every attempt of the call.
   *
   * @return the request id
   */
  public String requestId() {
    return requestId;
  }

  /**
   * A short, secret-free excerpt of the response body when it was not a JSON error envelope (an
   * HTML page, a truncated document); null otherwise.
   *
   * @return the excerpt or null
   */
  public @Nullable String bodyExcerpt() {
    return bodyExcerpt;
  }

  /**
   * Whether any of the server's messages contains the given text.
   *
   * @param text the text to look for, case-sensitive
   * @return true if some message contains it
   */
  public boolean hasErrorContaining(String text) {
    for (String e : errors) {
      if (e.contains(text)) {
        return true;
      }
    }
    return false;
  }
}

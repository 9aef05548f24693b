package dev.crunchguard;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The Arvados server (or a proxy in front of it) answered with an HTTP error status.
 *
 * <p>Carries the status, the server's {@code errors} messages (each usually ends with {@code "
 * (req-…)"}), the {@code error_token} the server logs, the request id, and a short excerpt of the
 * body when it was not the JSON error envelope (for example a proxy's HTML 502 page). It never
 * carries a token.
 *
 * <p>Subtypes name the common answers: {@link UnauthorizedException} (401), {@link
 * PermissionDeniedException} (403), {@link NotFoundException} (404) and {@link
 * LockConflictException} (a refused lock). Problems on this side of the wire (no answer, an
 * undecodable answer) are {@link ArvadosClientException}s instead.
 */
public class ArvadosServiceException extends ArvadosException {
  private static final long serialVersionUID = 1L;

  /** The HTTP status. */
  private final int status;

  /** The server's messages. */
  private final List<String> errors;

  /** The error envelope's error_token, or null. */
  private final @Nullable String errorToken;

  /** The request id. */
  private final String requestId;

  /** A redacted excerpt of a body that was not the error envelope, or null. */
  private final @Nullable String bodyExcerpt;

  ArvadosServiceException(ErrorDetails d) {
    super(d.describe());
    this.status = d.status();
    this.errors = d.errors();
    this.errorToken = d.errorToken();
    this.requestId = d.requestId();
    this.bodyExcerpt = d.bodyExcerpt();
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

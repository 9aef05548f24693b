package dev.crunchguard.testkit.internal.model;

import java.util.List;

/**
 * A request failure with the HTTP status and the error messages to render. The messages never
 * contain a token secret.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** How the error body is rendered. */
  public enum Style {
    /** RailsAPI: messages suffixed with the request id, plus {@code error_token}. */
    RAILS,
    /** arvados-controller (Go): bare messages, no {@code error_token}. */
    CONTROLLER
  }

  public final int status;
  public final List<String> messages;
  public final Style style;

  public ApiException(int status, List<String> messages, Style style) {
    super(String.join("; ", messages), null, false, false);
    this.status = status;
    this.messages = List.copyOf(messages);
    this.style = style;
  }

  public static ApiException rails(int status, String message) {
    return new ApiException(status, List.of(message), Style.RAILS);
  }

  public static ApiException notFound() {
    return rails(404, "Path not found");
  }

  public static ApiException notLoggedIn() {
    return rails(401, "Not logged in");
  }

  static ApiException invalid(List<String> messages) {
    return new ApiException(422, messages, Style.RAILS);
  }

  public static ApiException unprocessable(String message) {
    return rails(422, message);
  }

  /** A raised Ruby exception rendered with {@code inspect}: {@code #<Class: message>}. */
  public static ApiException raised(int status, String rubyClass, String message) {
    return rails(status, "#<" + rubyClass + ": " + message + ">");
  }

  static ApiException permissionDenied(String message) {
    return raised(403, "ArvadosModel::PermissionDeniedError", message);
  }

  /** PermissionDeniedError raised with no message: Ruby prints the class name twice. */
  static ApiException permissionDenied() {
    return permissionDenied("ArvadosModel::PermissionDeniedError");
  }

  boolean isStaleAuthUuid() {
    return messages.stream().anyMatch(m -> m.contains("Auth uuid is readonly"));
  }
}

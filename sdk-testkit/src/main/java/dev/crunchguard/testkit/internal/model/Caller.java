package dev.crunchguard.testkit.internal.model;

import org.jspecify.annotations.Nullable;

/**
 * The authenticated caller of one request.
 *
 * @param token the validated token
 * @param containerUuid the 4th component of a {@code v2/uuid/secret/<container uuid>} token
 */
public record Caller(TokenRecord token, @Nullable String containerUuid) {
  String tokenUuid() {
    return token.uuid;
  }

  public boolean admin() {
    return token.admin;
  }

  /** Whether the presented token is this runtime token ({@code v2/uuid/secret}). */
  boolean presented(@Nullable String runtimeToken) {
    return runtimeToken != null && runtimeToken.equals(token.v2());
  }

  @Override
  public String toString() {
    return "Caller[" + token.uuid + "]";
  }
}

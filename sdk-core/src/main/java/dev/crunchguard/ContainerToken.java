package dev.crunchguard;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A container's own API token, as returned by {@link Containers#auth(String)}: the credential a
 * runner gives to the contained process. It is a secret: {@link #toString()} never shows it, and
 * the SDK never logs it.
 *
 * <p>The token stops working when the container leaves Locked/Running (requeued, completed or
 * cancelled).
 */
public final class ContainerToken {
  private final String uuid;
  private final String secret;
  private final String containerUuid;
  private final @Nullable Instant expiresAt;
  private final List<String> scopes;

  ContainerToken(
      String uuid,
      String secret,
      String containerUuid,
      @Nullable Instant expiresAt,
      List<String> scopes) {
    this.uuid = uuid;
    this.secret = secret;
    this.containerUuid = containerUuid;
    this.expiresAt = expiresAt;
    this.scopes = List.copyOf(scopes);
  }

  /**
   * @return the token's uuid; equals the container's {@code auth_uuid} for a fenced container
   */
  public String uuid() {
    return uuid;
  }

  /**
   * @return the secret part of the token. Handle with care: never log it
   */
  public String secret() {
    return secret;
  }

  /**
   * @return the v2 form {@code v2/<uuid>/<secret>}. A secret
   */
  public String v2Token() {
    return "v2/" + uuid + "/" + secret;
  }

  /**
   * The container-scoped v2 form {@code v2/<uuid>/<secret>/<container uuid>}, which the server
   * accepts only while the container is Locked or Running (as crunch-run uses it). A secret.
   *
   * @return the 4-part token
   */
  public String containerScopedToken() {
    return v2Token() + "/" + containerUuid;
  }

  /**
   * @return when the token expires, or null if it has no expiry of its own
   */
  public @Nullable Instant expiresAt() {
    return expiresAt;
  }

  /**
   * @return the token's scopes
   */
  public List<String> scopes() {
    return scopes;
  }

  @Override
  public String toString() {
    return "ContainerToken{uuid="
        + uuid
        + ", container="
        + containerUuid
        + ", secret="
        + Redactor.MASK
        + '}';
  }
}

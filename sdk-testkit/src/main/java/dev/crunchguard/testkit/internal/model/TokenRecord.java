package dev.crunchguard.testkit.internal.model;

import com.google.gson.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One API client authorization. The secret is private to this class and the registry: it is never
 * part of {@link #toString()} nor of any log line or error message.
 */
public final class TokenRecord {
  /** What the token was made for. */
  enum Kind {
    SYSTEM_ROOT,
    ADMIN,
    USER,
    CONTAINER,
    RUNTIME
  }

  public final String uuid;
  private final String secret;
  public final String ownerUuid;
  final boolean admin;
  final Kind kind;
  final Instant createdAt;
  final List<String> scopes;
  private volatile @Nullable Instant expiresAt;

  TokenRecord(
      String uuid,
      String secret,
      String ownerUuid,
      boolean admin,
      Kind kind,
      Instant createdAt,
      List<String> scopes) {
    this.uuid = uuid;
    this.secret = secret;
    this.ownerUuid = ownerUuid;
    this.admin = admin;
    this.kind = kind;
    this.createdAt = createdAt;
    this.scopes = List.copyOf(scopes);
  }

  boolean secretMatches(String candidate) {
    return MessageDigest.isEqual(
        secret.getBytes(StandardCharsets.UTF_8), candidate.getBytes(StandardCharsets.UTF_8));
  }

  String secret() {
    return secret;
  }

  /** The {@code v2/<uuid>/<secret>} form. */
  public String v2() {
    return "v2/" + uuid + "/" + secret;
  }

  boolean isValid(Instant now) {
    Instant e = expiresAt;
    return e == null || e.isAfter(now);
  }

  void expire(Instant at) {
    if (expiresAt == null || expiresAt.isAfter(at)) {
      expiresAt = at;
    }
  }

  @Nullable Instant expiresAt() {
    return expiresAt;
  }

  /** Whether the token's scopes allow {@code method path} (api_client_authorization.rb:63-81). */
  public boolean scopeAllows(String method, String path) {
    if ("/arvados/v1/api_client_authorizations/current".equals(path)) {
      return true;
    }
    for (String s : scopes) {
      if ("all".equals(s)) {
        return true;
      }
      int sp = s.indexOf(' ');
      if (sp <= 0) {
        continue;
      }
      String m = s.substring(0, sp);
      String p = s.substring(sp + 1);
      if (!m.equals(method)) {
        continue;
      }
      if (p.equals(path) || (p.endsWith("/") && path.startsWith(p))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The {@code containers/{uuid}/auth} rendering: RailsAPI's own, which the controller passes
   * through unchanged, so it keeps the database ids the Go structs drop elsewhere.
   */
  JsonObject renderForAuth() {
    JsonObject o = render();
    o.addProperty("api_client_id", kind == Kind.CONTAINER ? 0 : 1);
    o.add("default_owner_uuid", null);
    o.addProperty("user_id", Math.floorMod(ownerUuid.hashCode(), 1_000_000) + 1);
    return o;
  }

  /** The {@code arvados#apiClientAuthorization} rendering, including the secret part. */
  public JsonObject render() {
    JsonObject o = new JsonObject();
    o.addProperty("kind", "arvados#apiClientAuthorization");
    o.addProperty("etag", etag());
    o.addProperty("uuid", uuid);
    o.addProperty("owner_uuid", ownerUuid);
    o.addProperty("created_at", Json.formatTime(createdAt));
    o.add("modified_by_user_uuid", null);
    o.add("modified_at", null);
    o.addProperty("api_token", secret);
    o.add("created_by_ip_address", null);
    Instant e = expiresAt;
    o.add("expires_at", Json.str(e == null ? null : Json.formatTime(e)));
    o.add("last_used_at", null);
    o.add("last_used_by_ip_address", null);
    o.add("scopes", Json.stringArray(scopes));
    return o;
  }

  private String etag() {
    try {
      byte[] md5 =
          MessageDigest.getInstance("MD5")
              .digest((uuid + "|" + expiresAt).getBytes(StandardCharsets.UTF_8));
      return new BigInteger(1, md5).toString(36);
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }

  @Override
  public String toString() {
    return "Token[" + uuid + ", " + kind + (admin ? ", admin" : "") + "]";
  }
}

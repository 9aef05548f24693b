package dev.crunchguard.testkit.internal.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * All tokens the simulator knows: configured admin/user tokens, the optional system root token,
 * container tokens minted on lock, and runtime tokens of containers. Lock-free.
 */
public final class TokenRegistry {
  private final String cluster;
  private final Map<String, TokenRecord> byUuid = new ConcurrentHashMap<>();
  private final Map<String, TokenRecord> bySecret = new ConcurrentHashMap<>();

  public TokenRegistry(String cluster) {
    this.cluster = cluster;
  }

  public String cluster() {
    return cluster;
  }

  /** Registers a configured token; a {@code v2/uuid/secret} string keeps its uuid. */
  public TokenRecord addConfigured(String token, boolean admin, boolean systemRoot) {
    String uuid;
    String secret;
    String[] v2 = splitV2(token);
    if (systemRoot) {
      uuid = Ids.systemRootTokenUuid(cluster);
      secret = token;
    } else if (v2 != null) {
      uuid = v2[1];
      secret = v2[2];
    } else {
      uuid = Ids.derivedUuid(cluster, "gj3su", "token", token);
      secret = token;
    }
    if (secret.isEmpty()) {
      throw new IllegalArgumentException("token secret must not be empty");
    }
    // Each configured token has its own user (as each real token belongs to one user); only the
    // system root token belongs to the system user.
    String owner =
        systemRoot
            ? Ids.systemUserUuid(cluster)
            : Ids.derivedUuid(cluster, "tpzed", "user", secret);
    TokenRecord.Kind kind =
        systemRoot
            ? TokenRecord.Kind.SYSTEM_ROOT
            : admin ? TokenRecord.Kind.ADMIN : TokenRecord.Kind.USER;
    TokenRecord r = new TokenRecord(uuid, secret, owner, admin, kind, Json.now(), List.of("all"));
    register(r);
    return r;
  }

  /**
   * Whether {@code userUuid} is an admin user: the system user, or the user of a configured admin
   * token. A token's rights are its user's, so a container token of an admin user is an admin.
   */
  boolean isAdminUser(String userUuid) {
    if (userUuid.equals(Ids.systemUserUuid(cluster))) {
      return true;
    }
    for (TokenRecord r : byUuid.values()) {
      if (r.admin && r.kind != TokenRecord.Kind.CONTAINER && r.ownerUuid.equals(userUuid)) {
        return true;
      }
    }
    return false;
  }

  /** Mints a fresh container token (the {@code auth_uuid} of a lock), with its user's rights. */
  TokenRecord mintContainerToken(String ownerUuid, List<String> scopes) {
    TokenRecord r =
        new TokenRecord(
            Ids.uuid(cluster, "gj3su"),
            Ids.random36(50),
            ownerUuid,
            isAdminUser(ownerUuid),
            TokenRecord.Kind.CONTAINER,
            Json.now(),
            scopes);
    register(r);
    return r;
  }

  /**
   * Registers (or checks) the runtime token of a container being created.
   *
   * @return null when it is acceptable, else the validation message
   */
  @Nullable String registerRuntimeToken(String token, String ownerUuid) {
    String[] v2 = splitV2(token);
    if (v2 == null || v2.length != 3) {
      return "Runtime token must be a v2 token (v2/<uuid>/<secret>)";
    }
    TokenRecord existing = byUuid.get(v2[1]);
    if (existing != null) {
      return existing.secretMatches(v2[2]) ? null : "Runtime token is invalid";
    }
    register(
        new TokenRecord(
            v2[1],
            v2[2],
            ownerUuid,
            isAdminUser(ownerUuid),
            TokenRecord.Kind.RUNTIME,
            Json.now(),
            List.of("all")));
    return null;
  }

  private void register(TokenRecord r) {
    TokenRecord prev = byUuid.putIfAbsent(r.uuid, r);
    if (prev != null && prev != r) {
      throw new IllegalArgumentException("duplicate token uuid " + r.uuid);
    }
    TokenRecord prevS = bySecret.putIfAbsent(r.secret(), r);
    if (prevS != null && prevS != r) {
      byUuid.remove(r.uuid, r);
      throw new IllegalArgumentException("the same secret was configured twice");
    }
  }

  public @Nullable TokenRecord byUuid(String uuid) {
    return byUuid.get(uuid);
  }

  @Nullable TokenRecord bySecret(String secret) {
    return bySecret.get(secret);
  }

  void expire(@Nullable String uuid, Instant at) {
    if (uuid == null) {
      return;
    }
    TokenRecord r = byUuid.get(uuid);
    if (r != null) {
      r.expire(at);
    }
  }

  /**
   * Validates a presented token string (v1 or v2, optionally with a 4th container component).
   *
   * @param containers looks up a container by uuid for the 4-part state check
   * @return the caller, or null when the token is unknown, malformed or expired
   */
  public @Nullable Caller validate(
      String presented, Function<String, @Nullable ContainerRecord> containers) {
    Instant now = Instant.now();
    if (presented.startsWith("v2/")) {
      String[] parts = presented.split("/", -1);
      if (parts.length < 3 || parts.length > 4) {
        return null;
      }
      String uuid = parts[1];
      String secret = parts[2];
      if (uuid.length() != 27 || secret.isEmpty()) {
        return null;
      }
      TokenRecord r = byUuid.get(uuid);
      if (r == null || !r.secretMatches(secret) || !r.isValid(now)) {
        return null;
      }
      String containerUuid = null;
      if (parts.length == 4) {
        containerUuid = parts[3];
        ContainerRecord c = containers.apply(containerUuid);
        if (c != null) {
          String auth = c.authUuid();
          if (auth != null && !auth.equals(uuid)) {
            return null;
          }
          String rt = c.runtimeToken();
          if (rt != null && !rt.equals("v2/" + uuid + "/" + secret)) {
            return null;
          }
          State st = c.state();
          if (st == null || !st.holdsLock()) {
            return null;
          }
        }
      }
      return new Caller(r, containerUuid);
    }
    TokenRecord r = bySecret.get(presented);
    if (r == null || !r.isValid(now)) {
      return null;
    }
    return new Caller(r, null);
  }

  private static String @Nullable [] splitV2(String token) {
    if (!token.startsWith("v2/")) {
      return null;
    }
    String[] p = token.split("/", -1);
    if (p.length != 3 || p[1].length() != 27 || p[2].isEmpty()) {
      return null;
    }
    return p;
  }
}

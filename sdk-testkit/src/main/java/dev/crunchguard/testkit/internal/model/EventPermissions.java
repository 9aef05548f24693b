package dev.crunchguard.testkit.internal.model;

import dev.crunchguard.testkit.internal.events.EventServer;
import org.jspecify.annotations.Nullable;

/**
 * The event stream's per-event check, as arvados-ws makes it: a GET of the object as the
 * connection's token, allowed when it would succeed. An unknown, malformed or expired token may
 * read nothing; a token's scopes apply as they would to that GET.
 */
public final class EventPermissions implements EventServer.Permissions {
  private final TokenRegistry tokens;
  private final ContainersService containers;

  /**
   * The check for one simulator.
   *
   * @param tokens its tokens
   * @param containers its containers
   */
  public EventPermissions(TokenRegistry tokens, ContainersService containers) {
    this.tokens = tokens;
    this.containers = containers;
  }

  @Override
  public boolean canRead(@Nullable String token, String uuid) {
    if (token == null || token.isEmpty()) {
      return false;
    }
    Caller caller = tokens.validate(token, containers::find);
    if (caller == null) {
      return false;
    }
    String infix = uuid.length() == 27 ? uuid.substring(6, 11) : "";
    switch (infix) {
      case "dz642":
        return containers.find(uuid) != null
            && containers.canRead(uuid, caller)
            && caller.token().scopeAllows("GET", "/arvados/v1/containers/" + uuid);
      case "xvhdp":
        try {
          containers.getRequest(uuid, caller);
        } catch (ApiException e) {
          return false;
        }
        return caller.token().scopeAllows("GET", "/arvados/v1/container_requests/" + uuid);
      case "gj3su":
        {
          TokenRecord t = tokens.byUuid(uuid);
          return t != null
              && (caller.admin() || t.ownerUuid.equals(caller.token().ownerUuid))
              && caller.token().scopeAllows("GET", "/arvados/v1/api_client_authorizations/" + uuid);
        }
      case "tpzed":
        return (caller.admin() || uuid.equals(caller.token().ownerUuid))
            && caller.token().scopeAllows("GET", "/arvados/v1/users/" + uuid);
      default:
        return caller.admin();
    }
  }
}

package dev.crunchguard.testkit;

import org.jspecify.annotations.Nullable;

/**
 * The API endpoints the simulator serves, named by their Arvados action ({@code containers.lock}).
 */
public enum Endpoint {
  /** {@code GET /arvados/v1/containers/{uuid}}. */
  GET("containers.get"),
  /** {@code GET /arvados/v1/containers}. */
  LIST("containers.list"),
  /** {@code POST /arvados/v1/containers}. */
  CREATE("containers.create"),
  /** {@code PUT|PATCH /arvados/v1/containers/{uuid}}. */
  UPDATE("containers.update"),
  /** {@code DELETE /arvados/v1/containers/{uuid}}. */
  DELETE("containers.delete"),
  /** {@code POST /arvados/v1/containers/{uuid}/lock}. */
  LOCK("containers.lock"),
  /** {@code POST /arvados/v1/containers/{uuid}/unlock}. */
  UNLOCK("containers.unlock"),
  /** {@code GET /arvados/v1/containers/{uuid}/auth}. */
  AUTH("containers.auth"),
  /** {@code GET /arvados/v1/containers/current}. */
  CURRENT("containers.current"),
  /** {@code GET /arvados/v1/containers/{uuid}/secret_mounts}. */
  SECRET_MOUNTS("containers.secret_mounts"),
  /** {@code POST /arvados/v1/containers/{uuid}/update_priority}. */
  UPDATE_PRIORITY("containers.update_priority"),
  /** {@code GET /arvados/v1/api_client_authorizations/current}. */
  TOKEN_CURRENT("api_client_authorizations.current"),
  /** {@code POST /arvados/v1/container_requests} (only what container readability needs). */
  REQUEST_CREATE("container_requests.create"),
  /** {@code GET /arvados/v1/container_requests/{uuid}}. */
  REQUEST_GET("container_requests.get");

  private final String action;

  Endpoint(String action) {
    this.action = action;
  }

  /**
   * The Arvados action name, as used by {@code API.DisabledAPIs}: {@code containers.lock}.
   *
   * @return the action name, {@code <resource>.<method>}
   */
  public String action() {
    return action;
  }

  /**
   * Looks an endpoint up by action name ({@code containers.lock}), short name ({@code lock}) or
   * enum name ({@code LOCK}).
   *
   * @param name the action name (exact), the short name of a {@code containers.*} action (exact) or
   *     the enum constant name (case-insensitive)
   * @return the endpoint, or null when there is none
   */
  public static @Nullable Endpoint parse(String name) {
    for (Endpoint e : values()) {
      if (e.action.equals(name) || e.name().equalsIgnoreCase(name)) {
        return e;
      }
      if (e.action.startsWith("containers.") && e.action.substring(11).equals(name)) {
        return e;
      }
    }
    return null;
  }
}

package dev.crunchguard.testkit.internal.events;

import com.google.gson.JsonObject;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The simulator's audit-log callbacks, turned into {@link EventLog} rows as RailsAPI writes them
 * (as services/api/app/models/arvados_model.rb logs changes, which services/ws serves): each
 * committed create, update (lock, unlock and every accepted update included) and delete of a
 * container; the container token's ({@code api_client_authorization}) {@code create} when a lock
 * mints it and {@code update} when it is expired, both logged before the container's own row
 * ({@code assign_auth} runs in {@code after_validation}, before {@code after_update}); a container
 * request's create. Raw priority changes (the controller's {@code update_priorities} SQL, a
 * container request's priority) are not audited, so they are not reported here.
 *
 * <p>The simulator calls these after committing a change and while it still holds the record's
 * lock, so one record's rows are in the order of its changes.
 */
public final class AuditLog {
  private final EventLog log;

  /**
   * An audit log writing to {@code log}.
   *
   * @param log the event log
   */
  public AuditLog(EventLog log) {
    this.log = log;
  }

  /**
   * @return the event log written to
   */
  public EventLog log() {
    return log;
  }

  /**
   * A container was created.
   *
   * @param after the record as saved
   */
  public void containerCreated(ContainerFacts after) {
    if (after.authUuid() != null) {
      tokenCreated(after);
    }
    log.append(after.uuid(), after.ownerUuid(), "create", null, attributes(after));
  }

  /**
   * A container update was accepted (lock, unlock, update, even one that changed nothing).
   *
   * @param before the record before
   * @param after the record after
   */
  public void containerUpdated(ContainerFacts before, ContainerFacts after) {
    String a0 = before.authUuid();
    String a1 = after.authUuid();
    if (a0 != null && !a0.equals(a1)) {
      log.append(a0, tokenOwner(before), "update", new JsonObject(), new JsonObject());
    }
    if (a1 != null && !a1.equals(a0)) {
      tokenCreated(after);
    }
    log.append(after.uuid(), after.ownerUuid(), "update", attributes(before), attributes(after));
  }

  /**
   * A container was deleted.
   *
   * @param before the record before the delete
   */
  public void containerDeleted(ContainerFacts before) {
    log.append(before.uuid(), before.ownerUuid(), "delete", attributes(before), null);
  }

  /**
   * A container request was created.
   *
   * @param uuid its uuid
   * @param ownerUuid its owner
   * @param state its state, for example {@code Uncommitted}
   * @param name its name, or null
   * @param requestingContainerUuid the container that made it, or null
   */
  public void requestCreated(
      String uuid,
      String ownerUuid,
      String state,
      @Nullable String name,
      @Nullable String requestingContainerUuid) {
    JsonObject a = new JsonObject();
    a.addProperty("owner_uuid", ownerUuid);
    a.addProperty("state", state);
    a.addProperty("name", name);
    a.addProperty("requesting_container_uuid", requestingContainerUuid);
    log.append(uuid, ownerUuid, "create", null, a);
  }

  private void tokenCreated(ContainerFacts after) {
    String owner = tokenOwner(after);
    log.append(Objects.requireNonNull(after.authUuid()), owner, "create", null, new JsonObject());
  }

  private static String tokenOwner(ContainerFacts c) {
    String u = c.runtimeUserUuid();
    return u == null ? "" : u;
  }

  /** Of a container's logged attributes, arvados-ws sends only these two. */
  private static JsonObject attributes(ContainerFacts c) {
    JsonObject a = new JsonObject();
    a.addProperty("owner_uuid", c.ownerUuid());
    a.addProperty("state", c.state());
    return a;
  }

  /**
   * What the audit log needs of a container record.
   *
   * @param uuid the container uuid
   * @param ownerUuid {@code owner_uuid}
   * @param state {@code state}
   * @param authUuid {@code auth_uuid}, the container token's uuid, or null
   * @param runtimeUserUuid {@code runtime_user_uuid}, the container token's owner, or null
   */
  public record ContainerFacts(
      String uuid,
      String ownerUuid,
      String state,
      @Nullable String authUuid,
      @Nullable String runtimeUserUuid) {}
}

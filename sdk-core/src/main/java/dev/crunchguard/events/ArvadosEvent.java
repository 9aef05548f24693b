package dev.crunchguard.events;

import dev.crunchguard.ContainerState;
import java.time.Instant;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One event of the Arvados event stream: a row of the server's {@code logs} table, as arvados-ws
 * sends it. Immutable.
 *
 * <p>It says <em>that</em> an object changed, and a little of how (see {@link EventAttributes}); it
 * is a snapshot of the time of the change, not the object's current state. Container events carry
 * no priority, no lock holder and no {@code auth_uuid}.
 *
 * <pre>{@code
 * public void onEvent(ArvadosEvent e) {
 *   if (e.isContainer() && e.isUpdate()
 *       && e.newState().orElse(null) == ContainerState.QUEUED) {
 *     pollSoon(e.objectUuid());   // read the container, then try to lock it
 *   }
 * }
 * }</pre>
 *
 * @param id the log id ({@code id}): rising across the cluster, but not delivered strictly in order
 * @param messageId the per-connection message counter ({@code msgID}), 0 when absent
 * @param logUuid the log row's uuid ({@code uuid}, an {@code -57u5n-} uuid), empty when absent
 * @param objectUuid the uuid of the changed object ({@code object_uuid}), empty when absent
 * @param objectOwnerUuid its owner ({@code object_owner_uuid}), empty when absent
 * @param objectKind its kind ({@code object_kind}), for example {@value #KIND_CONTAINER}
 * @param eventType {@code event_type}: {@value #CREATE}, {@value #UPDATE}, {@value #DELETE}, or
 *     another log type such as {@code "dispatch"}; empty when absent
 * @param eventAt when the change happened ({@code event_at}), null when absent
 * @param oldAttributes the attributes before the change (absent on a create)
 * @param newAttributes the attributes after the change (absent on a delete)
 * @param text {@code properties.text} of a free-text log (for example a {@code dispatch} note),
 *     null otherwise
 */
public record ArvadosEvent(
    long id,
    long messageId,
    String logUuid,
    String objectUuid,
    String objectOwnerUuid,
    String objectKind,
    String eventType,
    @Nullable Instant eventAt,
    @Nullable EventAttributes oldAttributes,
    @Nullable EventAttributes newAttributes,
    @Nullable String text) {

  /** The {@code object_kind} of a container. */
  public static final String KIND_CONTAINER = "arvados#container";

  /** The {@code object_kind} of a container request. */
  public static final String KIND_CONTAINER_REQUEST = "arvados#containerRequest";

  /** The {@code event_type} of an object's creation. */
  public static final String CREATE = "create";

  /**
   * The {@code event_type} of an object's update, a container's lock, unlock and state changes
   * included.
   */
  public static final String UPDATE = "update";

  /** The {@code event_type} of an object's deletion. */
  public static final String DELETE = "delete";

  /**
   * Validates an event (the stream builds them; tests may too).
   *
   * @param id see the record description
   * @param messageId see the record description
   * @param logUuid see the record description
   * @param objectUuid see the record description
   * @param objectOwnerUuid see the record description
   * @param objectKind see the record description
   * @param eventType see the record description
   * @param eventAt see the record description
   * @param oldAttributes see the record description
   * @param newAttributes see the record description
   * @param text see the record description
   * @throws IllegalArgumentException if {@code id} is not positive or a text field is null
   */
  public ArvadosEvent {
    if (id <= 0) {
      throw new IllegalArgumentException("event id must be positive, got " + id);
    }
    if (logUuid == null
        || objectUuid == null
        || objectOwnerUuid == null
        || objectKind == null
        || eventType == null) {
      throw new IllegalArgumentException("text fields of an event must not be null (use \"\")");
    }
  }

  /**
   * @return whether the object is a container ({@value #KIND_CONTAINER})
   */
  public boolean isContainer() {
    return KIND_CONTAINER.equals(objectKind);
  }

  /**
   * @return whether this is a {@value #CREATE} event
   */
  public boolean isCreate() {
    return CREATE.equals(eventType);
  }

  /**
   * @return whether this is an {@value #UPDATE} event
   */
  public boolean isUpdate() {
    return UPDATE.equals(eventType);
  }

  /**
   * @return whether this is a {@value #DELETE} event
   */
  public boolean isDelete() {
    return DELETE.equals(eventType);
  }

  /**
   * @return the old side, if the event carries one
   */
  public Optional<EventAttributes> oldSide() {
    return Optional.ofNullable(oldAttributes);
  }

  /**
   * @return the new side, if the event carries one
   */
  public Optional<EventAttributes> newSide() {
    return Optional.ofNullable(newAttributes);
  }

  /**
   * @return the state before the change, read as a container state, if the event carries it
   */
  public Optional<ContainerState> oldState() {
    return oldSide().flatMap(EventAttributes::containerState);
  }

  /**
   * @return the state after the change, read as a container state, if the event carries it
   */
  public Optional<ContainerState> newState() {
    return newSide().flatMap(EventAttributes::containerState);
  }
}

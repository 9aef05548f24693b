package dev.crunchguard.events;

/**
 * Server frames shaped like arvados-ws v0's (keys sorted, compact; services/ws/session_v0.go,
 * EventMessage).
 */
final class Messages {
  static final String SYSTEM_USER = "zzzzz-tpzed-000000000000000";
  static final String CONTAINER = "zzzzz-dz642-xxxxxxxxxxxxxxx";

  private Messages() {}

  /**
   * A container update moving {@code from} → {@code to}, as the lock/unlock/state changes produce.
   */
  static String containerUpdate(long id, long msgId, String from, String to) {
    return "{\"event_at\":\"2026-08-07T19:37:21.123456Z\",\"event_type\":\"update\",\"id\":"
        + id
        + ",\"msgID\":"
        + msgId
        + ",\"object_kind\":\"arvados#container\",\"object_owner_uuid\":\""
        + SYSTEM_USER
        + "\",\"object_uuid\":\""
        + CONTAINER
        + "\",\"properties\":{\"new_attributes\":{\"owner_uuid\":\""
        + SYSTEM_USER
        + "\",\"state\":\""
        + to
        + "\"},\"old_attributes\":{\"owner_uuid\":\""
        + SYSTEM_USER
        + "\",\"state\":\""
        + from
        + "\"}},\"uuid\":\"zzzzz-57u5n-"
        + String.format("%015d", id)
        + "\"}";
  }

  /** A container create: only new_attributes. */
  static String containerCreate(long id, long msgId, String uuid) {
    return "{\"event_at\":\"2026-08-07T19:37:20.5Z\",\"event_type\":\"create\",\"id\":"
        + id
        + ",\"msgID\":"
        + msgId
        + ",\"object_kind\":\"arvados#container\",\"object_owner_uuid\":\""
        + SYSTEM_USER
        + "\",\"object_uuid\":\""
        + uuid
        + "\",\"properties\":{\"new_attributes\":{\"owner_uuid\":\""
        + SYSTEM_USER
        + "\",\"state\":\"Queued\"}},"
        + "\"uuid\":\"zzzzz-57u5n-"
        + String.format("%015d", id)
        + "\"}";
  }

  /** An event of another kind (a container request update), which the server cannot filter out. */
  static String requestUpdate(long id, long msgId) {
    return "{\"event_at\":\"2026-08-07T19:37:22Z\",\"event_type\":\"update\",\"id\":"
        + id
        + ",\"msgID\":"
        + msgId
        + ",\"object_kind\":\"arvados#containerRequest\",\"object_owner_uuid\":\"zzzzz-tpzed-aaaaaaaaaaaaaaa\","
        + "\"object_uuid\":\"zzzzz-xvhdp-aaaaaaaaaaaaaaa\",\"properties\":{\"new_attributes\":{\"name\":\"wf\","
        + "\"owner_uuid\":\"zzzzz-j7d0g-aaaaaaaaaaaaaaa\",\"requesting_container_uuid\":null,\"state\":\"Committed\"},"
        + "\"old_attributes\":{\"name\":\"wf\",\"owner_uuid\":\"zzzzz-j7d0g-aaaaaaaaaaaaaaa\","
        + "\"requesting_container_uuid\":null,\"state\":\"Uncommitted\"}},\"uuid\":\"zzzzz-57u5n-"
        + String.format("%015d", id)
        + "\"}";
  }
}

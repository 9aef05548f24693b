package dev.crunchguard.testkit.internal.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.crunchguard.testkit.ClaimSource;
import dev.crunchguard.testkit.HistoryEvent;
import dev.crunchguard.testkit.WriteAction;
import dev.crunchguard.testkit.internal.events.AuditLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The containers resource: an in-memory table with one lock per row, the operations of
 * services/api/app/controllers/arvados/v1/containers_controller.rb and
 * services/api/app/controllers/application_controller.rb, and history recording. Nothing here
 * serialises unrelated containers.
 */
public final class ContainersService {
  /** One row and its lock. */
  private static final class Slot {
    final ReentrantLock lock = new ReentrantLock();
    volatile ContainerRecord record;
    volatile boolean deleted;

    Slot(ContainerRecord r) {
      this.record = r;
    }
  }

  private final String cluster;
  private final TokenRegistry tokens;
  private final ContainerRules rules;
  private final History history;
  private final Map<String, Slot> slots = new ConcurrentHashMap<>();
  private final Map<String, String> containerByAuthUuid = new ConcurrentHashMap<>();
  private final ContainerIndex index = new ContainerIndex();
  private final Caller systemCaller;
  private volatile @Nullable Duration raceWindow;
  private volatile @Nullable Runnable windowHook;
  private volatile @Nullable AuditLog audit;

  private final ContainerRequests requests;

  public ContainersService(
      String cluster,
      TokenRegistry tokens,
      ContainerRules rules,
      History history,
      ContainerRequests requests) {
    this.requests = requests;
    this.cluster = cluster;
    this.tokens = tokens;
    this.rules = rules;
    this.history = history;
    this.systemCaller =
        new Caller(
            new TokenRecord(
                Ids.systemRootTokenUuid(cluster),
                Ids.random36(50),
                Ids.systemUserUuid(cluster),
                true,
                TokenRecord.Kind.SYSTEM_ROOT,
                Json.now(),
                List.of("all")),
            null);
  }

  public Caller systemCaller() {
    return systemCaller;
  }

  /**
   * Writes committed changes to the event stream's log.
   *
   * @param audit the audit log, or null for no events
   */
  public void setAudit(@Nullable AuditLog audit) {
    this.audit = audit;
  }

  private static AuditLog.ContainerFacts facts(ContainerRecord r) {
    return new AuditLog.ContainerFacts(
        r.uuid(),
        String.valueOf(r.string(Attr.OWNER_UUID)),
        String.valueOf(r.string(Attr.STATE)),
        r.authUuid(),
        r.string(Attr.RUNTIME_USER_UUID));
  }

  /**
   * Enables (non-null) or disables (null) the real server's update window (src/docs/simulator.md,
   * section 5).
   */
  public void setRaceWindow(@Nullable Duration pause) {
    this.raceWindow = pause;
  }

  @Nullable Duration raceWindow() {
    return raceWindow;
  }

  /** Test hook: runs inside the update window, after validation and before the pause. */
  public void setWindowHook(@Nullable Runnable hook) {
    this.windowHook = hook;
  }

  public @Nullable ContainerRecord find(String uuid) {
    Slot s = slots.get(uuid);
    return s == null || s.deleted ? null : s.record;
  }

  public Collection<ContainerRecord> all() {
    List<ContainerRecord> out = new ArrayList<>(slots.size());
    for (Slot s : slots.values()) {
      if (!s.deleted) {
        out.add(s.record);
      }
    }
    return out;
  }

  /** The secondary indexes, kept in step with every row under the row's lock. */
  ContainerIndex index() {
    return index;
  }

  /**
   * The list endpoint: the envelope of {@code query} over the containers {@code caller} can read,
   * through the index where the query allows (src/docs/simulator.md, "List queries").
   *
   * @param query the parsed list parameters
   * @param caller who lists
   * @return the response body
   */
  public JsonObject list(ListQuery query, Caller caller) {
    return query.answer(this, caller).envelope();
  }

  /**
   * Container.readable_by: admins read every container; anyone else (users, container and runtime
   * tokens, whose user is the token's owner) only those with a container request the user owns.
   * Unreadable is indistinguishable from nonexistent: 404.
   */
  private Slot readable(String uuid, Caller caller) {
    Slot s = slots.get(uuid);
    if (s == null || s.deleted || !canRead(uuid, caller)) {
      throw ApiException.notFound();
    }
    return s;
  }

  boolean canRead(String uuid, Caller caller) {
    return caller.admin() || requests.readableThrough(uuid, caller.token().ownerUuid);
  }

  /** The containers {@code caller} can read (the list endpoint's scope). */
  public Collection<ContainerRecord> readableBy(Caller caller) {
    if (caller.admin()) {
      return all();
    }
    List<ContainerRecord> out = new ArrayList<>();
    for (ContainerRecord r : all()) {
      if (canRead(r.uuid(), caller)) {
        out.add(r);
      }
    }
    return out;
  }

  /**
   * Creates a container request; one naming a container recomputes that container's priority
   * (update_priorities: the highest Committed request's; requests here are never Committed, so 0),
   * raw like the controller's fixer.
   */
  public JsonObject createRequest(Map<String, JsonElement> attrs, Caller caller) {
    JsonObject r = requests.create(attrs, caller, u -> find(u) != null);
    AuditLog a = audit;
    if (a != null) {
      a.requestCreated(
          r.get("uuid").getAsString(),
          String.valueOf(Json.asString(r.get("owner_uuid"))),
          String.valueOf(Json.asString(r.get("state"))),
          Json.asString(r.get("name")),
          Json.asString(r.get("requesting_container_uuid")));
    }
    String c = Json.asString(r.get("container_uuid"));
    if (c != null) {
      setPriorityDirect(c, 0);
    }
    return r;
  }

  /** update_priority: recomputed from Committed container requests (none are modelled: 0). */
  public ContainerRecord updatePriority(String uuid, Caller caller) {
    readable(uuid, caller);
    return setPriorityDirect(uuid, 0);
  }

  public JsonObject getRequest(String uuid, Caller caller) {
    return requests.get(uuid, caller);
  }

  public ContainerRecord get(String uuid, Caller caller) {
    return readable(uuid, caller).record;
  }

  public ContainerRecord create(Map<String, JsonElement> attrs, Caller caller, RequestContext ctx) {
    String uuid;
    do {
      uuid = Ids.uuid(cluster, "dz642");
    } while (slots.containsKey(uuid));
    // A rejected create has no container yet: it is not part of any container's history.
    ContainerRules.Saved saved = rules.create(uuid, attrs, caller);
    // The create response shows the record as saved; every later load sees after_find's defaults.
    Slot slot = new Slot(ContainerRules.afterFind(saved.record));
    slot.lock.lock();
    try {
      slots.put(uuid, slot);
      index.replace(null, slot.record);
      AuditLog a = audit;
      if (a != null) {
        a.containerCreated(facts(saved.record));
      }
      recordEvent(
          WriteAction.CREATE, uuid, ctx, caller, attrs, null, saved.record, saved.record, null);
    } finally {
      slot.lock.unlock();
    }
    return saved.record;
  }

  public ContainerRecord update(
      String uuid, Map<String, JsonElement> attrs, Caller caller, RequestContext ctx) {
    Slot s = readable(uuid, caller);
    Duration window = raceWindow;
    if (window != null) {
      return updateWithWindow(s, uuid, attrs, caller, ctx, window);
    }
    String requested = requestedState(attrs);
    return underLock(
        s,
        uuid,
        WriteAction.UPDATE,
        ctx,
        caller,
        attrs,
        requested,
        cur -> rules.save(cur, attrs, caller, ContainerRules.Action.UPDATE));
  }

  /**
   * Real Arvados (src/docs/simulator.md, section 5;
   * services/api/app/controllers/arvados/v1/containers_controller.rb update): validate against a
   * row read without a lock, optionally pause, then take the row lock and write the changed columns
   * without re-validating.
   */
  private ContainerRecord updateWithWindow(
      Slot s,
      String uuid,
      Map<String, JsonElement> attrs,
      Caller caller,
      RequestContext ctx,
      Duration pause) {
    ContainerRecord snapshot = s.record;
    ContainerRules.Saved saved;
    try {
      saved = rules.save(snapshot, attrs, caller, ContainerRules.Action.UPDATE);
    } catch (ApiException e) {
      s.lock.lock();
      try {
        recordEvent(
            WriteAction.UPDATE, uuid, ctx, caller, attrs, requestedState(attrs), s.record, null, e);
      } finally {
        s.lock.unlock();
      }
      throw e;
    }
    Runnable hook = windowHook;
    if (hook != null) {
      hook.run();
    }
    if (!pause.isZero()) {
      try {
        Thread.sleep(pause.toMillis(), pause.toNanosPart() % 1_000_000);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
    s.lock.lock();
    try {
      ContainerRecord current = s.record;
      ContainerRecord written = current;
      if (saved.changed) {
        EnumMap<Attr, JsonElement> merged = current.mutableCopy();
        for (Attr a : Attr.values()) {
          JsonElement after = saved.record.get(a);
          if (!after.equals(snapshot.get(a))) {
            merged.put(a, after);
          }
        }
        written = new ContainerRecord(merged);
        commit(s, current, written);
      }
      AuditLog a = audit;
      if (a != null) {
        a.containerUpdated(facts(current), facts(written));
      }
      recordEvent(
          WriteAction.UPDATE,
          uuid,
          ctx,
          caller,
          attrs,
          requestedState(attrs),
          current,
          written,
          null);
      return written;
    } finally {
      s.lock.unlock();
    }
  }

  public ContainerRecord lock(String uuid, Caller caller, RequestContext ctx) {
    return endpointTransition(
        uuid,
        caller,
        ctx,
        WriteAction.LOCK,
        State.QUEUED,
        State.LOCKED,
        "ArvadosModel::LockFailedError",
        "cannot lock when ",
        ContainerRules.Action.LOCK);
  }

  public ContainerRecord unlock(String uuid, Caller caller, RequestContext ctx) {
    return endpointTransition(
        uuid,
        caller,
        ctx,
        WriteAction.UNLOCK,
        State.LOCKED,
        State.QUEUED,
        "ArvadosModel::InvalidStateTransitionError",
        "cannot unlock when ",
        ContainerRules.Action.UNLOCK);
  }

  /**
   * The lock and unlock endpoints: under the container's lock, refuse unless the state is {@code
   * from} (the endpoint's own 422), then save the change to {@code to} through the rules.
   */
  private ContainerRecord endpointTransition(
      String uuid,
      Caller caller,
      RequestContext ctx,
      WriteAction action,
      State from,
      State to,
      String errorClass,
      String refusal,
      ContainerRules.Action rulesAction) {
    Slot s = readable(uuid, caller);
    Map<String, JsonElement> attrs = Map.of("state", new JsonPrimitive(to.wire));
    return underLock(
        s,
        uuid,
        action,
        ctx,
        caller,
        Map.of(),
        to.wire,
        cur -> {
          if (cur.state() != from) {
            throw ApiException.raised(422, errorClass, refusal + cur.string(Attr.STATE));
          }
          return rules.save(cur, attrs, caller, rulesAction);
        });
  }

  public ContainerRecord delete(String uuid, Caller caller, RequestContext ctx) {
    Slot s = readable(uuid, caller);
    s.lock.lock();
    try {
      if (s.deleted) {
        throw ApiException.notFound();
      }
      ContainerRecord cur = s.record;
      if (!caller.admin()) {
        ApiException e = ApiException.permissionDenied();
        recordEvent(WriteAction.DELETE, uuid, ctx, caller, Map.of(), null, cur, null, e);
        throw e;
      }
      s.deleted = true;
      slots.remove(uuid, s);
      index.replace(cur, null);
      String auth = cur.authUuid();
      if (auth != null) {
        containerByAuthUuid.remove(auth, uuid);
      }
      AuditLog a = audit;
      if (a != null) {
        a.containerDeleted(facts(cur));
      }
      recordEvent(WriteAction.DELETE, uuid, ctx, caller, Map.of(), null, cur, cur, null);
      return cur;
    } finally {
      s.lock.unlock();
    }
  }

  private interface Step {
    ContainerRules.Saved apply(ContainerRecord current);
  }

  private ContainerRecord underLock(
      Slot s,
      String uuid,
      WriteAction action,
      RequestContext ctx,
      Caller caller,
      Map<String, JsonElement> attrs,
      @Nullable String requestedState,
      Step step) {
    s.lock.lock();
    try {
      if (s.deleted) {
        throw ApiException.notFound();
      }
      ContainerRecord cur = s.record;
      ContainerRules.Saved saved;
      try {
        saved = step.apply(cur);
      } catch (ApiException e) {
        recordEvent(action, uuid, ctx, caller, attrs, requestedState, cur, null, e);
        throw e;
      }
      if (saved.changed) {
        commit(s, cur, saved.record);
      }
      AuditLog a = audit;
      if (a != null) {
        a.containerUpdated(facts(cur), facts(saved.record));
      }
      recordEvent(action, uuid, ctx, caller, attrs, requestedState, cur, saved.record, null);
      return saved.record;
    } finally {
      s.lock.unlock();
    }
  }

  private void commit(Slot s, ContainerRecord before, ContainerRecord after) {
    s.record = after;
    if (!s.deleted) {
      index.replace(before, after); // a deleted row (a windowed update racing delete) left it
    }
    String a0 = before.authUuid();
    String a1 = after.authUuid();
    if (!Objects.equals(a0, a1)) {
      if (a0 != null) {
        containerByAuthUuid.remove(a0, after.uuid());
      }
      if (a1 != null) {
        containerByAuthUuid.put(a1, after.uuid());
      }
    }
  }

  /** Sets priority like the controller's background fixer: raw, no callbacks, no modified_at. */
  public ContainerRecord setPriorityDirect(String uuid, long priority) {
    if (priority < 0) {
      throw new IllegalArgumentException("priority must be >= 0");
    }
    Slot s = slots.get(uuid);
    if (s == null || s.deleted) {
      throw new IllegalArgumentException("no such container: " + uuid);
    }
    s.lock.lock();
    try {
      if (s.deleted) {
        throw new IllegalArgumentException("no such container: " + uuid);
      }
      ContainerRecord before = s.record;
      EnumMap<Attr, JsonElement> m = before.mutableCopy();
      m.put(Attr.PRIORITY, new JsonPrimitive(priority));
      ContainerRecord r = new ContainerRecord(m);
      s.record = r;
      index.replace(before, r);
      return r;
    } finally {
      s.lock.unlock();
    }
  }

  /** {@code Container.for_current_token} (container.rb:485-496). */
  public @Nullable ContainerRecord forCurrentToken(Caller caller) {
    String byAuth = containerByAuthUuid.get(caller.tokenUuid());
    if (byAuth != null) {
      ContainerRecord r = find(byAuth);
      if (r != null && caller.tokenUuid().equals(r.authUuid())) {
        return r;
      }
    }
    if (caller.containerUuid() != null) {
      ContainerRecord r = find(caller.containerUuid());
      if (r != null && caller.presented(r.runtimeToken())) {
        return r;
      }
    }
    return null;
  }

  public JsonObject auth(String uuid, Caller caller) {
    ContainerRecord c = get(uuid, caller);
    if (!caller.tokenUuid().equals(c.lockedByUuid())) {
      throw ApiException.permissionDenied("Not locked by your token");
    }
    String rt = c.runtimeToken();
    if (rt == null) {
      String auth = c.authUuid();
      TokenRecord t = auth == null ? null : tokens.byUuid(auth);
      if (t == null) {
        throw ApiException.notFound();
      }
      return t.renderForAuth();
    }
    Caller rc = tokens.validate(rt, this::find);
    if (rc == null) {
      throw ApiException.permissionDenied("Invalid runtime_token");
    }
    return rc.token().renderForAuth();
  }

  public JsonObject secretMounts(String uuid, Caller caller) {
    ContainerRecord c = get(uuid, caller);
    ContainerRecord mine = forCurrentToken(caller);
    if (mine == null || !mine.uuid().equals(c.uuid())) {
      throw ApiException.rails(403, "Token is not associated with this container.");
    }
    JsonObject o = new JsonObject();
    o.add("secret_mounts", c.get(Attr.SECRET_MOUNTS));
    return o;
  }

  /** Runs {@code body} while holding one container's row lock (tests of lock granularity). */
  public void withRowLock(String uuid, Runnable body) {
    Slot s = slots.get(uuid);
    if (s == null) {
      throw new IllegalArgumentException("no such container");
    }
    s.lock.lock();
    try {
      body.run();
    } finally {
      s.lock.unlock();
    }
  }

  void clearAll() {
    requests.clear();
    slots.clear();
    containerByAuthUuid.clear();
    index.clear();
  }

  private static @Nullable String requestedState(Map<String, JsonElement> attrs) {
    JsonElement s = attrs.get("state");
    return s == null || !s.isJsonPrimitive() ? null : s.getAsString();
  }

  private void recordEvent(
      WriteAction action,
      String uuid,
      RequestContext ctx,
      Caller caller,
      Map<String, JsonElement> attrs,
      @Nullable String requestedState,
      ContainerRecord before,
      @Nullable ContainerRecord after,
      @Nullable ApiException error) {
    if (!history.enabled()) {
      return;
    }
    ClaimSource source = ClaimSource.NONE;
    String claimed = null;
    if (attrs.containsKey("auth_uuid")) {
      source = ClaimSource.BODY;
      JsonElement v = attrs.get("auth_uuid");
      claimed =
          v == null || v.isJsonNull() ? null : v.isJsonPrimitive() ? v.getAsString() : v.toString();
    } else if (ctx.headerEpochPresent()) {
      source = ClaimSource.HEADER;
      String h = ctx.headerEpoch();
      claimed = h == null || h.isEmpty() || "null".equals(h) ? null : h;
    }
    ContainerRecord end = after != null ? after : before;
    history.add(
        new HistoryEvent(
            history.nextSequence(),
            System.nanoTime(),
            uuid,
            action,
            ctx.requestId(),
            caller == systemCaller ? null : caller.tokenUuid(),
            ctx.clientIdentity(),
            action == WriteAction.CREATE ? null : before.authUuid(),
            end.authUuid(),
            source,
            claimed,
            error == null,
            error == null ? 200 : error.status,
            error != null && error.isStaleAuthUuid(),
            requestedState,
            action == WriteAction.CREATE ? null : before.string(Attr.STATE),
            end.string(Attr.STATE),
            action == WriteAction.CREATE ? 0 : before.longValue(Attr.LOCK_COUNT),
            new LinkedHashSet<>(attrs.keySet()),
            error == null ? List.of() : error.messages));
  }
}

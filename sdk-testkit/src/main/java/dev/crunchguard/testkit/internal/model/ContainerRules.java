package dev.crunchguard.testkit.internal.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The container save pipeline of spec §4.3–4.9, written from the specification: callbacks,
 * validations, the who-may-change-what whitelist, lock bookkeeping and the container token life
 * cycle. It is a pure function of (previous record, request, caller) apart from minting and
 * expiring tokens, which it does only once every check has passed.
 */
public final class ContainerRules {
  /** What kind of save this is. */
  enum Action {
    CREATE,
    UPDATE,
    LOCK,
    UNLOCK
  }

  static final Set<Attr> PROGRESS =
      EnumSet.of(
          Attr.PROGRESS,
          Attr.RUNTIME_STATUS,
          Attr.SUBREQUESTS_COST,
          Attr.COST,
          Attr.LOG,
          Attr.OUTPUT,
          Attr.OUTPUT_PROPERTIES,
          Attr.EXIT_CODE);

  static final Set<Attr> CREATION =
      EnumSet.of(
          Attr.COMMAND,
          Attr.CONTAINER_IMAGE,
          Attr.CWD,
          Attr.ENVIRONMENT,
          Attr.MOUNTS,
          Attr.OUTPUT_PATH,
          Attr.PRIORITY,
          Attr.RUNTIME_CONSTRAINTS,
          Attr.SCHEDULING_PARAMETERS,
          Attr.SECRET_MOUNTS,
          Attr.RUNTIME_TOKEN,
          Attr.RUNTIME_USER_UUID,
          Attr.RUNTIME_AUTH_SCOPES,
          Attr.OUTPUT_STORAGE_CLASSES,
          Attr.OUTPUT_GLOB,
          Attr.SERVICE,
          Attr.PUBLISHED_PORTS);

  /** The empty collection, which every cluster has (database seeds), readable by everyone. */
  static final String EMPTY_COLLECTION_PDH = "d41d8cd98f00b204e9800998ecf8427e+0";

  /** {@code validates ..., presence: true}, in declaration order. */
  static final List<Attr> PRESENCE =
      List.of(Attr.COMMAND, Attr.CONTAINER_IMAGE, Attr.OUTPUT_PATH, Attr.CWD, Attr.PRIORITY);

  private static void fillIfNull(EnumMap<Attr, JsonElement> m, Attr a, JsonElement v) {
    if (m.get(a).isJsonNull()) {
      m.put(a, v);
    }
  }

  /** Rails' {@code blank?}: nil, empty or whitespace-only strings, empty arrays and hashes. */
  private static boolean blank(JsonElement v) {
    if (v == null || v.isJsonNull()) {
      return true;
    }
    if (v.isJsonPrimitive()) {
      return v.getAsJsonPrimitive().isString() && v.getAsString().isBlank();
    }
    return v.isJsonArray() ? v.getAsJsonArray().isEmpty() : v.getAsJsonObject().isEmpty();
  }

  static final List<String> RUNTIME_STATUS_STRING_KEYS =
      List.of("error", "errorDetail", "warning", "warningDetail", "activity", "preemptionNotice");

  /** Keys silently dropped from the resource hash (application_controller.rb:403-405). */
  public static final Set<String> ALWAYS_DROPPED =
      Set.of("created_at", "modified_by_client_uuid", "modified_by_user_uuid", "modified_at");

  /**
   * What Ruby 3's error_highlight appends to the message of an unknown attribute error on the real
   * server (the line of ActiveModel that raised it).
   */
  static final String UNKNOWN_ATTRIBUTE_HIGHLIGHT =
      "\n\n          raise UnknownAttributeError.new(self, k.to_s)\n          ^^^^^";

  /** Keys dropped in update only (application_controller.rb:121-127). */
  public static final Set<String> DROPPED_ON_UPDATE = Set.of("kind", "etag", "href");

  private final TokenRegistry tokens;
  private final int maxDispatchAttempts;
  private final Function<String, @Nullable String> requester;

  /**
   * @param requester container uuid to the {@code modified_by_user_uuid} of its highest-priority
   *     container request with priority &gt; 0, or null (assign_auth's legacy token owner)
   */
  public ContainerRules(
      TokenRegistry tokens, int maxDispatchAttempts, Function<String, @Nullable String> requester) {
    this.tokens = tokens;
    this.maxDispatchAttempts = maxDispatchAttempts;
    this.requester = requester;
  }

  int maxDispatchAttempts() {
    return maxDispatchAttempts;
  }

  /** The result of a successful save. */
  static final class Saved {
    final ContainerRecord record;
    final boolean changed;

    Saved(ContainerRecord record, boolean changed) {
      this.record = record;
      this.changed = changed;
    }
  }

  /** A fresh Queued container with the server defaults (container.rb:525-534). */
  EnumMap<Attr, JsonElement> defaults(String uuid, String modifiedBy, Instant now) {
    // The creator owns the container (real server: owner_uuid = the creating user).
    EnumMap<Attr, JsonElement> m = new EnumMap<>(Attr.class);
    for (Attr a : Attr.values()) {
      m.put(a, JsonNull.INSTANCE);
    }
    String ts = Json.formatTime(now);
    m.put(Attr.UUID, new JsonPrimitive(uuid));
    m.put(Attr.OWNER_UUID, new JsonPrimitive(modifiedBy));
    m.put(Attr.CREATED_AT, new JsonPrimitive(ts));
    m.put(Attr.MODIFIED_AT, new JsonPrimitive(ts));
    m.put(Attr.MODIFIED_BY_USER_UUID, new JsonPrimitive(modifiedBy));
    m.put(Attr.COMMAND, new JsonArray());
    m.put(Attr.CONTAINER_IMAGE, new JsonPrimitive(""));
    m.put(Attr.CWD, new JsonPrimitive("."));
    m.put(Attr.ENVIRONMENT, new JsonObject());
    m.put(Attr.MOUNTS, new JsonObject());
    m.put(Attr.OUTPUT_PATH, new JsonPrimitive(""));
    m.put(Attr.OUTPUT_GLOB, new JsonArray());
    m.put(Attr.PRIORITY, new JsonPrimitive(0L));
    m.put(Attr.RUNTIME_CONSTRAINTS, new JsonObject());
    m.put(Attr.RUNTIME_STATUS, new JsonObject());
    m.put(Attr.STATE, new JsonPrimitive(State.QUEUED.wire));
    m.put(Attr.SCHEDULING_PARAMETERS, new JsonObject());
    m.put(Attr.RUNTIME_AUTH_SCOPES, new JsonArray());
    m.put(Attr.LOCK_COUNT, new JsonPrimitive(0L));
    m.put(Attr.INTERACTIVE_SESSION_STARTED, new JsonPrimitive(false));
    m.put(Attr.OUTPUT_STORAGE_CLASSES, Json.stringArray(List.of("default")));
    m.put(Attr.OUTPUT_PROPERTIES, new JsonObject());
    m.put(Attr.COST, new JsonPrimitive(0.0));
    m.put(Attr.SUBREQUESTS_COST, new JsonPrimitive(0.0));
    m.put(Attr.SERVICE, new JsonPrimitive(false));
    m.put(Attr.PUBLISHED_PORTS, new JsonObject());
    m.put(Attr.SECRET_MOUNTS, new JsonObject());
    return m;
  }

  /**
   * Creates a container. Admin only.
   *
   * @param attrs the client's attribute hash (already stripped of always-dropped keys)
   */
  Saved create(String uuid, Map<String, JsonElement> attrs, Caller caller) {
    if (!caller.admin()) {
      throw ApiException.permissionDenied();
    }
    Instant now = Json.now();
    ContainerRecord base = new ContainerRecord(defaults(uuid, caller.token().ownerUuid, now));
    Saved s = save(base, attrs, caller, Action.CREATE, now);
    String rt = s.record.runtimeToken();
    if (rt != null) {
      String ru = s.record.string(Attr.RUNTIME_USER_UUID);
      String problem =
          tokens.registerRuntimeToken(rt, ru != null ? ru : Ids.systemUserUuid(tokens.cluster()));
      if (problem != null) {
        throw ApiException.invalid(List.of(problem));
      }
    }
    return s;
  }

  /**
   * The record as the server loads it from the database (container.rb's {@code after_find}
   * callback): {@code runtime_constraints} and {@code scheduling_parameters} get their defaults
   * merged in (shallow: a given key replaces the default whole). Only the create response shows the
   * record before this.
   */
  static ContainerRecord afterFind(ContainerRecord r) {
    EnumMap<Attr, JsonElement> m = r.mutableCopy();
    m.put(
        Attr.RUNTIME_CONSTRAINTS,
        withDefaults(RUNTIME_CONSTRAINTS_DEFAULTS, m.get(Attr.RUNTIME_CONSTRAINTS)));
    m.put(
        Attr.SCHEDULING_PARAMETERS,
        withDefaults(SCHEDULING_DEFAULTS, m.get(Attr.SCHEDULING_PARAMETERS)));
    return new ContainerRecord(m);
  }

  /**
   * Current Arvados (arvados_model.rb fill_container_defaults); the Rails 6.1 revision had {@code
   * cuda}.
   */
  static final String RUNTIME_CONSTRAINTS_DEFAULTS =
      "{\"API\":false,\"gpu\":{},\"keep_cache_disk\":0,\"keep_cache_ram\":0,\"ram\":0,\"vcpus\":0}";

  private static final String GPU_DEFAULTS =
      "{\"device_count\":0,\"driver_version\":\"\",\"hardware_target\":[],\"stack\":\"\",\"vram\":0}";
  static final String SCHEDULING_DEFAULTS =
      "{\"max_run_time\":0,\"partitions\":[],\"preemptible\":false,\"supervisor\":false}";

  /**
   * {@code defaults.merge(given)} (shallow), for a hash value; anything else is left alone. For
   * runtime constraints, a {@code gpu} hash gets its own defaults merged in too.
   */
  static JsonElement withDefaults(String defaults, JsonElement given) {
    if (!given.isJsonObject()) {
      return given;
    }
    JsonObject d = com.google.gson.JsonParser.parseString(defaults).getAsJsonObject();
    given.getAsJsonObject().entrySet().forEach(e -> d.add(e.getKey(), e.getValue()));
    if (defaults.equals(RUNTIME_CONSTRAINTS_DEFAULTS) && d.get("gpu").isJsonObject()) {
      d.add("gpu", withDefaults(GPU_DEFAULTS, d.get("gpu")));
    }
    return d;
  }

  /** Runs the whole pipeline for an update, lock or unlock of {@code old}. */
  Saved save(ContainerRecord old, Map<String, JsonElement> attrs, Caller caller, Action action) {
    return save(old, attrs, caller, action, Json.now());
  }

  private Saved save(
      ContainerRecord old,
      Map<String, JsonElement> attrs,
      Caller caller,
      Action action,
      Instant now) {
    boolean create = action == Action.CREATE;
    List<String> errors = new ArrayList<>();
    EnumMap<Attr, JsonElement> next = old.mutableCopy();
    LinkedHashSet<Attr> assignedOrder = new LinkedHashSet<>();
    boolean priorityTypeError = false;
    String priorityError = null;

    // 1. Assign attributes (unknown attribute raises; coercion problems are validation errors).
    for (Map.Entry<String, JsonElement> e : attrs.entrySet()) {
      Attr a = Attr.byName(e.getKey());
      if (a == null) {
        throw ApiException.raised(
            422,
            "ActiveModel::UnknownAttributeError",
            "unknown attribute '" + e.getKey() + "' for Container." + UNKNOWN_ATTRIBUTE_HIGHLIGHT);
      }
      try {
        next.put(a, a.coerce(e.getValue()));
        assignedOrder.add(a);
      } catch (Attr.CoercionException ex) {
        if (ex.raised) {
          throw ApiException.unprocessable(ex.getMessage());
        }
        if (a == Attr.PRIORITY) {
          // Rails casts the value (to nil when it cannot), then presence runs before numericality.
          priorityTypeError = true;
          priorityError = ex.getMessage();
          JsonElement cast = Attr.castPriority(e.getValue());
          next.put(a, cast);
          assignedOrder.add(a);
        } else {
          errors.add(ex.getMessage());
        }
      }
    }

    // fill_field_defaults (before_validation, new records only): nil becomes the default.
    if (create) {
      fillIfNull(next, Attr.STATE, new JsonPrimitive(State.QUEUED.wire));
      fillIfNull(next, Attr.CWD, new JsonPrimitive("."));
      fillIfNull(next, Attr.PRIORITY, new JsonPrimitive(0L));
    }

    State oldState = create ? null : old.state();
    String newStateRaw = Json.asString(next.get(Attr.STATE));
    State newState = State.parse(newStateRaw);
    boolean stateChanged = create || !Objects.equals(next.get(Attr.STATE), old.get(Attr.STATE));

    // 2. set_timestamps
    if (stateChanged && newState == State.RUNNING && next.get(Attr.STARTED_AT).isJsonNull()) {
      next.put(Attr.STARTED_AT, new JsonPrimitive(Json.formatTime(now)));
    }
    if (stateChanged
        && newState != null
        && newState.isFinal()
        && next.get(Attr.FINISHED_AT).isJsonNull()) {
      next.put(Attr.FINISHED_AT, new JsonPrimitive(Json.formatTime(now)));
    }

    // 3. check_lock (may raise)
    if (!create && oldState == State.QUEUED && newState == State.LOCKED) {
      JsonElement p = next.get(Attr.PRIORITY);
      if (p.isJsonNull() || p.getAsLong() <= 0) {
        throw ApiException.raised(
            422, "ArvadosModel::LockFailedError", "cannot lock when priority<=0");
      }
      next.put(Attr.LOCK_COUNT, new JsonPrimitive(old.longValue(Attr.LOCK_COUNT) + 1));
    }

    // 4. check_unlock (may raise; may turn the requeue into a cancel)
    if (!create && oldState == State.LOCKED && newState == State.QUEUED) {
      // The value after assignment: a requeue that also sends locked_by_uuid null is refused.
      if (!caller.tokenUuid().equals(Json.asString(next.get(Attr.LOCKED_BY_UUID)))) {
        throw ApiException.permissionDenied("locked by a different token");
      }
      long lockCount =
          next.get(Attr.LOCK_COUNT).isJsonNull() ? 0 : next.get(Attr.LOCK_COUNT).getAsLong();
      if (lockCount >= maxDispatchAttempts) {
        newStateRaw = State.CANCELLED.wire;
        newState = State.CANCELLED;
        next.put(Attr.STATE, new JsonPrimitive(newStateRaw));
        JsonObject rs = new JsonObject();
        rs.addProperty(
            "error",
            "Failed to start container.  Cancelled after exceeding 'Containers.MaxDispatchAttempts' (lock_count="
                + lockCount
                + ")");
        next.put(Attr.RUNTIME_STATUS, rs);
      }
    }

    // 5. presence (container.rb: command, container_image, output_path, cwd, priority), then
    // priority's numericality, then NOT NULL columns
    for (Attr a : PRESENCE) {
      if (blank(next.get(a))) {
        errors.add(a.human() + " can't be blank");
      }
    }
    JsonElement prio = next.get(Attr.PRIORITY);
    if (priorityTypeError) {
      errors.add(priorityError);
    } else if (prio.isJsonNull()) {
      errors.add("Priority is not a number");
    } else if (prio.getAsLong() < 0) {
      errors.add("Priority must be greater than or equal to 0");
    }
    for (Attr a : Attr.values()) {
      if (!a.nullable() && a != Attr.STATE && !PRESENCE.contains(a) && next.get(a).isJsonNull()) {
        errors.add(a.human() + " can't be blank");
      }
    }

    // 6. validate_runtime_status
    JsonElement rs = next.get(Attr.RUNTIME_STATUS);
    if (rs.isJsonObject() && changed(old, next, Attr.RUNTIME_STATUS, create)) {
      for (String k : RUNTIME_STATUS_STRING_KEYS) {
        JsonElement v = rs.getAsJsonObject().get(k);
        if (v != null && !(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
          errors.add("Runtime status '" + k + "' value must be a string");
        }
      }
    }

    // 7. validate_state_change
    if (stateChanged) {
      boolean ok =
          create
              ? newState == State.QUEUED
              : oldState != null && newState != null && oldState.allowedNext().contains(newState);
      if (!ok) {
        errors.add(
            "State cannot change from "
                + (create || oldState == null ? "" : oldState.wire)
                + " to "
                + (newStateRaw == null ? "" : newStateRaw));
      }
    }

    // 8. validate_change: who may change what (may raise 403)
    Set<Attr> permitted = permitted(old, next, caller, create, oldState, newState, stateChanged);
    LinkedHashSet<Attr> order = new LinkedHashSet<>(assignedOrder);
    for (Attr a : Attr.values()) {
      order.add(a);
    }
    for (Attr a : order) {
      if (a == Attr.UUID && create) {
        continue;
      }
      if (whitelistChanged(old, next, a, create) && !permitted.contains(a)) {
        errors.add(
            a.human()
                + " cannot be modified in state '"
                + (newStateRaw == null ? "" : newStateRaw)
                + "' ("
                + a.inspect(create ? JsonNull.INSTANCE : old.get(a))
                + ", "
                + a.inspect(next.get(a))
                + ")");
      }
    }

    // 9. validate_lock
    String needLock =
        newState != null && newState.holdsLock()
            ? (old.lockedByUuid() != null && !create ? old.lockedByUuid() : caller.tokenUuid())
            : null;
    if (changed(old, next, Attr.LOCKED_BY_UUID, create)
        && !Objects.equals(Json.asString(next.get(Attr.LOCKED_BY_UUID)), needLock)) {
      errors.add("Locked by uuid can only change to " + (needLock == null ? "" : needLock));
    }
    next.put(Attr.LOCKED_BY_UUID, Json.str(needLock));

    // 9b. validate_output: the output must be a readable collection's portable data hash. The
    // only collection here is the one every cluster has, the empty collection.
    if (changed(old, next, Attr.OUTPUT, create)
        && !EMPTY_COLLECTION_PDH.equals(Json.asString(next.get(Attr.OUTPUT)))) {
      errors.add("Output collection must exist and be readable by current user.");
    }

    // 10. assign_auth (after_validation)
    boolean authChangedByClient = changed(old, next, Attr.AUTH_UUID, create);
    String auth = Json.asString(next.get(Attr.AUTH_UUID));
    boolean mint = false;
    if (authChangedByClient) {
      errors.add("Auth uuid is readonly");
    } else if (newState != null
        && newState.holdsLock()
        && auth == null
        && next.get(Attr.RUNTIME_TOKEN).isJsonNull()) {
      mint = true;
      if (next.get(Attr.RUNTIME_USER_UUID).isJsonNull()) {
        // Legacy path: the user of the highest-priority container request, else refused.
        String fromRequest = create ? null : requester.apply(old.uuid());
        if (fromRequest == null) {
          errors.add("Auth uuid cannot be assigned because priority <= 0");
        } else {
          next.put(Attr.RUNTIME_USER_UUID, new JsonPrimitive(fromRequest));
          next.put(Attr.RUNTIME_AUTH_SCOPES, Json.stringArray(List.of("all")));
        }
      }
    }
    if (!errors.isEmpty()) {
      throw ApiException.invalid(errors);
    }
    if (newState == null || !newState.holdsLock()) {
      if (auth != null) {
        tokens.expire(auth, now);
        next.put(Attr.AUTH_UUID, JsonNull.INSTANCE);
      }
    } else if (mint) {
      String owner = Json.asString(next.get(Attr.RUNTIME_USER_UUID));
      List<String> scopes = new ArrayList<>();
      for (JsonElement s : next.get(Attr.RUNTIME_AUTH_SCOPES).getAsJsonArray()) {
        scopes.add(s.getAsString());
      }
      TokenRecord t =
          tokens.mintContainerToken(
              owner != null ? owner : Ids.systemUserUuid(tokens.cluster()), scopes);
      next.put(Attr.AUTH_UUID, new JsonPrimitive(t.uuid));
    }

    // 11. before_save: sort_serialized_attrs (hash keys deep-sorted, scopes sorted when changed),
    // scrub secrets, clear runtime_status when requeued
    for (Attr a :
        List.of(
            Attr.ENVIRONMENT, Attr.MOUNTS, Attr.RUNTIME_CONSTRAINTS, Attr.SCHEDULING_PARAMETERS)) {
      if (changed(old, next, a, create) && next.get(a).isJsonObject()) {
        next.put(a, Json.deepSorted(next.get(a)));
      }
    }
    if (changed(old, next, Attr.RUNTIME_AUTH_SCOPES, create)
        && next.get(Attr.RUNTIME_AUTH_SCOPES).isJsonArray()) {
      List<String> sorted = new ArrayList<>();
      next.get(Attr.RUNTIME_AUTH_SCOPES).getAsJsonArray().forEach(x -> sorted.add(x.getAsString()));
      java.util.Collections.sort(sorted);
      next.put(Attr.RUNTIME_AUTH_SCOPES, Json.stringArray(sorted));
    }
    if (newState != null && newState.isFinal()) {
      next.put(Attr.SECRET_MOUNTS, new JsonObject());
      next.put(Attr.RUNTIME_TOKEN, JsonNull.INSTANCE);
    }
    if (stateChanged && !create && newState == State.QUEUED) {
      next.put(Attr.RUNTIME_STATUS, new JsonObject());
    }

    boolean anyChange = create;
    for (Attr a : Attr.values()) {
      if (!create && !next.get(a).equals(old.get(a))) {
        anyChange = true;
      }
    }
    if (anyChange && !create) {
      next.put(Attr.MODIFIED_AT, new JsonPrimitive(Json.formatTime(now)));
      next.put(Attr.MODIFIED_BY_USER_UUID, new JsonPrimitive(caller.token().ownerUuid));
    }
    return anyChange ? new Saved(new ContainerRecord(next), true) : new Saved(old, false);
  }

  private Set<Attr> permitted(
      ContainerRecord old,
      EnumMap<Attr, JsonElement> next,
      Caller caller,
      boolean create,
      @Nullable State oldState,
      @Nullable State newState,
      boolean stateChanged) {
    Set<Attr> p = EnumSet.of(Attr.STATE);
    if (create) {
      p.addAll(CREATION);
    }
    if (newState != null) {
      switch (newState) {
        case LOCKED:
          p.addAll(EnumSet.of(Attr.PRIORITY, Attr.RUNTIME_STATUS, Attr.LOG, Attr.LOCK_COUNT));
          break;
        case QUEUED:
          p.add(Attr.PRIORITY);
          break;
        case RUNNING:
          p.addAll(EnumSet.of(Attr.PRIORITY, Attr.OUTPUT_PROPERTIES, Attr.GATEWAY_ADDRESS));
          p.addAll(PROGRESS);
          if (stateChanged) {
            p.add(Attr.STARTED_AT);
          }
          if (create || !old.get(Attr.INTERACTIVE_SESSION_STARTED).getAsBoolean()) {
            p.add(Attr.INTERACTIVE_SESSION_STARTED);
          }
          break;
        case COMPLETE:
          if (oldState == State.RUNNING) {
            p.add(Attr.FINISHED_AT);
            p.addAll(PROGRESS);
          }
          break;
        case CANCELLED:
          if (oldState == State.RUNNING) {
            p.add(Attr.FINISHED_AT);
            p.addAll(PROGRESS);
          } else if (oldState == State.QUEUED || oldState == State.LOCKED) {
            p.addAll(EnumSet.of(Attr.FINISHED_AT, Attr.LOG, Attr.RUNTIME_STATUS, Attr.COST));
          }
          break;
        default:
          break;
      }
    }
    if (create) {
      return p;
    }
    String auth = old.authUuid();
    boolean ownToken =
        oldState == State.RUNNING
            && ((auth != null && auth.equals(caller.tokenUuid()))
                || caller.presented(old.runtimeToken()));
    if (ownToken) {
      p.add(Attr.FINISHED_AT);
      p.remove(Attr.LOG);
      p.remove(Attr.PRIORITY);
    } else if (!caller.admin()) {
      throw ApiException.permissionDenied();
    } else if (old.lockedByUuid() != null && !old.lockedByUuid().equals(caller.tokenUuid())) {
      p.removeAll(PROGRESS);
    }
    return p;
  }

  /** Dirty tracking: assigning the current value is not a change. */
  private static boolean changed(
      ContainerRecord old, EnumMap<Attr, JsonElement> next, Attr a, boolean create) {
    return !old.get(a).equals(next.get(a));
  }

  /** The whitelist's notion of change: nil, [] and {} are equal (whitelist_update.rb:14-23). */
  private static boolean whitelistChanged(
      ContainerRecord old, EnumMap<Attr, JsonElement> next, Attr a, boolean create) {
    JsonElement before = old.get(a);
    JsonElement after = next.get(a);
    if (before.equals(after)) {
      return false;
    }
    return !(Json.isNullish(before) && Json.isNullish(after));
  }
}

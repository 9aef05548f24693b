package dev.crunchguard;

import com.google.gson.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An immutable snapshot of an Arvados container record, as the server returned it.
 *
 * <p>Every field of the API's container resource has an accessor, named after the API field in
 * camel case ({@code locked_by_uuid} is {@link #lockedByUuid()}). A field the server did not return
 * (because the request used {@code select}, or the response is the 5-field answer of lock/unlock)
 * reads as null, or as an empty list or map; {@link #has(String)} tells absent from null. Fields a
 * newer server adds are ignored. Lists and maps are unmodifiable; JSON numbers in free-form maps
 * are {@code Long} when integral, else {@code Double}.
 */
public final class Container {
  private final String uuid;

  /** The API fields this SDK knows, in a fixed order: bit i of {@link #present} is field i. */
  private static final List<String> FIELDS =
      List.of(
          "kind",
          "etag",
          "uuid",
          "owner_uuid",
          "created_at",
          "modified_by_user_uuid",
          "modified_at",
          "command",
          "container_image",
          "cwd",
          "environment",
          "exit_code",
          "finished_at",
          "locked_by_uuid",
          "log",
          "mounts",
          "output",
          "output_path",
          "output_glob",
          "priority",
          "progress",
          "runtime_constraints",
          "runtime_status",
          "started_at",
          "state",
          "auth_uuid",
          "scheduling_parameters",
          "runtime_user_uuid",
          "runtime_auth_scopes",
          "lock_count",
          "gateway_address",
          "interactive_session_started",
          "output_storage_classes",
          "output_properties",
          "cost",
          "subrequests_cost",
          "service",
          "published_ports");

  static final Map<String, Integer> FIELD_INDEX = index();

  /**
   * The fields a single-record answer decodes at once (they have their own fields here); the others
   * are read through {@link #full()}.
   */
  private static final long EAGER =
      bits(
          "uuid",
          "state",
          "created_at",
          "modified_at",
          "exit_code",
          "finished_at",
          "locked_by_uuid",
          "priority",
          "started_at",
          "auth_uuid",
          "lock_count");

  /** What {@link #full()} gives a record that carried none of the other fields. */
  private static final Rest NONE = new Rest(new ContainerDecoder.Fields());

  /**
   * Which known fields the response carried (a bit per field: no per-record set of names to keep).
   */
  private final long present;

  private final @Nullable ContainerState state;
  private final @Nullable Instant createdAt;
  private final @Nullable Instant modifiedAt;
  private final @Nullable Long exitCode;
  private final @Nullable Instant finishedAt;
  private final @Nullable String lockedByUuid;
  private final @Nullable Long priority;
  private final @Nullable Instant startedAt;
  private final @Nullable String authUuid;
  private final @Nullable Long lockCount;

  /**
   * The whole record, decoded; null until first needed when the record came from a single-record
   * answer, whose body ({@link #source}) was checked in full but decoded only for the fields a lock
   * reads. Published once through the volatile write; never modified after decoding.
   */
  private volatile @Nullable Rest full;

  /** The answer's body, kept until the whole record is decoded; null once it is. */
  private volatile @Nullable String source;

  private Container(String uuid, ContainerDecoder.Fields f, @Nullable String source) {
    this.uuid = uuid;
    this.present = f.present;
    this.state = f.state;
    this.createdAt = f.createdAt;
    this.modifiedAt = f.modifiedAt;
    this.exitCode = f.exitCode;
    this.finishedAt = f.finishedAt;
    this.lockedByUuid = f.lockedByUuid;
    this.priority = f.priority;
    this.startedAt = f.startedAt;
    this.authUuid = f.authUuid;
    this.lockCount = f.lockCount;
    if (source != null && (f.present & ~EAGER) == 0) {
      // Nothing left to decode later (a lock or unlock answer): keep neither body nor fields.
      this.full = NONE;
      this.source = null;
    } else {
      this.full = source == null ? new Rest(f) : null;
      this.source = source;
    }
  }

  /**
   * The fields beyond those the record keeps itself, decoded (the decoder's {@link
   * ContainerDecoder.Fields} without the copies of uuid, state, the epoch and the timestamps).
   */
  private static final class Rest {
    final @Nullable String kind;
    final @Nullable String etag;
    final @Nullable String ownerUuid;
    final @Nullable String modifiedByUserUuid;
    final List<String> command;
    final @Nullable String containerImage;
    final @Nullable String cwd;
    final Map<String, String> environment;
    final @Nullable String log;
    final Map<String, Object> mounts;
    final @Nullable String output;
    final @Nullable String outputPath;
    final List<String> outputGlob;
    final @Nullable Double progress;
    final Map<String, Object> runtimeConstraints;
    final Map<String, Object> runtimeStatus;
    final Map<String, Object> schedulingParameters;
    final @Nullable String runtimeUserUuid;
    final List<String> runtimeAuthScopes;
    final @Nullable String gatewayAddress;
    final @Nullable Boolean interactiveSessionStarted;
    final List<String> outputStorageClasses;
    final Map<String, Object> outputProperties;
    final @Nullable Double cost;
    final @Nullable Double subrequestsCost;
    final @Nullable Boolean service;
    final Map<String, Object> publishedPorts;

    Rest(ContainerDecoder.Fields f) {
      this.kind = f.kind;
      this.etag = f.etag;
      this.ownerUuid = f.ownerUuid;
      this.modifiedByUserUuid = f.modifiedByUserUuid;
      this.command = f.command;
      this.containerImage = f.containerImage;
      this.cwd = f.cwd;
      this.environment = f.environment;
      this.log = f.log;
      this.mounts = f.mounts;
      this.output = f.output;
      this.outputPath = f.outputPath;
      this.outputGlob = f.outputGlob;
      this.progress = f.progress;
      this.runtimeConstraints = f.runtimeConstraints;
      this.runtimeStatus = f.runtimeStatus;
      this.schedulingParameters = f.schedulingParameters;
      this.runtimeUserUuid = f.runtimeUserUuid;
      this.runtimeAuthScopes = f.runtimeAuthScopes;
      this.gatewayAddress = f.gatewayAddress;
      this.interactiveSessionStarted = f.interactiveSessionStarted;
      this.outputStorageClasses = f.outputStorageClasses;
      this.outputProperties = f.outputProperties;
      this.cost = f.cost;
      this.subrequestsCost = f.subrequestsCost;
      this.service = f.service;
      this.publishedPorts = f.publishedPorts;
    }
  }

  /** A copy of {@code o} under its own uuid's equal string {@code uuid}. */
  private Container(Container o, String uuid) {
    this.uuid = uuid;
    this.present = o.present;
    this.state = o.state;
    this.createdAt = o.createdAt;
    this.modifiedAt = o.modifiedAt;
    this.exitCode = o.exitCode;
    this.finishedAt = o.finishedAt;
    this.lockedByUuid = o.lockedByUuid;
    this.priority = o.priority;
    this.startedAt = o.startedAt;
    this.authUuid = o.authUuid;
    this.lockCount = o.lockCount;
    this.source = o.source;
    this.full = o.full;
    if (this.full != null) {
      // Decoded meanwhile: the body may be gone, but the fields are there.
      this.source = null;
    }
  }

  /**
   * This record, holding the caller's string for its uuid when the two are equal (the uuid the
   * caller asked about, which it keeps anyway): a lock answer kept beside the listed record then
   * costs no second copy of the uuid. Otherwise this record itself.
   */
  Container withUuidOf(String requested) {
    return requested != uuid && requested.equals(uuid) ? new Container(this, requested) : this;
  }

  /** The whole record: decodes the kept body on first use (it was validated when received). */
  private Rest full() {
    Rest f = full;
    if (f == null) {
      String body = source;
      if (body == null) {
        // Another thread decoded it and dropped the body between our two reads.
        return Objects.requireNonNull(full);
      }
      f = new Rest(ContainerDecoder.decodeFully(body));
      full = f;
      source = null;
    }
    return f;
  }

  private static long bits(String... apiFields) {
    long b = 0;
    for (String f : apiFields) {
      b |= 1L << Objects.requireNonNull(FIELD_INDEX.get(f));
    }
    return b;
  }

  private static Map<String, Integer> index() {
    Map<String, Integer> m = new java.util.HashMap<>();
    for (int i = 0; i < FIELDS.size(); i++) {
      m.put(FIELDS.get(i), i);
    }
    return Map.copyOf(m);
  }

  /**
   * Decodes a container record from a parsed tree; throws {@link Json.DecodeException} when a field
   * has the wrong type. The answers of the API are decoded by streaming instead ({@link
   * ContainerDecoder#parse}); this is for records already held as a tree.
   */
  static Container fromJson(JsonObject o) {
    return ContainerDecoder.fromTree(o);
  }

  /** A record decoded in full. */
  static Container of(String uuid, ContainerDecoder.Fields f) {
    return new Container(uuid, f, null);
  }

  /** A record whose lock fields are decoded and whose other fields are decoded from body later. */
  static Container lazy(String uuid, ContainerDecoder.Fields lockFields, String body) {
    return new Container(uuid, lockFields, body);
  }

  /**
   * Whether the server's response contained this field (even as null). Only the fields of the
   * container resource this SDK knows are tracked; any other name answers false.
   *
   * @param apiField the API's field name, for example {@code "lock_count"}
   * @return true if present in the response
   */
  boolean has(String apiField) {
    Integer i = FIELD_INDEX.get(apiField);
    return i != null && (present & (1L << i)) != 0;
  }

  /**
   * @return {@code uuid}, always present: {@code <cluster>-dz642-<15 chars>}
   */
  public String uuid() {
    return uuid;
  }

  /**
   * @return {@code state}; {@link ContainerState#UNKNOWN} for a state this SDK does not know
   */
  public @Nullable ContainerState state() {
    return state;
  }

  /**
   * @return {@code kind}, normally {@code arvados#container}
   */
  public @Nullable String kind() {
    return full().kind;
  }

  /**
   * @return {@code etag}
   */
  public @Nullable String etag() {
    return full().etag;
  }

  /**
   * @return {@code owner_uuid}
   */
  public @Nullable String ownerUuid() {
    return full().ownerUuid;
  }

  /**
   * @return {@code created_at}
   */
  public @Nullable Instant createdAt() {
    return createdAt;
  }

  /**
   * @return {@code modified_by_user_uuid}
   */
  public @Nullable String modifiedByUserUuid() {
    return full().modifiedByUserUuid;
  }

  /**
   * @return {@code modified_at}
   */
  public @Nullable Instant modifiedAt() {
    return modifiedAt;
  }

  /**
   * @return {@code command}, the argv of the container's process
   */
  public List<String> command() {
    return full().command;
  }

  /**
   * @return {@code container_image}, a portable data hash
   */
  public @Nullable String containerImage() {
    return full().containerImage;
  }

  /**
   * @return {@code cwd}
   */
  public @Nullable String cwd() {
    return full().cwd;
  }

  /**
   * @return {@code environment}
   */
  public Map<String, String> environment() {
    return full().environment;
  }

  /**
   * @return {@code exit_code}, set by the runner when the process has exited
   */
  public @Nullable Long exitCode() {
    return exitCode;
  }

  /**
   * @return {@code finished_at}
   */
  public @Nullable Instant finishedAt() {
    return finishedAt;
  }

  /**
   * @return {@code locked_by_uuid}: the token uuid of the dispatcher holding the lock
   */
  public @Nullable String lockedByUuid() {
    return lockedByUuid;
  }

  /**
   * @return {@code log}, a portable data hash
   */
  public @Nullable String log() {
    return full().log;
  }

  /**
   * @return {@code mounts}
   */
  public Map<String, Object> mounts() {
    return full().mounts;
  }

  /**
   * @return {@code output}, a portable data hash
   */
  public @Nullable String output() {
    return full().output;
  }

  /**
   * @return {@code output_path}
   */
  public @Nullable String outputPath() {
    return full().outputPath;
  }

  /**
   * @return {@code output_glob}
   */
  public List<String> outputGlob() {
    return full().outputGlob;
  }

  /**
   * @return {@code priority}; 0 means nobody wants it run now
   */
  public @Nullable Long priority() {
    return priority;
  }

  /**
   * @return {@code progress}
   */
  public @Nullable Double progress() {
    return full().progress;
  }

  /**
   * @return {@code runtime_constraints}
   */
  public Map<String, Object> runtimeConstraints() {
    return full().runtimeConstraints;
  }

  /**
   * @return {@code runtime_status}
   */
  public Map<String, Object> runtimeStatus() {
    return full().runtimeStatus;
  }

  /**
   * @return {@code started_at}
   */
  public @Nullable Instant startedAt() {
    return startedAt;
  }

  /**
   * @return {@code auth_uuid}: the uuid of the current lock epoch's container token; the fencing
   *     token
   */
  public @Nullable String authUuid() {
    return authUuid;
  }

  /**
   * @return {@code scheduling_parameters}
   */
  public Map<String, Object> schedulingParameters() {
    return full().schedulingParameters;
  }

  /**
   * @return {@code runtime_user_uuid}
   */
  public @Nullable String runtimeUserUuid() {
    return full().runtimeUserUuid;
  }

  /**
   * @return {@code runtime_auth_scopes}
   */
  public List<String> runtimeAuthScopes() {
    return full().runtimeAuthScopes;
  }

  /**
   * @return {@code lock_count}: how many times the container has been locked
   */
  public @Nullable Long lockCount() {
    return lockCount;
  }

  /**
   * @return {@code gateway_address}
   */
  public @Nullable String gatewayAddress() {
    return full().gatewayAddress;
  }

  /**
   * @return {@code interactive_session_started}
   */
  public @Nullable Boolean interactiveSessionStarted() {
    return full().interactiveSessionStarted;
  }

  /**
   * @return {@code output_storage_classes}
   */
  public List<String> outputStorageClasses() {
    return full().outputStorageClasses;
  }

  /**
   * @return {@code output_properties}
   */
  public Map<String, Object> outputProperties() {
    return full().outputProperties;
  }

  /**
   * @return {@code cost}
   */
  public @Nullable Double cost() {
    return full().cost;
  }

  /**
   * @return {@code subrequests_cost}
   */
  public @Nullable Double subrequestsCost() {
    return full().subrequestsCost;
  }

  /**
   * @return {@code service}
   */
  public @Nullable Boolean service() {
    return full().service;
  }

  /**
   * @return {@code published_ports}
   */
  public Map<String, Object> publishedPorts() {
    return full().publishedPorts;
  }

  @Override
  public String toString() {
    return "Container{uuid="
        + uuid
        + ", state="
        + (state == null ? null : state.wireName())
        + ", priority="
        + priority
        + ", locked_by_uuid="
        + lockedByUuid
        + ", auth_uuid="
        + authUuid
        + ", lock_count="
        + lockCount
        + ", exit_code="
        + exitCode
        + '}';
  }
}

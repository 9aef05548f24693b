package dev.crunchguard;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Arvados containers API: read, list, lock, and the runner-side entry points. Obtained from
 * {@link ArvadosClient#containers()}; thread-safe.
 *
 * <p>Arguments are checked before any request: a malformed container uuid is an {@link
 * IllegalArgumentException}. Server errors become {@link ArvadosServiceException} subtypes.
 */
public final class Containers {
  private static final Logger log = LoggerFactory.getLogger(Containers.class);

  /** Fields read back to judge a lock epoch; small, so read-backs stay cheap. */
  static final String EPOCH_SELECT =
      "[\"uuid\",\"state\",\"priority\",\"auth_uuid\",\"locked_by_uuid\",\"lock_count\"]";

  private final ArvadosClient client;
  private final Http http;
  private final ArvadosService service;

  /** {@code <base>/arvados/v1/containers/}: every container URL is built from it. */
  private final HttpUrl containersUrl;

  Containers(ArvadosClient client) {
    this.client = client;
    this.http = client.http();
    this.service = client.service();
    this.containersUrl =
        client.httpUrl().newBuilder().addPathSegments("arvados/v1/containers/").build();
  }

  /**
   * The URL of one container, or of one of its actions ({@code lock}, {@code unlock}), with {@code
   * select} as a query parameter when given. Built from the parsed base URL, so its host is not
   * parsed again for every call; OkHttp encodes the segments and the query value.
   */
  HttpUrl containerUrl(String uuid, @Nullable String action, @Nullable String select) {
    HttpUrl.Builder url = containersUrl.newBuilder().addPathSegment(uuid);
    if (action != null) {
      url.addPathSegment(action);
    }
    if (select != null) {
      url.addQueryParameter("select", select);
    }
    return url.build();
  }

  ArvadosClient client() {
    return client;
  }

  /**
   * Reads a container record.
   *
   * @param uuid the container uuid
   * @return the record
   * @throws NotFoundException if it does not exist or is not readable
   */
  public Container get(String uuid) {
    Uuids.container(uuid);
    return getJson(uuid, null).container();
  }

  /** A record with its raw JSON, for comparisons. */
  record Read(Container container, JsonObject json) {}

  Read getJson(String uuid, @Nullable String select) {
    Http.Outcome o =
        http.call("get container " + uuid, "GET", containerUrl(uuid, null, select), null);
    if (!o.isSuccess()) {
      throw http.error(o);
    }
    JsonObject json = http.successObject(o);
    return new Read(http.container(o, json), json);
  }

  /**
   * Lists containers, paging lazily through the API's list envelope: each page is requested when
   * the stream reaches it. Pages use offsets; to keep them stable a {@code uuid} order is appended
   * after the query's own order. Containers that change while the listing runs may be seen twice or
   * missed, as with any offset paging.
   *
   * @param query filters, order, page size and limit
   * @return a lazy, sequential stream; a failing page request throws from the stream operation
   */
  public Stream<Container> list(ContainerQuery query) {
    Objects.requireNonNull(query, "query");
    Iterator<Container> it = new Pager(query);
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false);
  }

  private final class Pager implements Iterator<Container> {
    private final ContainerQuery query;
    private final Deque<Container> buffer = new ArrayDeque<>();
    private long offset;
    private long yielded;
    private long available = -1;
    private boolean exhausted;

    Pager(ContainerQuery query) {
      this.query = query;
      this.offset = query.offset();
    }

    @Override
    public boolean hasNext() {
      if (yielded >= query.limit()) {
        return false;
      }
      if (buffer.isEmpty() && !exhausted) {
        fetch();
      }
      return !buffer.isEmpty();
    }

    @Override
    public Container next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      yielded++;
      return buffer.removeFirst();
    }

    private void fetch() {
      long want = Math.min(query.pageSize(), query.limit() - yielded);
      Map<String, String> params = new LinkedHashMap<>();
      params.put("filters", query.filtersJson());
      List<String> order = new ArrayList<>(query.order());
      if (order.stream().noneMatch(o -> o.equals("uuid") || o.startsWith("uuid "))) {
        order.add("uuid asc");
      }
      JsonArray orderJson = new JsonArray();
      order.forEach(orderJson::add);
      params.put("order", orderJson.toString());
      params.put("limit", Long.toString(want));
      params.put("offset", Long.toString(offset));
      params.put("count", available < 0 ? "exact" : "none");
      if (!query.select().isEmpty()) {
        JsonArray sel = new JsonArray();
        query.select().forEach(sel::add);
        params.put("select", sel.toString());
      }
      Http.Outcome o =
          http.execute(
              "list containers", rid -> service.list(http.clientHeaders(), rid, params).request());
      if (!o.isSuccess()) {
        throw http.error(o);
      }
      ContainerDecoder.Page page;
      try {
        page = ContainerDecoder.parseList(o.body());
      } catch (Json.DecodeException e) {
        throw http.malformed(o.operation(), o.status(), o.requestId(), e.getMessage(), o.body());
      }
      if (available < 0) {
        Long n = page.itemsAvailable();
        available = n == null ? Long.MAX_VALUE : n;
      }
      int count = page.items().size();
      buffer.addAll(page.items());
      offset += count;
      if (count == 0 || offset >= available) {
        exhausted = true;
      }
    }
  }

  /**
   * Locks a Queued container ({@code POST /arvados/v1/containers/{uuid}/lock}) and returns this
   * process's hold on the new lock epoch. One request on success; two for an unfenced container
   * (one with a {@code runtime_token}, whose lock answer has no {@code auth_uuid}), where a read
   * learns the {@code lock_count} that its writes compare.
   *
   * <p>If a response was lost and the retry is refused because the container is already Locked, the
   * container is read back: when it is locked by this client's token, the client's {@link
   * AmbiguousLockPolicy} decides whether to adopt it. By default it is not adopted (another process
   * sharing the token may have locked it), and a {@link LockConflictException} with {@link
   * LockConflictException#observedState()} Locked is thrown.
   *
   * @param uuid a Queued container with priority above 0
   * @return the lock
   * @throws LockConflictException if the container is not Queued or its priority is 0
   */
  public ContainerLock lock(String uuid) {
    return lock(uuid, null);
  }

  /**
   * Locks a container the caller has just seen (for example in a listing). Its {@code lock_count}
   * makes the resolution of a lost lock response stronger: the container is adopted only if it was
   * locked exactly once since.
   *
   * @param seen the container as listed, with its {@code lock_count} when selected
   * @return the lock
   * @throws LockConflictException if the container is not Queued or its priority is 0
   */
  public ContainerLock lock(Container seen) {
    Objects.requireNonNull(seen, "seen");
    return lock(seen.uuid(), seen.lockCount());
  }

  private ContainerLock lock(String uuid, @Nullable Long knownLockCount) {
    Uuids.container(uuid);
    Http.Outcome o =
        http.call("lock container " + uuid, "POST", containerUrl(uuid, "lock", null), null);
    if (o.isSuccess()) {
      Container c = http.container(o).withUuidOf(uuid);
      if (c.state() != ContainerState.LOCKED || c.lockedByUuid() == null) {
        throw http.malformed(
            o.operation(),
            o.status(),
            o.requestId(),
            "lock succeeded but the response shows state "
                + c.state()
                + " and locked_by_uuid "
                + c.lockedByUuid(),
            o.body());
      }
      Long lockCount = null;
      if (c.authUuid() == null) {
        // Unfenced (runtime_token) container: its writes also compare lock_count, which the
        // 5-field lock response does not carry. The lock is ours whatever this read gives: if it
        // fails, or shows the container already in another state or locked by another token, the
        // lock is returned without lock_count and its first write's check decides.
        try {
          Container read = getJson(uuid, EPOCH_SELECT).container();
          if (read.state() == ContainerState.LOCKED
              && Objects.equals(read.lockedByUuid(), c.lockedByUuid())
              && read.authUuid() == null) {
            lockCount = read.lockCount();
          }
        } catch (ArvadosException e) {
          log.debug(
              "could not read lock_count of unfenced {} after locking it: {}",
              uuid,
              e.getMessage());
        }
      }
      log.debug("locked {} (auth_uuid {})", uuid, c.authUuid());
      return new ContainerLock(
          this, epochOf(o, uuid, c.authUuid(), c.lockedByUuid(), lockCount), c);
    }
    ErrorDetails err = http.details(o);
    Refusal why = Refusal.of(err);
    if (why == Refusal.PRIORITY_ZERO || (why == Refusal.NOT_LOCKABLE && !o.maybeAppliedEarlier())) {
      throw new LockConflictException(err, uuid, null);
    }
    if (why == Refusal.NOT_LOCKABLE) {
      return resolveLostLockResponse(uuid, knownLockCount, err);
    }
    throw Http.error(err);
  }

  /** The epoch a lock answer names; an answer that names none properly is malformed. */
  private LockEpoch epochOf(
      Http.Outcome o,
      String uuid,
      @Nullable String authUuid,
      @Nullable String lockedBy,
      @Nullable Long lockCount) {
    try {
      return LockEpoch.of(uuid, authUuid, lockedBy, lockCount);
    } catch (IllegalArgumentException e) {
      throw http.malformed(o.operation(), o.status(), o.requestId(), e.getMessage(), o.body());
    }
  }

  private ContainerLock resolveLostLockResponse(
      String uuid, @Nullable Long knownLockCount, ErrorDetails err) {
    Container now = getJson(uuid, EPOCH_SELECT).container();
    String me = client.tokenUuid();
    boolean lockedByMe = now.state() == ContainerState.LOCKED && me.equals(now.lockedByUuid());
    boolean countFits =
        knownLockCount == null || Objects.equals(now.lockCount(), knownLockCount + 1);
    if (lockedByMe && countFits) {
      if (client.ambiguousLockPolicy() == AmbiguousLockPolicy.ADOPT) {
        try {
          LockEpoch adopted =
              LockEpoch.of(now.uuid(), now.authUuid(), now.lockedByUuid(), now.lockCount());
          log.info(
              "lock response for {} was lost; adopting the lock held by this token (auth_uuid {})",
              uuid,
              now.authUuid());
          return new ContainerLock(this, adopted, now);
        } catch (IllegalArgumentException malformed) {
          log.warn(
              "lock response for {} was lost and the read-back names no valid epoch: {}",
              uuid,
              malformed.getMessage());
        }
      }
      log.info(
          "lock response for {} was lost; the container is locked by this token but the policy is REFUSE",
          uuid);
    }
    throw new LockConflictException(err, uuid, now.state());
  }

  /**
   * A lock handed to this process by a dispatcher (see {@link ContainerLock#epoch()}). Makes no
   * request: call {@link ContainerLock#verify()} to check that the epoch is still current.
   *
   * @param epoch the handed-off epoch
   * @return a lock writing in that epoch
   */
  public ContainerLock resume(LockEpoch epoch) {
    Objects.requireNonNull(epoch, "epoch");
    return new ContainerLock(this, epoch, null);
  }

  /**
   * The container this client's token belongs to ({@code GET /arvados/v1/containers/current}), for
   * a process running with its container's own token.
   *
   * @return the container
   * @throws NotFoundException if the token is not a container token
   */
  public Container current() {
    Http.Outcome o =
        http.execute(
            "get current container", rid -> service.current(http.clientHeaders(), rid).request());
    if (!o.isSuccess()) {
      throw http.error(o);
    }
    return http.container(o);
  }

  /**
   * The container's own API token ({@code GET .../auth}). Only the token that locked the container
   * may read it. The result is a secret: never log it.
   *
   * @param uuid a container locked by this client's token
   * @return the token
   * @throws PermissionDeniedException if this token did not lock the container
   */
  public ContainerToken auth(String uuid) {
    Uuids.container(uuid);
    Http.Outcome o =
        http.execute(
            "get container token for " + uuid,
            rid -> service.auth(http.clientHeaders(), rid, uuid).request());
    if (!o.isSuccess()) {
      throw http.error(o);
    }
    JsonObject json = http.successObject(o);
    try {
      String tokenUuid = Json.string(json, "uuid");
      String secret = Json.string(json, "api_token");
      if (tokenUuid == null || secret == null || secret.isEmpty()) {
        throw new Json.DecodeException("token record lacks 'uuid' or 'api_token'");
      }
      return new ContainerToken(
          tokenUuid,
          secret,
          uuid,
          Json.timestamp(json, "expires_at"),
          Json.stringList(json, "scopes"));
    } catch (Json.DecodeException e) {
      throw http.malformed(o.operation(), o.status(), o.requestId(), e.getMessage(), o.body());
    }
  }

  /**
   * Unlocks a container with the plain, unguarded {@code POST .../unlock}: whatever epoch is
   * current, including one that a newer process holds. For recovery tools and administrators only;
   * lock holders use {@link ContainerLock#unlock()}, which cannot release someone else's epoch.
   *
   * @param uuid a Locked container
   * @return the container's 5 lock fields after the unlock (state Queued, or Cancelled once {@code
   *     lock_count} reached the server's {@code MaxDispatchAttempts})
   * @throws PermissionDeniedException if another token holds the lock
   */
  public Container unlock(String uuid) {
    Uuids.container(uuid);
    Http.Outcome o =
        http.call("unlock container " + uuid, "POST", containerUrl(uuid, "unlock", null), null);
    if (o.isSuccess()) {
      return http.container(o);
    }
    ErrorDetails err = http.details(o);
    if (o.maybeAppliedEarlier() && Refusal.of(err) == Refusal.NOT_UNLOCKABLE) {
      Container now = getJson(uuid, EPOCH_SELECT).container();
      if (now.state() == ContainerState.QUEUED || now.state() == ContainerState.CANCELLED) {
        return now;
      }
    }
    throw Http.error(err);
  }
}

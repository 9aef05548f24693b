package dev.crunchguard;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's hold on one lock epoch of one container. Thread-safe.
 *
 * <h2>The epoch and its life cycle</h2>
 *
 * Every lock of a container gives it a fresh {@code auth_uuid}: the epoch. A {@code ContainerLock}
 * is created {@code HELD} (by {@link Containers#lock(String)} or {@link Containers#resume}) and
 * ends either {@code RELEASED}, when this process itself ends the epoch with {@link #complete},
 * {@link #cancel()} or {@link #unlock()}, or {@code LOST}, when the SDK learns that the epoch ended
 * without it. Both are final.
 *
 * <pre>
 *            update / markRunning / reportProgress / verify
 *               ┌───┐
 *               ▼   │
 *  lock() ──▶ HELD ─┴── complete / cancel / unlock ──▶ RELEASED
 *               │
 *               └── server refuses the epoch, verify() sees it gone ──▶ LOST (listeners run once)
 * </pre>
 *
 * <h2>The guarantee</h2>
 *
 * Every write through this lock is an update of the container carrying {@code auth_uuid} equal to
 * the epoch's value. The server treats an equal value as no change and a different one as a
 * forbidden change, so it applies the write only while the epoch is current: after the container
 * has been requeued, locked again (even by the same token), finished or cancelled, the write is
 * refused and nothing of it is applied. The SDK reports that as {@link LostOwnershipException},
 * after deciding by evidence (the server's {@code auth_uuid} messages, or one read-back of the
 * container) so that a 422 caused by a bad field of the caller's stays an
 * {@link ArvadosApiException}. Once lost, every call throws at once without a request, and the
 * {@link #onLost} listeners have run exactly once.
 *
 * <h2>Limits</h2>
 *
 * <ul>
 *   <li>The real Arvados server checks {@code auth_uuid} against the record it read before taking
 *       its row lock, so a write racing a concurrent re-lock within that window can still be
 *       applied; the guard closes the gap between epochs, not that window.
 *   <li>A container with a {@code runtime_token} has no {@code auth_uuid}. Its lock is unfenced
 *       ({@link #isFenced()} is false): each write is preceded by a read that compares
 *       {@code locked_by_uuid}, {@code lock_count} and the state, which leaves a window between
 *       the read and the write.
 *   <li>The guard protects writes made through Crunch Guard; other clients' writes are not fenced.
 * </ul>
 *
 * <h2>Example</h2>
 *
 * <pre>{@code
 * ContainerLock lock = client.containers().lock(uuid);
 * lock.onLost(e -> child.destroyForcibly());   // someone else owns the container now
 * try {
 *   lock.markRunning();
 *   int exit = runTheWork();
 *   lock.complete(exit, outputPdh);
 * } catch (LostOwnershipException e) {
 *   // stop: another epoch owns the container; do not write again
 * }
 * }</pre>
 */
public final class ContainerLock {
  private static final Logger log = LoggerFactory.getLogger(ContainerLock.class);

  private enum Status { HELD, RELEASED, LOST }

  private final Containers containers;
  private final Http http;
  private final ArvadosService service;
  private final String containerUuid;
  private final @Nullable String authUuid;
  private final @Nullable String lockedByUuid;
  private final @Nullable Long lockCount;
  private final AtomicReference<Status> status = new AtomicReference<>(Status.HELD);
  private final AtomicReference<@Nullable LostOwnershipException> lostCause = new AtomicReference<>();
  private volatile @Nullable String releasedBy;
  private volatile @Nullable Container lastSeen;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  ContainerLock(
      Containers containers,
      String containerUuid,
      @Nullable String authUuid,
      @Nullable String lockedByUuid,
      @Nullable Long lockCount,
      @Nullable Container seen) {
    this.containers = containers;
    this.http = containers.client().http();
    this.service = containers.client().service();
    this.containerUuid = containerUuid;
    this.authUuid = authUuid;
    this.lockedByUuid = lockedByUuid;
    this.lockCount = lockCount;
    this.lastSeen = seen;
  }

  /** @return the container this lock is on */
  public String containerUuid() {
    return containerUuid;
  }

  /** @return the epoch's {@code auth_uuid} (the fencing token), or null for an unfenced lock */
  public @Nullable String authUuid() {
    return authUuid;
  }

  /** @return the token uuid that locked the container, or null if unknown (a resumed handoff without it) */
  public @Nullable String lockedByUuid() {
    return lockedByUuid;
  }

  /**
   * Whether the server itself fences this lock's writes with {@code auth_uuid}. False for
   * containers with a {@code runtime_token}, whose writes fall back to a read-compare-write check.
   *
   * @return true if fenced by {@code auth_uuid}
   */
  public boolean isFenced() {
    return authUuid != null;
  }

  /** @return true once the SDK knows the epoch ended without this process */
  public boolean isLost() {
    return lostCause.get() != null;
  }

  /** @return true once this process ended the epoch itself (complete, cancel or unlock) */
  public boolean isReleased() {
    return status.get() == Status.RELEASED;
  }

  /**
   * The last container record this lock received (from lock, an update or a verify), or null.
   *
   * @return the last seen record or null
   */
  public @Nullable Container lastSeen() {
    return lastSeen;
  }

  /**
   * Registers a listener run once, on the thread that detects the loss, when the lock is lost. If
   * the lock is already lost, the listener runs at once on the calling thread. A listener's
   * exception is logged and does not stop the others.
   *
   * @param listener receives the loss
   */
  public void onLost(Consumer<LostOwnershipException> listener) {
    Objects.requireNonNull(listener, "listener");
    Listener l = new Listener(listener);
    listeners.add(l);
    LostOwnershipException cause = lostCause.get();
    if (cause != null) {
      l.fire(cause);
    }
  }

  /**
   * The handoff for a runner process (see {@link Containers#resume(LockHandoff)}).
   *
   * @return the epoch's identity, nothing secret
   */
  public LockHandoff handoff() {
    return LockHandoff.of(containerUuid, authUuid, lockedByUuid, lockCount);
  }

  /**
   * Writes fields of the container in this epoch: one {@code PUT} carrying the epoch's
   * {@code auth_uuid} (for an unfenced lock, a read that checks the epoch comes first).
   *
   * @param update the fields to write
   * @return the container record after the write
   * @throws LostOwnershipException if the epoch has ended; nothing was written
   * @throws ArvadosApiException if the server refused the write for another reason (for example a
   *     field not writable in the current state)
   * @throws IllegalStateException if this process already released the lock
   */
  public Container update(ContainerUpdate update) {
    Objects.requireNonNull(update, "update");
    if (update.fieldNames().isEmpty()) {
      throw new IllegalArgumentException("update sets no field");
    }
    checkHeld();
    if (!isFenced()) {
      verify();
    }
    JsonObject fields = update.toJson();
    fields.add("auth_uuid", authUuid == null ? JsonNull.INSTANCE : new JsonPrimitive(authUuid));
    JsonObject body = new JsonObject();
    body.add("container", fields);
    Http.Outcome o = http.execute("update container " + containerUuid, rid -> service.update(rid, containerUuid, null, body));
    if (o.isSuccess()) {
      // The server applied the write: an epoch-ending one is released even if the body is undecodable.
      if (endsEpoch(update.state())) {
        release(update.state());
      }
      Container c = http.container(o, http.successObject(o));
      lastSeen = c;
      return c;
    }
    return handleRefusal(update, o);
  }

  /**
   * Moves the container from Locked to Running. Idempotent while Running in this epoch.
   *
   * @return the record after the write
   */
  public Container markRunning() {
    return update(ContainerUpdate.builder().state(ContainerState.RUNNING).build());
  }

  /**
   * Reports {@code progress} (the container must be Running).
   *
   * @param progress a finite number, conventionally between 0 and 1
   * @return the record after the write
   */
  public Container reportProgress(double progress) {
    return update(ContainerUpdate.builder().progress(progress).build());
  }

  /**
   * Finishes the container: state Complete with {@code exit_code} and {@code output}, ending the
   * epoch. If a previous attempt's response was lost and the container is already Complete with
   * these values, this returns normally.
   *
   * @param exitCode the process's exit code
   * @param output the output collection's portable data hash, or null
   * @return the record after the write
   */
  public Container complete(int exitCode, @Nullable String output) {
    ContainerUpdate.Builder b = ContainerUpdate.builder().state(ContainerState.COMPLETE).exitCode(exitCode);
    if (output != null) {
      b.output(output);
    }
    return update(b.build());
  }

  /**
   * Cancels the container, ending the epoch.
   *
   * @return the record after the write
   */
  public Container cancel() {
    return update(ContainerUpdate.builder().state(ContainerState.CANCELLED).build());
  }

  /**
   * Cancels the container and records why in {@code runtime_status.error} (replacing
   * {@code runtime_status}), ending the epoch.
   *
   * @param error a short reason, shown to users
   * @return the record after the write
   */
  public Container cancel(String error) {
    if (error == null || error.isBlank()) {
      throw new IllegalArgumentException("error must not be blank; use cancel() for no reason");
    }
    return update(ContainerUpdate.builder().state(ContainerState.CANCELLED).runtimeStatus(Map.of("error", error)).build());
  }

  /**
   * Returns the container to the queue through a guarded update ({@code state: Queued} with the
   * epoch's {@code auth_uuid}), so that a stale process cannot unlock a newer epoch as a plain
   * {@code POST .../unlock} would. The server applies its unlock rules: only the locking token may
   * unlock, and once {@code lock_count} reaches {@code MaxDispatchAttempts} the container is
   * cancelled instead. If a previous attempt's response was lost and the epoch has ended, this
   * returns normally.
   *
   * @return the record after the write (state Queued, or Cancelled)
   */
  public Container unlock() {
    return update(ContainerUpdate.builder().state(ContainerState.QUEUED).build());
  }

  /**
   * Reads the container back and checks that this epoch is still current: state Locked or Running
   * with the same {@code auth_uuid} (for an unfenced lock: the same {@code locked_by_uuid} and
   * {@code lock_count}). One small {@code GET}.
   *
   * @return the record read, for example to look at its priority
   * @throws LostOwnershipException if the epoch has ended
   */
  public Container verify() {
    checkHeld();
    Containers.Read r;
    try {
      r = containers.getJson(containerUuid, Containers.EPOCH_SELECT);
    } catch (NotFoundException e) {
      throw lost(null, "the container no longer exists or is not readable", e);
    } catch (UnauthorizedException e) {
      if (containers.client().isContainerToken(authUuid)) {
        throw lost(null, "the container token was revoked (the container left Locked/Running)", e);
      }
      throw e;
    }
    Container c = r.container;
    lastSeen = c;
    if (epochEnded(c)) {
      throw lost(c, "the epoch is no longer current", null);
    }
    return c;
  }

  // ---- internals ----

  private void checkHeld() {
    LostOwnershipException first = lostCause.get();
    if (first != null) {
      throw new LostOwnershipException(first);
    }
    if (status.get() == Status.RELEASED) {
      throw new IllegalStateException("the lock on " + containerUuid + " was already released (" + releasedBy + ")");
    }
  }

  private static boolean endsEpoch(@Nullable ContainerState target) {
    return target == ContainerState.QUEUED || target == ContainerState.COMPLETE || target == ContainerState.CANCELLED;
  }

  private void release(@Nullable ContainerState how) {
    if (status.compareAndSet(Status.HELD, Status.RELEASED)) {
      releasedBy = how == null ? "update" : how.wireName();
    }
  }

  private boolean epochEnded(Container c) {
    ContainerState s = c.state();
    if (s != ContainerState.LOCKED && s != ContainerState.RUNNING) {
      return true;
    }
    if (isFenced()) {
      return !authUuid.equals(c.authUuid());
    }
    return (lockedByUuid != null && !lockedByUuid.equals(c.lockedByUuid()))
        || (lockCount != null && !lockCount.equals(c.lockCount()))
        || c.authUuid() != null;
  }

  /** Decides what a refused write means: lost ownership, an earlier attempt's success, or an error. */
  private Container handleRefusal(ContainerUpdate update, Http.Outcome o) {
    ArvadosApiException err = http.error(o);
    Containers.Read observed = null;
    if (o.maybeAppliedEarlier && o.status >= 400 && o.status < 500 && o.status != 401) {
      observed = readBackQuietly();
      if (observed != null && earlierAttemptApplied(update, observed)) {
        log.debug("update of {} was applied by an earlier attempt whose response was lost [{}]", containerUuid, o.requestId);
        lastSeen = observed.container;
        if (endsEpoch(update.state())) {
          release(update.state());
        }
        return observed.container;
      }
    }
    boolean authRefused = o.status == 422
        && (err.hasErrorContaining("Auth uuid is readonly") || err.hasErrorContaining("Auth uuid cannot be modified"));
    boolean holderRefused = o.status == 403
        && (err.hasErrorContaining("locked by a different token") || err.hasErrorContaining("Not locked by your token"));
    if (o.status == 401) {
      if (containers.client().isContainerToken(authUuid)) {
        throw lost(null, "the container token was revoked (the container left Locked/Running)", err);
      }
      throw err;
    }
    if (authRefused || holderRefused) {
      if (observed == null) {
        observed = readBackQuietly();
      }
      // The text is the server's evidence; a read-back that still shows this epoch overrides it
      // (the text can also appear inside an echoed field value). Without a read-back, trust it.
      if (observed == null || epochEnded(observed.container)) {
        throw lost(observed == null ? null : observed.container,
            authRefused ? "the server refused the epoch's auth_uuid" : "the lock is held by a different token", err);
      }
      throw err;
    }
    if (o.status == 404 || (isFenced() && o.status == 422)) {
      // Fenced and no auth_uuid complaint: the epoch is current, the caller's fields were refused.
      throw err;
    }
    // Ambiguous text (403 without a known reason, or an unfenced lock): one read-back decides.
    if (observed == null) {
      observed = readBackQuietly();
    }
    if (observed != null && epochEnded(observed.container)) {
      throw lost(observed.container, "the epoch is no longer current", err);
    }
    throw err;
  }

  /** Whether the container already shows what {@code update} asked for, in a way only that write explains. */
  private boolean earlierAttemptApplied(ContainerUpdate update, Containers.Read observed) {
    Container now = observed.container;
    ContainerState target = update.state();
    if (target == ContainerState.QUEUED) {
      return epochEnded(now);
    }
    if (target == ContainerState.COMPLETE || target == ContainerState.CANCELLED) {
      if (now.state() != target) {
        return false;
      }
    } else if (epochEnded(now) || (target != null && now.state() != target)) {
      return false;
    }
    JsonObject wanted = update.toJson();
    for (Map.Entry<String, JsonElement> e : wanted.entrySet()) {
      if (e.getKey().equals("state")) {
        continue;
      }
      JsonElement have = observed.json.get(e.getKey());
      JsonElement want = e.getValue();
      boolean bothNull = want.isJsonNull() && (have == null || have.isJsonNull());
      if (!bothNull && !want.equals(have)) {
        return false;
      }
    }
    return true;
  }

  private Containers.@Nullable Read readBackQuietly() {
    try {
      return containers.getJson(containerUuid, null);
    } catch (ArvadosException e) {
      log.debug("read-back of {} failed: {}", containerUuid, e.getMessage());
      return null;
    }
  }

  private LostOwnershipException lost(@Nullable Container observed, String reason, @Nullable Throwable cause) {
    LostOwnershipException ex = new LostOwnershipException(containerUuid, authUuid, observed, reason, cause);
    if (status.get() == Status.HELD && lostCause.compareAndSet(null, ex)) {
      status.set(Status.LOST);
      log.info("lost ownership of {} (auth_uuid {}): {}", containerUuid, authUuid, reason);
      for (Listener l : listeners) {
        l.fire(ex);
      }
      return ex;
    }
    LostOwnershipException first = lostCause.get();
    return first != null ? new LostOwnershipException(first) : ex;
  }

  private static final class Listener {
    private final Consumer<LostOwnershipException> delegate;
    private final AtomicBoolean fired = new AtomicBoolean();

    Listener(Consumer<LostOwnershipException> delegate) {
      this.delegate = delegate;
    }

    void fire(LostOwnershipException e) {
      if (fired.compareAndSet(false, true)) {
        try {
          delegate.accept(e);
        } catch (RuntimeException ex) {
          log.warn("onLost listener for {} threw {}", e.containerUuid(), ex.toString());
        }
      }
    }
  }

  @Override
  public String toString() {
    return "ContainerLock{container=" + containerUuid + ", auth_uuid=" + authUuid
        + ", locked_by_uuid=" + lockedByUuid + ", status=" + status.get() + '}';
  }
}

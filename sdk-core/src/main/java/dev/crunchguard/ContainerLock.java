package dev.crunchguard;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import okhttp3.HttpUrl;
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
 *               ▼   │                                           applied
 *  lock() ──▶ HELD ─┴── complete / cancel / unlock ──▶ RELEASING ───────▶ RELEASED
 *               ▲                                          │  │
 *               └──── refused for another reason ──────────┘  └─ epoch refused ─▶ LOST
 *               │
 *               └── server refuses the epoch, verify() sees it gone ──▶ LOST (listeners run once)
 * </pre>
 *
 * The state is one atomic value and every transition is one compare-and-set, so a release and a
 * loss detected on another thread cannot both win. While an epoch-ending write is in flight ({@code
 * RELEASING}), only that write decides the outcome: a concurrent {@link #verify()} (the runner's
 * ownership watch, say) that reads the container already Complete does not declare a loss of the
 * epoch this process is finishing; it and any other call on the lock throw {@link
 * IllegalStateException} until the write has been answered.
 *
 * <h2>The guarantee</h2>
 *
 * Every write through this lock is an update of the container carrying {@code auth_uuid} equal to
 * the epoch's value. The server treats an equal value as no change and a different one as a
 * forbidden change, so it applies the write only while the epoch is current: after the container
 * has been requeued, locked again (even by the same token), finished or cancelled, the write is
 * refused and nothing of it is applied. The SDK reports that as {@link LostOwnershipException},
 * after deciding by evidence (the server's {@code auth_uuid} messages, or one read-back of the
 * container) so that a 422 caused by a bad field of the caller's stays an {@link
 * ArvadosServiceException}. Once lost, every call throws at once without a request, and the {@link
 * #onLost} listeners have run exactly once.
 *
 * <h2>Limits</h2>
 *
 * <ul>
 *   <li>The real Arvados server checks {@code auth_uuid} against the record it read before taking
 *       its row lock, so a write racing a concurrent re-lock within that window can still be
 *       applied; the guard closes the gap between epochs, not that window.
 *   <li>A container with a {@code runtime_token} has no {@code auth_uuid}. Its lock is unfenced
 *       ({@link #isFenced()} is false): each write is preceded by a read that compares {@code
 *       locked_by_uuid}, {@code lock_count} and the state, which leaves a window between the read
 *       and the write.
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

  private enum Status {
    HELD,
    RELEASING,
    RELEASED,
    LOST
  }

  /**
   * The lock's whole state, replaced as one value; {@code detail} is the release target or how it
   * was released.
   */
  private record State(
      Status status, @Nullable String detail, @Nullable LostOwnershipException cause) {
    static final State HELD = new State(Status.HELD, null, null);
  }

  private final Containers containers;
  private final Http http;
  private final LockEpoch epoch;
  private final String containerUuid;
  private final @Nullable String authUuid;

  /** The lock's state, replaced as one value through {@link #STATE} (no atomic object per lock). */
  private volatile State state = State.HELD;

  private volatile boolean movedToRunning;
  private volatile @Nullable Container lastSeen;
  private volatile @Nullable HttpUrl updateUrl;

  /**
   * The {@link #onLost} listeners: an array replaced whole through {@link #LISTENERS} when one is
   * added (copy on write without a list object and its monitor per lock).
   */
  private volatile Listener[] listeners = NO_LISTENERS;

  private static final Listener[] NO_LISTENERS = new Listener[0];
  private static final VarHandle STATE;
  private static final VarHandle LISTENERS;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      STATE = l.findVarHandle(ContainerLock.class, "state", State.class);
      LISTENERS = l.findVarHandle(ContainerLock.class, "listeners", Listener[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  ContainerLock(Containers containers, LockEpoch epoch, @Nullable Container seen) {
    this.containers = containers;
    this.http = containers.client().http();
    this.epoch = epoch;
    this.containerUuid = epoch.containerUuid();
    this.authUuid = epoch.authUuid();
    this.lastSeen = seen;
  }

  /**
   * The epoch this lock writes in; also what a dispatcher hands to a runner process ({@link
   * LockEpoch#toEnvironment()}, then {@link Containers#resume(LockEpoch)}).
   *
   * @return the epoch, nothing secret
   */
  public LockEpoch epoch() {
    return epoch;
  }

  /**
   * @return the container this lock is on
   */
  public String containerUuid() {
    return containerUuid;
  }

  /**
   * @return the epoch's {@code auth_uuid} (the fencing token; {@code epoch().authUuid()}), or null
   *     for an unfenced lock
   */
  public @Nullable String authUuid() {
    return authUuid;
  }

  /**
   * Whether the server itself fences this lock's writes with {@code auth_uuid}. False for
   * containers with a {@code runtime_token}, whose writes fall back to a read-compare-write check.
   *
   * @return true if fenced by {@code auth_uuid}
   */
  public boolean isFenced() {
    return epoch.isFenced();
  }

  /**
   * @return true once the SDK knows the epoch ended without this process
   */
  public boolean isLost() {
    return current().status() == Status.LOST;
  }

  /**
   * @return true once this process ended the epoch itself (complete, cancel or unlock)
   */
  public boolean isReleased() {
    return current().status() == Status.RELEASED;
  }

  /**
   * Whether a write through this lock object moved the container to Running in its epoch (the
   * server applied it, or a read-back after a lost answer showed it applied). A dispatcher uses it
   * as evidence that the run is its own before it cancels a container its runner left Running.
   *
   * @return true once this lock's own write made the container Running
   */
  public boolean movedToRunning() {
    return movedToRunning;
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
    Listener[] now;
    Listener[] next;
    do {
      now = listeners;
      next = Arrays.copyOf(now, now.length + 1);
      next[now.length] = l;
    } while (!LISTENERS.compareAndSet(this, now, next));
    LostOwnershipException cause = current().cause();
    if (cause != null) {
      l.fire(cause);
    }
  }

  /**
   * Writes fields of the container in this epoch: one {@code PUT} carrying the epoch's {@code
   * auth_uuid} (for an unfenced lock, a read that checks the epoch comes first).
   *
   * @param update the fields to write
   * @return the container record after the write
   * @throws LostOwnershipException if the epoch has ended; nothing was written
   * @throws ArvadosServiceException if the server refused the write for another reason (for example
   *     a field not writable in the current state)
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
    ContainerState target = update.state();
    if (!endsEpoch(target)) {
      return send(update, State.HELD);
    }
    State releasing = new State(Status.RELEASING, Objects.requireNonNull(target).wireName(), null);
    if (!STATE.compareAndSet(this, State.HELD, releasing)) {
      checkHeld();
      throw new IllegalStateException(
          "the lock on " + containerUuid + " changed state during the call");
    }
    try {
      return send(update, releasing);
    } finally {
      // Neither applied nor lost (a refused field, a transport failure): the epoch is still held.
      STATE.compareAndSet(this, releasing, State.HELD);
    }
  }

  /** One guarded PUT; {@code expect} is the state this write owns (HELD, or its own RELEASING). */
  private Container send(ContainerUpdate update, State expect) {
    // Serialised once, for every attempt.
    okhttp3.RequestBody body =
        okhttp3.RequestBody.create(update.guardedBody(authUuid), Json.MEDIA_TYPE);
    Http.Outcome o;
    try {
      o = http.call("update container " + containerUuid, "PUT", updateUrl(), body);
    } catch (ArvadosTransportException e) {
      // Every answer was lost, and one attempt may have been applied: one read-back decides.
      Containers.Read observed = e.maybeApplied() ? readBack().read() : null;
      if (observed != null && earlierAttemptApplied(update, observed)) {
        log.debug(
            "update of {} was applied although every answer was lost [{}]",
            containerUuid,
            e.requestId());
        return applied(update, expect, observed.container());
      }
      throw e;
    }
    if (o.isSuccess()) {
      // The server applied the write: an epoch-ending one is released even if the body is
      // undecodable.
      if (endsEpoch(update.state())) {
        STATE.compareAndSet(this, expect, released(update.state()));
      } else if (update.state() == ContainerState.RUNNING) {
        movedToRunning = true;
      }
      Container c = http.container(o);
      lastSeen = c;
      return c;
    }
    return handleRefusal(update, o, expect);
  }

  private HttpUrl updateUrl() {
    HttpUrl url = updateUrl;
    if (url == null) {
      url = containers.containerUrl(containerUuid, null, null);
      updateUrl = url;
    }
    return url;
  }

  private Container applied(ContainerUpdate update, State expect, Container observed) {
    lastSeen = observed;
    if (endsEpoch(update.state())) {
      STATE.compareAndSet(this, expect, released(update.state()));
    } else if (update.state() == ContainerState.RUNNING) {
      movedToRunning = true;
    }
    return observed;
  }

  private static State released(@Nullable ContainerState how) {
    return new State(Status.RELEASED, how == null ? "update" : how.wireName(), null);
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
    ContainerUpdate.Builder b =
        ContainerUpdate.builder().state(ContainerState.COMPLETE).exitCode(exitCode);
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
   * Cancels the container and records why in {@code runtime_status.error} (replacing {@code
   * runtime_status}), ending the epoch.
   *
   * @param error a short reason, shown to users
   * @return the record after the write
   */
  public Container cancel(String error) {
    if (error == null || error.isBlank()) {
      throw new IllegalArgumentException("error must not be blank; use cancel() for no reason");
    }
    return update(
        ContainerUpdate.builder()
            .state(ContainerState.CANCELLED)
            .runtimeStatus(Map.of("error", error))
            .build());
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
      throw lost(
          State.HELD,
          LostOwnershipException.Detection.CONTAINER_GONE,
          null,
          "the container no longer exists or is not readable",
          e);
    } catch (UnauthorizedException e) {
      if (containers.client().isContainerToken(authUuid)) {
        throw lost(
            State.HELD,
            LostOwnershipException.Detection.TOKEN_REVOKED,
            null,
            "the container token was revoked (the container left Locked/Running)",
            e);
      }
      throw e;
    }
    Container c = r.container();
    lastSeen = c;
    if (epochEnded(c)) {
      throw lost(
          State.HELD,
          LostOwnershipException.Detection.EPOCH_ENDED,
          c,
          "the epoch is no longer current",
          null);
    }
    return c;
  }

  // ---- internals ----

  /**
   * The state value; never null (the reference starts at HELD and is only ever CAS-ed to values).
   */
  private State current() {
    return state;
  }

  private void checkHeld() {
    State st = current();
    switch (st.status()) {
      case LOST:
        throw LostOwnershipException.alreadyLost(Objects.requireNonNull(st.cause()));
      case RELEASED:
        throw new IllegalStateException(
            "the lock on " + containerUuid + " was already released (" + st.detail() + ")");
      case RELEASING:
        throw new IllegalStateException(
            "the lock on "
                + containerUuid
                + " is being released ("
                + st.detail()
                + ") by a write in flight");
      default:
        break;
    }
  }

  private static boolean endsEpoch(@Nullable ContainerState target) {
    return target == ContainerState.QUEUED
        || target == ContainerState.COMPLETE
        || target == ContainerState.CANCELLED;
  }

  private boolean epochEnded(Container c) {
    return !epoch.isCurrentIn(c);
  }

  /**
   * Decides what a refused write means: lost ownership, an earlier attempt's success, or an error.
   */
  private Container handleRefusal(ContainerUpdate update, Http.Outcome o, State expect) {
    ErrorDetails details = http.details(o);
    ArvadosServiceException err = Http.error(details);
    Refusal why = Refusal.of(details);
    if (why == Refusal.UNAUTHORIZED) {
      if (containers.client().isContainerToken(authUuid)) {
        throw lost(
            expect,
            LostOwnershipException.Detection.TOKEN_REVOKED,
            null,
            "the container token was revoked (the container left Locked/Running)",
            err);
      }
      throw err;
    }
    ReadBack observed = null;
    if (o.maybeAppliedEarlier()) {
      // A refusal (or a last 5xx) after an attempt that may have been applied: did that attempt
      // win?
      observed = readBack();
      if (observed.read() != null && earlierAttemptApplied(update, observed.read())) {
        log.debug(
            "update of {} was applied by an earlier attempt whose response was lost [{}]",
            containerUuid,
            o.requestId());
        return applied(update, expect, observed.read().container());
      }
    }
    if (why == Refusal.STALE_EPOCH) {
      if (observed == null) {
        observed = readBack();
      }
      // The text is the server's evidence; a read-back that still shows this epoch overrides it
      // (the text can also appear inside an echoed field value). Without a read-back, trust it.
      if (observed.read() == null || epochEnded(observed.read().container())) {
        throw lost(
            expect,
            LostOwnershipException.Detection.STALE_EPOCH_REFUSED,
            observed.container(),
            "the server refused the epoch's auth_uuid",
            err);
      }
      throw err;
    }
    if (why == Refusal.SERVER_ERROR || (isFenced() && o.status() == 422)) {
      // The server failed, or (fenced, no auth_uuid complaint) the caller's fields were refused:
      // nothing says the epoch changed.
      throw err;
    }
    // OTHER_HOLDER (this token may not do that: an unlock by a token that is not the locker, say),
    // FORBIDDEN, NOT_FOUND, or a 422 on an unfenced lock: the write says nothing certain about the
    // epoch. One read-back decides: lost if the epoch ended or the container is gone for this
    // token, otherwise the refusal is the caller's and the lock stays held.
    if (observed == null) {
      observed = readBack();
    }
    if (observed.gone()) {
      throw lost(
          expect,
          LostOwnershipException.Detection.CONTAINER_GONE,
          null,
          "the container no longer exists or is not readable",
          err);
    }
    if (observed.read() != null && epochEnded(observed.read().container())) {
      throw lost(
          expect,
          LostOwnershipException.Detection.EPOCH_ENDED,
          observed.read().container(),
          why == Refusal.OTHER_HOLDER
              ? "the lock is held by a different token"
              : "the epoch is no longer current",
          err);
    }
    throw err;
  }

  /**
   * Whether the container already shows what {@code update} asked for, in a way only that write
   * explains.
   */
  private boolean earlierAttemptApplied(ContainerUpdate update, Containers.Read observed) {
    Container now = observed.container();
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
      JsonElement have = observed.json().get(e.getKey());
      JsonElement want = e.getValue();
      boolean bothNull = want.isJsonNull() && (have == null || have.isJsonNull());
      if (!bothNull && !want.equals(have)) {
        return false;
      }
    }
    return true;
  }

  /** A read-back: the record, or {@code gone} (404), or neither (the read failed otherwise). */
  private record ReadBack(Containers.@Nullable Read read, boolean gone) {
    @Nullable Container container() {
      return read == null ? null : read.container();
    }
  }

  private ReadBack readBack() {
    try {
      return new ReadBack(containers.getJson(containerUuid, null), false);
    } catch (NotFoundException e) {
      return new ReadBack(null, true);
    } catch (ArvadosException e) {
      log.debug("read-back of {} failed: {}", containerUuid, e.getMessage());
      return new ReadBack(null, false);
    }
  }

  /**
   * Records the loss if this call owns the lock's state ({@code expect}: HELD, or the caller's own
   * RELEASING), runs the listeners once, and returns the exception to throw. A call that does not
   * own the state (another thread released or is releasing the epoch) never declares a loss: it
   * gets {@link IllegalStateException}, or the first loss if one was already recorded.
   */
  private LostOwnershipException lost(
      State expect,
      LostOwnershipException.Detection detection,
      @Nullable Container observed,
      String reason,
      @Nullable Throwable cause) {
    LostOwnershipException ex =
        new LostOwnershipException(epoch, detection, observed, reason, cause);
    if (STATE.compareAndSet(this, expect, new State(Status.LOST, null, ex))) {
      // The listeners first (a runner's stops its command): the log line may wait on its appender.
      for (Listener l : listeners) {
        l.fire(ex);
      }
      log.info("lost ownership of {} (auth_uuid {}): {}", containerUuid, authUuid, reason);
      return ex;
    }
    checkHeld(); // throws: lost, released or being released by another call
    throw new IllegalStateException(
        "the lock on " + containerUuid + " changed state during the call");
  }

  private static final class Listener {
    private final Consumer<LostOwnershipException> delegate;
    private volatile boolean fired;
    private static final VarHandle FIRED;

    static {
      try {
        FIRED = MethodHandles.lookup().findVarHandle(Listener.class, "fired", boolean.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    Listener(Consumer<LostOwnershipException> delegate) {
      this.delegate = delegate;
    }

    void fire(LostOwnershipException e) {
      if (FIRED.compareAndSet(this, false, true)) {
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
    return "ContainerLock{container="
        + containerUuid
        + ", auth_uuid="
        + authUuid
        + ", locked_by_uuid="
        + epoch.lockedByUuid()
        + ", status="
        + current().status()
        + '}';
  }
}

package dev.crunchguard.runner;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosException;
import dev.crunchguard.CancellationSignal;
import dev.crunchguard.CancellationSource;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.ContainerState;
import dev.crunchguard.ContainerUpdate;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.StopReason;
import dev.crunchguard.internal.Checks;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runner side of a handed-off lock, for crunch-run-like processes. Thread-safe.
 *
 * <p>Built from the environment ({@code ARVADOS_API_HOST}, {@code ARVADOS_API_TOKEN}, {@code
 * ARVADOS_API_HOST_INSECURE} and the {@link LockEpoch} variables), it refuses to start unless the
 * container is Locked in the handed-off epoch. It then runs an <em>ownership watch</em>: every
 * {@code watchInterval} it re-reads the container ({@link ContainerLock#verify()}); when the epoch
 * has ended, the lock's {@code onLost} listeners fire, and when the priority has fallen to 0,
 * {@link #cancellation()} fires. A runner can therefore kill its child process within one interval
 * (plus one round trip) of being fenced off, not only at its next write.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *   try (RunnerContext ctx = RunnerContext.fromEnvironment()) {
 *     RunResult r = ctx.runCommand(ctx.container().command());
 *     System.exit(r.outcome() == RunOutcome.COMPLETED ? 0 : 1);
 *   }
 * }
 * }</pre>
 */
public final class RunnerContext implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RunnerContext.class);

  private final ArvadosClient client;
  private final boolean ownsClient;
  private final ContainerLock lock;
  private final Container container;
  private final CancellationSource stopSource = new CancellationSource();
  private final CancellationSignal cancellation = stopSource.signal();
  private final Duration watchInterval;
  private final Duration killGrace;
  private final ScheduledExecutorService watcher;
  private final ScheduledFuture<?> watch;
  private final AtomicBoolean closed = new AtomicBoolean();

  private RunnerContext(Builder b) {
    this.client = b.client;
    this.ownsClient = b.ownsClient;
    this.watchInterval = b.watchInterval;
    this.killGrace = b.killGrace;
    this.lock = client.containers().resume(b.epoch);
    Container c;
    try {
      c = lock.verify();
    } catch (RuntimeException e) {
      closeOwnedClient();
      throw e;
    }
    if (c.state() != ContainerState.LOCKED) {
      closeOwnedClient();
      throw new IllegalStateException(
          "refusing to start: container "
              + c.uuid()
              + " is "
              + (c.state() == null ? "in an unknown state" : c.state().wireName())
              + ", not Locked, in the handed-off epoch");
    }
    // verify() read only the epoch fields; the runner needs the whole record (command, mounts...).
    Container full;
    try {
      full = client.containers().get(c.uuid());
    } catch (RuntimeException e) {
      closeOwnedClient();
      throw e;
    }
    this.container = full;
    lock.onLost(e -> stopSource.cancel(StopReason.LOST));
    this.watcher =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "crunchguard-ownership-watch");
              t.setDaemon(true);
              return t;
            });
    // At a fixed rate: a check starts every interval whatever the previous one took (a check
    // that overruns is followed at once by the next), so a stale child is stopped within one
    // interval plus the round trip of the read that sees the change.
    this.watch =
        watcher.scheduleAtFixedRate(
            this::check, watchInterval.toNanos(), watchInterval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * A context from this process's environment, with a 5-second watch interval.
   *
   * @return a started context; {@link #close()} also closes its client
   * @throws IllegalStateException if the container is not Locked in the handed-off epoch
   * @throws LostOwnershipException if the handed-off epoch has already ended
   */
  public static RunnerContext fromEnvironment() {
    return builder(ArvadosClient.fromEnvironment(), LockEpoch.fromEnvironment())
        .closeClient(true)
        .start();
  }

  /**
   * A builder for a context on the given client and handed-off epoch.
   *
   * @param client the runner's client
   * @param epoch the epoch handed over by the dispatcher
   * @return a new builder
   */
  public static Builder builder(ArvadosClient client, LockEpoch epoch) {
    return new Builder(client, epoch);
  }

  /**
   * @return the lock in the handed-off epoch
   */
  public ContainerLock lock() {
    return lock;
  }

  /**
   * @return the full container record as read at start
   */
  public Container container() {
    return container;
  }

  /**
   * @return fires when the runner must stop (priority 0, loss, {@link #shutdown()}), with the
   *     reason
   */
  public CancellationSignal cancellation() {
    return cancellation;
  }

  /**
   * Asks the run to stop because this process is going away (for example from a JVM shutdown hook):
   * fires {@link #cancellation()} with {@link StopReason#SHUTDOWN}, so that {@link #runCommand}
   * stops its command (SIGTERM, then SIGKILL after the grace period) and records the container
   * Cancelled. Idempotent.
   */
  public void shutdown() {
    stopSource.cancel(StopReason.SHUTDOWN);
  }

  /**
   * Registers a listener for the loss of the epoch (see {@link ContainerLock#onLost}).
   *
   * @param listener receives the loss, once
   */
  public void onLost(Consumer<LostOwnershipException> listener) {
    lock.onLost(listener);
  }

  private void check() {
    if (lock.isLost() || lock.isReleased()) {
      return;
    }
    try {
      Container c = lock.verify();
      if (c.priority() != null && c.priority() == 0) {
        stopSource.cancel(StopReason.PRIORITY_ZERO);
      }
    } catch (LostOwnershipException e) {
      log.info("ownership watch: {}", e.getMessage());
    } catch (IllegalStateException released) {
      // finished between the check above and verify()
    } catch (ArvadosException e) {
      log.debug("ownership watch could not check {}: {}", lock.containerUuid(), e.getMessage());
    }
  }

  /**
   * Runs a local command for the container: marks it Running, starts the command (inheriting this
   * process's standard streams), stops it on loss or cancellation (SIGTERM, then SIGKILL after the
   * grace period), and records the outcome: Complete with the exit code, Cancelled, or nothing at
   * all when the epoch was lost.
   *
   * @param command the argv, for example {@link Container#command()}
   * @return the outcome
   */
  public RunResult runCommand(List<String> command) {
    Objects.requireNonNull(command, "command");
    if (command.isEmpty()) {
      throw new IllegalArgumentException("command must not be empty");
    }
    return runCommand(new ProcessBuilder(command).inheritIO());
  }

  /**
   * Like {@link #runCommand(List)} with a caller-configured {@link ProcessBuilder} (working
   * directory, environment, redirections).
   *
   * @param pb the process to start
   * @return the outcome
   */
  public RunResult runCommand(ProcessBuilder pb) {
    Objects.requireNonNull(pb, "pb");
    try {
      lock.update(
          ContainerUpdate.builder()
              .state(ContainerState.RUNNING)
              .runtimeStatus(Map.of("activity", "running " + String.join(" ", pb.command())))
              .build());
    } catch (LostOwnershipException e) {
      return new RunResult(RunOutcome.LOST, null, e);
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      try {
        lock.cancel("could not start the command: " + e.getMessage());
      } catch (LostOwnershipException lost) {
        return new RunResult(RunOutcome.LOST, null, lost);
      }
      return new RunResult(RunOutcome.FAILED_TO_START, null, null);
    }
    cancellation.onCancel(reason -> stop(p, reason));
    int exit;
    try {
      exit = p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop(p, StopReason.SHUTDOWN);
      return finish(null, StopReason.SHUTDOWN);
    }
    StopReason reason = cancellation.reason();
    return finish(reason == null ? exit : null, reason);
  }

  private RunResult finish(@Nullable Integer exit, @Nullable StopReason reason) {
    try {
      if (reason == StopReason.LOST || lock.isLost()) {
        lock.verify(); // throws: fail fast with the recorded loss
      }
      if (reason != null) {
        lock.cancel(
            "stopped: " + reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
        return new RunResult(RunOutcome.CANCELLED, null, null);
      }
      lock.complete(Objects.requireNonNull(exit), null);
      return new RunResult(RunOutcome.COMPLETED, exit, null);
    } catch (LostOwnershipException e) {
      return new RunResult(RunOutcome.LOST, exit, e);
    }
  }

  private void stop(Process p, StopReason reason) {
    if (!p.isAlive()) {
      return;
    }
    // The command's process tree first: once the command exits, its children are no longer its
    // descendants (they are re-parented), and a SIGTERM can make it exit before a scan after it
    // ends. Then the SIGTERMs: nothing else (not even the log line, which may block on a slow
    // appender) comes between the watch seeing the change and the signals.
    List<ProcessHandle> tree = p.descendants().toList();
    p.destroy();
    tree.forEach(ProcessHandle::destroy);
    log.info("stopping the command of {}: {}", lock.containerUuid(), reason);
    // Not on the watch thread: close() may already have shut it down, and the SIGKILL must still
    // come.
    java.util.concurrent.CompletableFuture.delayedExecutor(
            killGrace.toNanos(), TimeUnit.NANOSECONDS)
        .execute(
            () -> {
              p.descendants().forEach(ProcessHandle::destroyForcibly); // started since
              for (ProcessHandle h : tree) {
                if (h.isAlive()) { // a handle also checks the start time: never a reused pid
                  h.destroyForcibly();
                }
              }
              if (p.isAlive()) {
                p.destroyForcibly();
              }
            });
  }

  /** Stops the ownership watch and, if this context created its client, closes it. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    watch.cancel(false);
    watcher.shutdown();
    closeOwnedClient();
  }

  private void closeOwnedClient() {
    if (ownsClient) {
      client.close();
    }
  }

  @Override
  public String toString() {
    return "RunnerContext{lock=" + lock + ", watchInterval=" + watchInterval + '}';
  }

  /** Builds and starts a {@link RunnerContext}. */
  public static final class Builder {
    private final ArvadosClient client;
    private final LockEpoch epoch;
    private Duration watchInterval = Duration.ofSeconds(5);
    private Duration killGrace = Duration.ofSeconds(10);
    private boolean ownsClient;

    private Builder(ArvadosClient client, LockEpoch epoch) {
      this.client = Objects.requireNonNull(client, "client");
      this.epoch = Objects.requireNonNull(epoch, "epoch");
    }

    /**
     * Time between two ownership checks (default 5 s); positive.
     *
     * @param interval time between two ownership checks (default 5 s); positive
     * @return this builder
     */
    public Builder watchInterval(Duration interval) {
      this.watchInterval = Checks.positive(interval, "watchInterval");
      return this;
    }

    /**
     * Time between SIGTERM and SIGKILL when stopping a command (default 10 s).
     *
     * @param grace time between SIGTERM and SIGKILL when stopping a command (default 10 s)
     * @return this builder
     */
    public Builder killGrace(Duration grace) {
      this.killGrace = Checks.positive(grace, "killGrace");
      return this;
    }

    /**
     * Whether {@link RunnerContext#close()} closes the client (default false).
     *
     * @param owns whether {@link RunnerContext#close()} closes the client (default false)
     * @return this builder
     */
    public Builder closeClient(boolean owns) {
      this.ownsClient = owns;
      return this;
    }

    /**
     * Checks the epoch and starts the ownership watch.
     *
     * @return the context
     * @throws IllegalStateException if the container is not Locked in the handed-off epoch
     * @throws LostOwnershipException if the epoch has already ended
     */
    public RunnerContext start() {
      return new RunnerContext(this);
    }
  }
}

package dev.crunchguard.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * Starts racing writers at the same instant and collects what each one returned or threw. Each
 * writer gets its own thread; every thread first waits at a closed gate, and the gate opens only
 * once all of them are waiting, so that the writers' first requests leave together.
 *
 * <pre>{@code
 * StartGate.Results<RivalWriter.Response> r =
 *     StartGate.race(Duration.ofSeconds(10), () -> first.lock(uuid), () -> second.lock(uuid));
 * assertThat(r.values()).extracting(RivalWriter.Response::status).containsExactlyInAnyOrder(200, 422);
 * }</pre>
 *
 * <p>{@code race} returns only when every writer has finished, or when the timeout has passed: then
 * the late writers are interrupted and given a short grace to end, and their outcomes say they
 * timed out. No thread of a race outlives it unless a writer ignores interrupts; {@link
 * Results#values()} reports such a writer as a failure. Thread-safe: several races may run at once.
 */
public final class StartGate {
  private static final AtomicInteger RACES = new AtomicInteger();
  private static final Duration GRACE = Duration.ofSeconds(2);

  private StartGate() {}

  /** One racing writer. */
  @FunctionalInterface
  public interface Racer<T> {
    /**
     * Runs one writer.
     *
     * @param index the writer's index, {@code 0..n-1}
     * @return what the writer produced (may be null)
     * @throws Exception whatever the writer throws; it is collected, not rethrown
     */
    @Nullable T run(int index) throws Exception;
  }

  /**
   * Races {@code writers} instances of one writer, told apart by their index.
   *
   * @param <T> what a writer returns
   * @param writers how many, {@code >= 1}
   * @param timeout how long all of them together may take after the gate opens, positive
   * @param racer the writer, called once per index
   * @return the outcomes, in index order
   * @throws IllegalArgumentException when {@code writers < 1} or {@code timeout} is not positive
   */
  public static <T> Results<T> race(int writers, Duration timeout, Racer<? extends T> racer) {
    if (writers < 1) {
      throw new IllegalArgumentException("writers must be >= 1");
    }
    Objects.requireNonNull(racer, "racer");
    List<Callable<? extends T>> calls = new ArrayList<>();
    for (int i = 0; i < writers; i++) {
      int index = i;
      calls.add(() -> racer.run(index));
    }
    return race(timeout, calls);
  }

  /**
   * Races different writers, given one by one: {@code race(timeout, () -> a.lock(u), () ->
   * b.lock(u))}.
   *
   * @param <T> what a writer returns
   * @param timeout how long all of them together may take after the gate opens, positive
   * @param writers the writers, at least one
   * @return the outcomes, in the writers' order
   * @throws IllegalArgumentException when there is no writer or {@code timeout} is not positive
   */
  @SafeVarargs
  public static <T> Results<T> race(Duration timeout, Callable<? extends T>... writers) {
    List<Callable<? extends T>> list = new ArrayList<>(writers.length);
    for (Callable<? extends T> w : writers) {
      list.add(w);
    }
    return race(timeout, list);
  }

  /**
   * Races different writers.
   *
   * @param <T> what a writer returns
   * @param timeout how long all of them together may take after the gate opens, positive
   * @param writers the writers, at least one
   * @return the outcomes, in the writers' order
   * @throws IllegalArgumentException when {@code writers} is empty or {@code timeout} is not
   *     positive
   */
  public static <T> Results<T> race(
      Duration timeout, List<? extends Callable<? extends T>> writers) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive");
    }
    if (writers.isEmpty()) {
      throw new IllegalArgumentException("at least one writer is needed");
    }
    int n = writers.size();
    int race = RACES.incrementAndGet();
    CountDownLatch ready = new CountDownLatch(n);
    CountDownLatch gate = new CountDownLatch(1);
    AtomicReferenceArray<Outcome<T>> outcomes = new AtomicReferenceArray<>(n);
    List<Thread> threads = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int index = i;
      Callable<? extends T> writer = Objects.requireNonNull(writers.get(i), "writer");
      Thread t =
          new Thread(
              () -> {
                ready.countDown();
                try {
                  gate.await();
                } catch (InterruptedException e) {
                  outcomes.set(index, Outcome.interruptedAtTheGate(index));
                  return;
                }
                try {
                  outcomes.set(index, Outcome.value(index, writer.call()));
                } catch (Throwable e) { // collected for the caller, whatever it is
                  outcomes.set(index, Outcome.failure(index, e));
                }
              },
              "start-gate-" + race + "-" + i);
      t.setDaemon(true);
      threads.add(t);
    }
    threads.forEach(Thread::start);
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      if (!ready.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("the writers' threads did not start within " + timeout);
      }
      gate.countDown();
      for (Thread t : threads) {
        long left = deadline - System.nanoTime();
        if (left > 0) {
          TimeUnit.NANOSECONDS.timedJoin(t, left);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      gate.countDown();
    }
    boolean[] late = new boolean[n];
    for (int i = 0; i < n; i++) {
      late[i] = threads.get(i).isAlive();
    }
    stopLate(threads);
    List<Outcome<T>> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Outcome<T> o = outcomes.get(i);
      if (late[i] || o == null || threads.get(i).isAlive()) {
        // What a late writer threw once interrupted is kept as the cause.
        out.add(new Outcome<>(i, null, o == null ? null : o.failure(), true));
      } else {
        out.add(o);
      }
    }
    return new Results<>(out);
  }

  private static void stopLate(List<Thread> threads) {
    threads.stream().filter(Thread::isAlive).forEach(Thread::interrupt);
    long deadline = System.nanoTime() + GRACE.toNanos();
    boolean interrupted = false;
    for (Thread t : threads) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        TimeUnit.NANOSECONDS.timedJoin(t, left);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * What one writer did.
   *
   * @param <T> what the writer returns
   * @param index the writer's index
   * @param value what it returned, or null when it threw or timed out (or returned null)
   * @param failure what it threw (for a writer that timed out: what it threw once interrupted), or
   *     null
   * @param timedOut whether it had not finished when the race's timeout passed
   */
  public record Outcome<T>(
      int index, @Nullable T value, @Nullable Throwable failure, boolean timedOut) {
    static <T> Outcome<T> value(int index, @Nullable T value) {
      return new Outcome<>(index, value, null, false);
    }

    static <T> Outcome<T> failure(int index, Throwable failure) {
      return new Outcome<>(index, null, failure, false);
    }

    static <T> Outcome<T> interruptedAtTheGate(int index) {
      return new Outcome<>(index, null, null, true);
    }

    /**
     * Whether the writer returned normally.
     *
     * @return true when it neither threw nor timed out
     */
    public boolean succeeded() {
      return failure == null && !timedOut;
    }
  }

  /**
   * The outcomes of one race, in the writers' order. Immutable.
   *
   * @param <T> what a writer returns
   */
  public static final class Results<T> {
    private final List<Outcome<T>> outcomes;

    private Results(List<Outcome<T>> outcomes) {
      this.outcomes = List.copyOf(outcomes);
    }

    /**
     * Every writer's outcome.
     *
     * @return an immutable list, one outcome per writer, in order
     */
    public List<Outcome<T>> outcomes() {
      return outcomes;
    }

    /**
     * What the writers returned, when all of them returned.
     *
     * @return the values in the writers' order (null values included)
     * @throws AssertionError when a writer threw (the first failure is the cause, the others are
     *     suppressed) or timed out
     */
    public List<@Nullable T> values() {
      AssertionError error = null;
      List<@Nullable T> values = new ArrayList<>();
      for (Outcome<T> o : outcomes) {
        if (o.succeeded()) {
          values.add(o.value());
          continue;
        }
        String what =
            o.timedOut() ? "writer " + o.index() + " timed out" : "writer " + o.index() + " threw";
        if (error == null) {
          error = new AssertionError(what, o.failure());
        } else {
          AssertionError next = new AssertionError(what, o.failure());
          error.addSuppressed(next);
        }
      }
      if (error != null) {
        throw error;
      }
      return values;
    }

    /**
     * What the writers that finished in time threw.
     *
     * @return the failures in the writers' order; empty when none threw
     */
    public List<Throwable> failures() {
      List<Throwable> l = new ArrayList<>();
      for (Outcome<T> o : outcomes) {
        Throwable f = o.failure();
        if (f != null && !o.timedOut()) {
          l.add(f);
        }
      }
      return l;
    }

    /**
     * How many writers had not finished when the timeout passed.
     *
     * @return the number of timed-out writers
     */
    public int timedOut() {
      return (int) outcomes.stream().filter(Outcome::timedOut).count();
    }

    @Override
    public String toString() {
      return "StartGate.Results" + outcomes;
    }
  }
}

package dev.crunchguard.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An opt-in JUnit 5 extension that fails a test which leaves Crunch Guard's threads or busy
 * connections behind: a dispatcher, runner context or event stream not closed, a request still in
 * flight.
 *
 * <p>After each test it checks, allowing a short grace (default 2 s) for threads that are shutting
 * down:
 *
 * <ul>
 *   <li>no thread started during the test is still alive whose name starts with {@code
 *       crunchguard-} (the SDK's dispatcher poll and runner threads, the runner's ownership watch,
 *       the event stream's timer and delivery threads), {@code start-gate-} (a {@link StartGate}
 *       writer), or a prefix added with {@link #threadsNamed(String)};
 *   <li>every watched {@link ArvadosSimulator} has no request in flight ({@link
 *       ArvadosSimulator#requestsInFlight()});
 *   <li>every watched OkHttp client has no running call and no connection in use (idle pooled
 *       connections are fine).
 * </ul>
 *
 * <p>Threads that were alive before the test started are not blamed on it. Register it with
 * {@code @ExtendWith(LeakCheckExtension.class)}, or as a field to watch clients and simulators:
 *
 * <pre>{@code
 * @RegisterExtension final LeakCheckExtension leaks = new LeakCheckExtension();
 *
 * @Test void dispatcherStops(ArvadosSimulator sim) {
 *   leaks.watch(sim);
 *   try (Dispatcher d = ...) { ... }
 * }
 * }</pre>
 *
 * <p>Watched objects are forgotten after each test. Thread-safe.
 */
public final class LeakCheckExtension implements BeforeEachCallback, AfterEachCallback {
  /** The name prefix of every thread the Crunch Guard SDK starts. */
  public static final String SDK_THREAD_PREFIX = "crunchguard-";

  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(LeakCheckExtension.class);

  private final List<String> prefixes =
      new CopyOnWriteArrayList<>(List.of(SDK_THREAD_PREFIX, "start-gate-"));
  private final List<ArvadosSimulator> simulators = new CopyOnWriteArrayList<>();
  private final List<OkHttpClient> clients = new CopyOnWriteArrayList<>();
  private volatile Duration grace = Duration.ofSeconds(2);

  /** An extension checking the SDK's threads (and {@link StartGate}'s) with a 2 s grace. */
  public LeakCheckExtension() {}

  /**
   * Also checks threads whose name starts with {@code prefix}, e.g. your own executor's.
   *
   * @param prefix a thread name prefix, not empty
   * @return this extension
   * @throws IllegalArgumentException when {@code prefix} is empty
   */
  public LeakCheckExtension threadsNamed(String prefix) {
    if (prefix.isEmpty()) {
      throw new IllegalArgumentException("prefix must not be empty");
    }
    prefixes.add(prefix);
    return this;
  }

  /**
   * How long after the test threads may take to end and requests to finish (default 2 s).
   *
   * @param grace zero or positive
   * @return this extension
   * @throws IllegalArgumentException when {@code grace} is negative
   */
  public LeakCheckExtension grace(Duration grace) {
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace must not be negative");
    }
    this.grace = grace;
    return this;
  }

  /**
   * Checks after the current test that {@code sim} has no request in flight.
   *
   * @param sim a simulator; must not be null
   * @return {@code sim}
   */
  public ArvadosSimulator watch(ArvadosSimulator sim) {
    simulators.add(Objects.requireNonNull(sim, "sim"));
    return sim;
  }

  /**
   * Checks after the current test that {@code client} has no running call and no connection in use.
   *
   * @param client an OkHttp client; must not be null
   * @return {@code client}
   */
  public OkHttpClient watch(OkHttpClient client) {
    clients.add(Objects.requireNonNull(client, "client"));
    return client;
  }

  /**
   * Remembers the matching threads alive before the test.
   *
   * @param context the test's context
   */
  @Override
  public void beforeEach(ExtensionContext context) {
    Set<Long> before = new HashSet<>();
    for (Thread t : matching()) {
      before.add(t.getId());
    }
    context.getStore(NS).put("before", before);
  }

  /**
   * Fails the test when a matching thread started during it is still alive, or a watched simulator
   * or client is still busy, once the grace has passed.
   *
   * @param context the test's context
   * @throws AssertionError naming the leaked threads and busy objects
   */
  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    @SuppressWarnings("unchecked")
    Set<Long> before = context.getStore(NS).remove("before", Set.class);
    Set<Long> existing = before == null ? Set.of() : before;
    long deadline = System.nanoTime() + grace.toNanos();
    List<String> problems;
    try {
      while (true) {
        problems = problems(existing);
        if (problems.isEmpty() || System.nanoTime() >= deadline) {
          break;
        }
        Thread.sleep(20);
      }
    } finally {
      simulators.clear();
      clients.clear();
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(
          "the test left Crunch Guard work behind after "
              + grace.toMillis()
              + " ms: "
              + String.join("; ", problems));
    }
  }

  private List<String> problems(Set<Long> existing) {
    List<String> problems = new ArrayList<>();
    List<String> leaked =
        matching().stream()
            .filter(t -> !existing.contains(t.getId()))
            .map(Thread::getName)
            .sorted()
            .collect(Collectors.toList());
    if (!leaked.isEmpty()) {
      problems.add("threads still running: " + leaked);
    }
    for (ArvadosSimulator sim : simulators) {
      int n = sim.requestsInFlight();
      if (n > 0) {
        problems.add(n + " request(s) in flight on " + sim);
      }
    }
    for (OkHttpClient c : clients) {
      int running = c.dispatcher().runningCallsCount();
      int busy = c.connectionPool().connectionCount() - c.connectionPool().idleConnectionCount();
      if (running > 0 || busy > 0) {
        problems.add(
            "an OkHttp client has "
                + running
                + " running call(s), "
                + busy
                + " busy connection(s)");
      }
    }
    return problems;
  }

  private List<Thread> matching() {
    List<Thread> out = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && prefixes.stream().anyMatch(p -> t.getName().startsWith(p))) {
        out.add(t);
      }
    }
    return out;
  }
}

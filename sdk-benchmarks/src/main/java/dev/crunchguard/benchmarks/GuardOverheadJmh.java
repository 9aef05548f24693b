package dev.crunchguard.benchmarks;

import dev.crunchguard.Container;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Benchmark 1 under JMH: a guarded update against a raw OkHttp PUT of the same body, each against
 * the simulator and against a fixed responder, both in another process (so {@code -prof gc} counts
 * only the client's allocations). Run through {@code bench --parts jmh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GuardOverheadJmh {
  /** Which server answers: {@code simulator} or {@code fixed}. */
  @Param({"simulator", "fixed"})
  public String server;

  /**
   * Guarded and raw calls made in set-up, untimed, to warm the server JVM and both client paths.
   */
  @Param({"3000"})
  public int warmCalls;

  private OverheadFixture fixture;

  /** Creates the benchmark; JMH instantiates it. */
  public GuardOverheadJmh() {}

  /**
   * Starts the server process and takes the lock.
   *
   * @throws IOException if the server process does not start
   */
  @Setup(Level.Trial)
  public void setUp() throws IOException {
    fixture = OverheadFixture.start(server);
    for (int i = 0; i < warmCalls; i++) {
      fixture.guarded();
      fixture.raw();
    }
  }

  /** Stops the server process. */
  @TearDown(Level.Trial)
  public void tearDown() {
    fixture.close();
  }

  /**
   * {@code ContainerLock.update}: one guarded PUT, response decoded into a {@link Container}.
   *
   * @return the updated record (JMH consumes it)
   */
  @Benchmark
  public Container guardedUpdate() {
    return fixture.guarded();
  }

  /**
   * The same PUT through OkHttp directly, response read as bytes.
   *
   * @return the response's length (JMH consumes it)
   * @throws IOException if the call fails
   */
  @Benchmark
  public int rawPut() throws IOException {
    return fixture.raw();
  }
}

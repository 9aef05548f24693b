package dev.crunchguard.examples;

import dev.crunchguard.examples.cli.Cli;
import java.io.PrintStream;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * {@code --until-idle}: waits for a dispatcher to go idle, printing a progress line on stderr every
 * few seconds so that a long run shows it is alive.
 */
final class IdleWait {
  /** How often the progress line is printed. */
  static final Duration EVERY = Duration.ofSeconds(10);

  /** A dispatcher's wait for idleness. */
  interface Idle {
    boolean await(Duration max) throws InterruptedException;
  }

  private IdleWait() {}

  /**
   * {@code --until-idle} as a command ends: waits, prints the final counters, and gives the exit
   * status.
   *
   * @return {@link Cli#OK} once idle, {@link Cli#FAILED} when {@code timeout} passed first
   */
  static int untilIdle(Idle idle, Supplier<String> status, Duration timeout, PrintStream err)
      throws InterruptedException {
    boolean done = await(idle, status, timeout, EVERY, err);
    err.println("dispatcher " + (done ? "idle" : "timed out") + ": " + status.get());
    return done ? Cli.OK : Cli.FAILED;
  }

  /**
   * @return true once idle, false when {@code timeout} passed first
   */
  static boolean await(
      Idle idle, Supplier<String> status, Duration timeout, Duration every, PrintStream err)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      if (idle.await(Duration.ofNanos(Math.min(every.toNanos(), left)))) {
        return true;
      }
      err.println("dispatching: " + status.get());
      err.flush();
    }
  }
}

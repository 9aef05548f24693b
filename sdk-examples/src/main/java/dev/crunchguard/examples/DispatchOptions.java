package dev.crunchguard.examples;

import java.io.PrintStream;
import java.time.Duration;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The options {@code dispatch} and {@code dispatch-slurm} share (a picocli mixin): the runners'
 * watch, the orphan grace, and how long to run ({@code --until-idle}, {@code --timeout}).
 */
final class DispatchOptions {
  @Option(
      paramLabel = "<duration>",
      names = "--watch-interval",
      defaultValue = "2s",
      description = "the runners' ownership watch (default ${DEFAULT-VALUE})")
  Duration watch = Duration.ofSeconds(2);

  @Option(
      paramLabel = "<duration>",
      names = "--orphan-grace",
      defaultValue = "5m",
      description =
          "how long a container Locked by this token, with nothing running it here, waits before"
              + " it is unlocked (default ${DEFAULT-VALUE})")
  Duration orphanGrace = Duration.ofMinutes(5);

  @Option(
      names = "--until-idle",
      description = "exit once nothing is Queued and every run has finished")
  boolean untilIdle;

  @Option(
      names = "--timeout",
      paramLabel = "<duration>",
      description = "stop after this long (default: never)")
  @Nullable Duration timeout;

  /**
   * Runs until idle ({@code --until-idle}) or until {@code --timeout}.
   *
   * @return the exit status
   */
  int run(IdleWait.Idle idle, Supplier<String> status, PrintStream err)
      throws InterruptedException {
    Duration limit = timeout == null ? Duration.ofDays(3650) : timeout;
    if (untilIdle) {
      return IdleWait.untilIdle(idle, status, limit, err);
    }
    Thread.sleep(limit.toMillis());
    return dev.crunchguard.examples.cli.Cli.OK;
  }
}

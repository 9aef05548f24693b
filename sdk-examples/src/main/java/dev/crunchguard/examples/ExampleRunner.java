package dev.crunchguard.examples;

import dev.crunchguard.LostOwnershipException;
import dev.crunchguard.runner.RunResult;
import dev.crunchguard.runner.RunnerContext;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * The runner side ({@code run}, {@link RunCommand}): started by {@link LocalDispatcher} or {@link
 * SlurmDispatcher} as a separate JVM with the lock handed off through the environment. It checks
 * the epoch, runs the container's {@code command} as a local process, and records the outcome; its
 * ownership watch stops the process within one interval of the epoch ending.
 *
 * <p>Exit status: 0 when the container was completed (whatever the command's own exit code, which
 * is recorded in {@code exit_code}), 3 when it was cancelled, 4 when the lock was lost, 5 when the
 * command could not be started, 2 on a usage error or a refused start.
 */
final class ExampleRunner {
  /** Exit status of a usage error or a refused start: the runner never touched the container. */
  static final int REFUSED_TO_START = 2;

  private ExampleRunner() {}

  /** Exit status of a completed container (whatever the command's own exit code). */
  static final int COMPLETED = 0;

  /** Exit status of a cancelled container. */
  static final int CANCELLED = 3;

  /** Exit status of a lost lock: the epoch ended under the runner. */
  static final int LOST = 4;

  /** Exit status of a command that could not be started. */
  static final int NOT_STARTED = 5;

  /**
   * Runs the container handed over in the environment.
   *
   * @return the exit status (see the class comment)
   */
  static int run(Duration watch, Duration grace, PrintStream err) {
    RunnerContext ctx;
    try {
      ctx =
          RunnerContext.builder(
                  dev.crunchguard.ArvadosClient.fromEnvironment(),
                  dev.crunchguard.LockEpoch.fromEnvironment())
              .watchInterval(watch)
              .killGrace(grace)
              .closeClient(true)
              .start();
    } catch (IllegalStateException | IllegalArgumentException | LostOwnershipException e) {
      err.println("runner: refusing to start: " + e.getMessage());
      return REFUSED_TO_START;
    }
    try (ctx) {
      ctx.onLost(
          e -> err.println("runner: fenced off " + e.containerUuid() + ": " + e.getMessage()));
      List<String> command = ctx.container().command();
      if (command.isEmpty()) {
        ctx.lock().cancel("the container has no command");
        return CANCELLED;
      }
      Thread hook = new Thread(ctx::shutdown);
      Runtime.getRuntime().addShutdownHook(hook);
      RunResult r = ctx.runCommand(command);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the JVM is already exiting
      }
      err.println(
          "runner: "
              + ctx.lock().containerUuid()
              + " "
              + r.outcome()
              + (r.exitCode() == null ? "" : " exit_code=" + r.exitCode()));
      switch (r.outcome()) {
        case COMPLETED:
          return COMPLETED;
        case CANCELLED:
          return CANCELLED;
        case LOST:
          return LOST;
        default:
          return NOT_STARTED;
      }
    }
  }
}

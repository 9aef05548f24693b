package dev.crunchguard.examples;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code run}: the command line of the {@link ExampleRunner}. */
@Command(
    name = "run",
    description = {
      "The runner side, started by 'dispatch' or 'dispatch-slurm' with the lock in its"
          + " environment: checks the epoch, runs the container's command, records the outcome."
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:the container was completed (its command's exit code is in exit_code)",
      "2:usage error, or refused to start (no lock handed over, or not Locked in that epoch)",
      "3:the container was cancelled",
      "4:the lock was lost: the epoch ended under the runner",
      "5:the command could not be started",
      "130:interrupted"
    })
final class RunCommand implements Callable<Integer> {
  @ParentCommand Main main;

  @Option(
      paramLabel = "<duration>",
      names = "--watch-interval",
      defaultValue = "2s",
      description =
          "how often the ownership watch re-reads the container (default ${DEFAULT-VALUE})")
  Duration watch;

  @Option(
      paramLabel = "<duration>",
      names = "--kill-grace",
      defaultValue = "5s",
      description =
          "how long the command has to exit after SIGTERM before it is killed (default"
              + " ${DEFAULT-VALUE})")
  Duration grace;

  @Override
  public Integer call() {
    return ExampleRunner.run(watch, grace, main.err);
  }
}

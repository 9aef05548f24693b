package dev.crunchguard.examples;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code slurm-demo-runner}: the runner inside each Slurm job of the {@code slurm-demo} ({@link
 * SlurmRaceDemo#runner}); it reports its events as JSON lines on stdout ({@link
 * SlurmRaceDemo.RunnerEvent}).
 */
@Command(
    name = "slurm-demo-runner",
    hidden = true,
    description = "Internal: the runner of slurm-demo's jobs.")
final class SlurmDemoRunnerCommand implements Callable<Integer> {
  /** Which updates the runner sends. */
  enum Mode {
    GUARDED,
    PLAIN
  }

  @ParentCommand Main main;

  @Option(names = "--mode", defaultValue = "guarded")
  Mode mode;

  @Option(paramLabel = "<duration>", names = "--stage", defaultValue = "4s")
  Duration stage;

  @Option(paramLabel = "<duration>", names = "--watch-interval", defaultValue = "1s")
  Duration watch;

  @Override
  public Integer call() throws Exception {
    return SlurmRaceDemo.runner(mode == Mode.GUARDED, stage, watch, main.out, main.err);
  }
}

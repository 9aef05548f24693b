package dev.crunchguard.examples;

import dev.crunchguard.examples.cli.Cli;
import dev.crunchguard.examples.cli.Durations;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code slurm-demo}: the command line of the {@link SlurmRaceDemo}. */
@Command(
    name = "slurm-demo",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:the guarded half showed the race and its fence",
      "1:it did not (the report says why), or the demo failed",
      "2:usage error",
      "130:interrupted"
    },
    description = {
      "The seed race on a real Slurm: jobs hidden from one squeue snapshot are unlocked, locked"
          + " and submitted again while the first jobs still run; with and without the guard."
          + " Needs Slurm's commands on PATH (src/ci/slurm.sh starts a private one).",
      "Exits 0 when the guarded half fenced every first job off and completed every container"
          + " once, 1 otherwise."
    })
final class SlurmDemoCommand implements Callable<Integer> {
  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Option(
      paramLabel = "<n>",
      names = "--containers",
      defaultValue = "4",
      description = "containers (default ${DEFAULT-VALUE})")
  int containers;

  @Option(
      paramLabel = "<duration>",
      names = "--stage",
      defaultValue = "4s",
      description = "how long each runner stages (default ${DEFAULT-VALUE})")
  Duration stage;

  @Option(
      paramLabel = "<duration>",
      names = "--watch-interval",
      defaultValue = "1s",
      description = "the runners' ownership watch (default ${DEFAULT-VALUE})")
  Duration watch;

  @Option(
      paramLabel = "<duration>",
      names = "--poll-interval",
      defaultValue = "500ms",
      description = "the dispatcher's poll interval (default ${DEFAULT-VALUE})")
  Duration poll;

  @Option(
      paramLabel = "<duration>",
      names = "--timeout",
      defaultValue = "3m",
      description = "the longest a half may take (default ${DEFAULT-VALUE})")
  Duration timeout;

  @Option(names = "--guarded-only", description = "run only the guarded half")
  boolean guardedOnly;

  @Override
  public Integer call() throws Exception {
    Cli.inRange(spec, "--containers", containers, 1, 64);
    if (stage.compareTo(watch.multipliedBy(2)) < 0) {
      throw Cli.usageError(
          spec,
          "--stage must be at least twice --watch-interval, so the fence can act during staging");
    }
    PrintStream out = main.out;
    PrintStream err = main.err;
    SlurmRaceDemo demo = new SlurmRaceDemo(containers, stage, watch, poll, timeout, err);
    err.printf(
        "slurm demo: %d containers, staging %s, watch interval %s%n",
        containers, Durations.format(stage), Durations.format(watch));
    SlurmRaceDemo.Result guarded = demo.run(true);
    SlurmRaceDemo.Result plain = guardedOnly ? null : demo.run(false);
    out.print(SlurmRaceDemo.report(guarded, plain));
    if (!guarded.ok()) {
      out.println("FAILED: " + guarded.safety().summary());
      return Cli.FAILED;
    }
    return Cli.OK;
  }
}

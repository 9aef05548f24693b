package dev.crunchguard.examples;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.dispatch.DispatchListener;
import dev.crunchguard.examples.cli.Cli;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dispatch-slurm}: the command line of the {@link SlurmDispatcher}. */
@Command(
    name = "dispatch-slurm",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:stopped (--timeout), or idle (--until-idle)",
      "1:--until-idle timed out, or the dispatcher failed",
      "2:usage error",
      "130:interrupted"
    },
    description = {
      "A Slurm dispatcher (like crunch-dispatch-slurm): one sbatch job per locked container,"
          + " running the example runner with the lock in its environment. Reads ARVADOS_API_HOST,"
          + " ARVADOS_API_TOKEN (admin), ARVADOS_API_HOST_INSECURE; Slurm's own SLURM_CONF.",
      "With --until-idle: exits 0 once nothing is Queued and every job has left the queue (a"
          + " progress line on stderr every 10 s), 1 if --timeout passes first."
    })
final class DispatchSlurmCommand implements Callable<Integer> {
  @ParentCommand Main main;
  @Spec CommandSpec spec;
  @Mixin DispatchOptions run;

  @Option(names = "--partition", description = "the Slurm partition (default: Slurm's default)")
  @Nullable String partition;

  @Option(
      paramLabel = "<n>",
      names = "--concurrency",
      defaultValue = "8",
      description = "jobs at once (default ${DEFAULT-VALUE})")
  int concurrency;

  @Option(
      paramLabel = "<duration>",
      names = "--poll-interval",
      defaultValue = "10s",
      description = "how often squeue and the queue are read (default ${DEFAULT-VALUE})")
  Duration poll;

  @Option(
      names = "--log-dir",
      paramLabel = "<dir>",
      description = "the jobs' output files, <dir>/<uuid>-<job id>.out (default: Slurm's)")
  @Nullable String logDir;

  @Option(
      names = "--reserve-ram",
      defaultValue = "256",
      paramLabel = "<MiB>",
      description = "memory added to each container's RAM request (default ${DEFAULT-VALUE})")
  int reserveRam;

  @Option(
      names = "--runner-jar",
      paramLabel = "<path>",
      description = "the examples jar on the nodes (default: this JVM's jar)")
  @Nullable String runnerJar;

  @Option(
      paramLabel = "<duration>",
      names = "--command-timeout",
      defaultValue = "30s",
      description = "the longest a Slurm command may take (default ${DEFAULT-VALUE})")
  Duration commandTimeout;

  @Override
  public Integer call() throws InterruptedException {
    Cli.inRange(spec, "--concurrency", concurrency, 1, 10_000);
    Cli.inRange(spec, "--reserve-ram", reserveRam, 0, 1 << 20);
    PrintStream err = main.err;
    SlurmDispatcher.Options o =
        new SlurmDispatcher.Options(
            partition,
            poll,
            concurrency,
            run.orphanGrace,
            SlurmDispatcher.runnerArgv(runnerJar, run.watch),
            reserveRam,
            logDir == null ? null : logDir + "/%x-%j.out",
            commandTimeout.multipliedBy(4));
    Map<String, String> apiEnv = new LinkedHashMap<>();
    for (String k :
        List.of(
            ArvadosClient.ENV_API_HOST,
            ArvadosClient.ENV_API_TOKEN,
            ArvadosClient.ENV_API_HOST_INSECURE)) {
      String v = System.getenv(k);
      if (v != null) {
        apiEnv.put(k, v);
      }
    }
    try (ArvadosClient client =
            ArvadosClient.builderFromEnvironment()
                .userAgent("crunchguard-slurm-dispatcher")
                .build();
        SlurmDispatcher d =
            new SlurmDispatcher(
                client,
                SlurmCommands.processes(commandTimeout, 3),
                o,
                apiEnv,
                new DispatchListener() {})) {
      Runtime.getRuntime().addShutdownHook(new Thread(d::close));
      err.println(
          "dispatching from "
              + client.baseUrl()
              + " to Slurm"
              + (partition == null ? "" : " partition " + partition)
              + " with up to "
              + concurrency
              + " jobs");
      d.start();
      return run.run(
          d::awaitIdle,
          () -> DemoDispatcher.format(d.dispatcher().stats()) + " " + d.slurmStats(),
          err);
    }
  }
}

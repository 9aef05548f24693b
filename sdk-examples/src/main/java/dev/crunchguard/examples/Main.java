package dev.crunchguard.examples;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * {@code java -jar crunchguard-examples.jar <command>}: {@code demo}, {@code dispatch}, {@code
 * dispatch-slurm}, {@code slurm-demo}, {@code run}, {@code bench}, {@code --help}.
 */
public final class Main {
  static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar crunchguard-examples.jar <command> [flags]",
          "",
          "commands:",
          "  demo      the race demo: dispatchers race over containers on the embedded simulator,",
          "            with faults and forced re-locks, with and without the guard",
          "            [--containers 300] [--dispatchers 3] [--jvms 1] [--concurrency 8]",
          "            [--seed N] [--timeout 3m] [--poll-interval 100ms] [--guarded-only]",
          "            [--race-window 2ms]  simulate the real server's update window (spec 4.10)",
          "            [--soak-requests N]  repeat guarded rounds until N requests (the soak)",
          "            [--shared-token]  every dispatcher uses one token, as with the SystemRootToken",
          "            [--lost-rate 0.02]  share of answers lost after the server applied the request",
          "  dispatch  a local dispatcher (like crunch-dispatch-local): runs each locked container's",
          "            command through the example runner in a separate JVM. Reads ARVADOS_API_HOST,",
          "            ARVADOS_API_TOKEN (admin) and ARVADOS_API_HOST_INSECURE",
          "            [--concurrency 4] [--poll-interval 5s] [--watch-interval 2s] [--until-idle] [--timeout D]",
          "            [--orphan-grace 5m] [--recovery unlock|adopt|ignore] [--ambiguous-lock refuse|adopt]",
          "            [--metrics-port N]  Prometheus text on http://127.0.0.1:N/metrics (0: any free port)",
          "            (adopt is only for a token no other dispatcher uses)",
          "  dispatch-slurm  a Slurm dispatcher (like crunch-dispatch-slurm): one sbatch job per locked",
          "            container, running the example runner with the lock in its environment. Reads",
          "            ARVADOS_API_HOST, ARVADOS_API_TOKEN (admin), ARVADOS_API_HOST_INSECURE; Slurm's own",
          "            SLURM_CONF. [--partition P] [--concurrency 8] [--poll-interval 10s] [--orphan-grace 5m]",
          "            [--watch-interval 2s] [--log-dir DIR] [--reserve-ram 256 (MiB)] [--runner-jar PATH]",
          "            [--command-timeout 30s] [--until-idle] [--timeout D]",
          "  slurm-demo  the seed race on a real Slurm: jobs hidden from one squeue snapshot are unlocked,",
          "            locked and submitted again while the first jobs still run; with and without the guard",
          "            [--containers 4] [--stage 4s] [--watch-interval 1s] [--timeout 3m] [--guarded-only]",
          "  run       the runner side, started by 'dispatch' or 'dispatch-slurm' with the lock in its environment",
          "            [--watch-interval 2s] [--kill-grace 5s]",
          "  bench     the benchmarks (src/docs/performance.md): progress on stderr, Markdown report on stdout",
          "            [--parts overhead,jmh,requests,dispatch,loss,memory,simulator|all] [--smoke]; bench --help for all flags",
          "  --help    this text",
          "");

  private Main() {}

  /**
   * Runs a command and exits with its status.
   *
   * @param args the command and its flags
   */
  public static void main(String[] args) {
    int status;
    try {
      status = run(Arrays.asList(args), System.out, System.err);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      status = 130;
    }
    System.out.flush();
    System.exit(status);
  }

  static int run(List<String> args, PrintStream out, PrintStream err) throws InterruptedException {
    if (args.isEmpty()
        || args.get(0).equals("--help")
        || args.get(0).equals("-h")
        || args.get(0).equals("help")) {
      (args.isEmpty() ? err : out).print(USAGE);
      return args.isEmpty() ? 2 : 0;
    }
    List<String> rest = args.subList(1, args.size());
    try {
      switch (args.get(0)) {
        case "demo":
          return RaceDemo.main(rest, out, err);
        case "dispatch":
          return LocalDispatcher.main(rest, err);
        case "dispatch-slurm":
          return SlurmDispatcher.main(rest, err);
        case "slurm-demo":
          return SlurmRaceDemo.main(rest, out, err);
        case "slurm-demo-runner":
          return SlurmRaceDemo.runner(rest, err);
        case "run":
          return ExampleRunner.main(rest, err);
        case "demo-worker":
          return DemoDispatcher.main(rest);
        case "bench":
          if (rest.contains("--help")) {
            out.print(dev.crunchguard.examples.bench.Bench.USAGE);
            return 0;
          }
          return dev.crunchguard.examples.bench.Bench.main(rest, out, err);
        case "bench-serve":
        case "bench-startup":
          return dev.crunchguard.examples.bench.Bench.helper(args.get(0), rest, out);
        default:
          err.println("unknown command: " + args.get(0));
          err.print(USAGE);
          return 2;
      }
    } catch (Flags.UsageException e) {
      err.println(e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      err.println(args.get(0) + " failed: " + e);
      return 1;
    }
  }
}

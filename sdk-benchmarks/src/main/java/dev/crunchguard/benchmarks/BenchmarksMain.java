package dev.crunchguard.benchmarks;

import dev.crunchguard.examples.cli.Cli;
import dev.crunchguard.examples.cli.VersionProvider;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar crunchguard-benchmarks.jar bench [options]}: the benchmarks of {@code
 * src/docs/performance.md}. Every command takes {@code --help} and {@code --version}. Exit status:
 * 0 done, 1 failed, 2 usage error, 130 interrupted.
 */
@Command(
    name = "crunchguard-benchmarks.jar",
    description = "Crunch Guard's benchmarks.",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    scope = ScopeType.INHERIT,
    usageHelpAutoWidth = true,
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {"0:done", "1:failed", "2:usage error", "130:interrupted"},
    subcommands = {
      HelpCommand.class,
      Bench.class,
      BenchServer.class,
      MemoryBench.StartupCommand.class
    })
public final class BenchmarksMain implements Callable<Integer> {
  /** Where reports and help go. */
  final PrintStream out;

  /** Where progress and errors go. */
  final PrintStream err;

  /** The environment the real-server part reads its server from (the process's, or a test's). */
  final Map<String, String> env;

  @Spec CommandSpec spec;

  private BenchmarksMain(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  /**
   * Runs a command and exits with its status.
   *
   * @param args the command and its options
   */
  public static void main(String[] args) {
    // The in-process simulators and the helper JVMs' servers (which run this main too) are JDK
    // HTTP servers: without this, about 40 ms per request against delayed ACKs.
    Cli.serveWithoutNagleUnlessSet();
    System.exit(run(List.of(args), System.out, System.err));
  }

  static int run(List<String> args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.getenv());
  }

  static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) {
    return Cli.execute(new BenchmarksMain(out, err, env), args.toArray(new String[0]), out, err);
  }

  /** No command: the usage on stderr, a usage error. */
  @Override
  public Integer call() {
    return Cli.missingCommand(spec, err);
  }
}

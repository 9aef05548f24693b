package dev.crunchguard.examples;

import dev.crunchguard.examples.cli.Cli;
import dev.crunchguard.examples.cli.VersionProvider;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar crunchguard-examples.jar <command>}: {@code demo}, {@code dispatch}, {@code
 * run}, {@code dispatch-slurm}, {@code slurm-demo}, {@code help}; every command takes {@code
 * --help} and {@code --version}. Exit status: 0 done, 1 failed (for {@code demo}: the guarded half
 * was not safe), 2 usage error, 130 interrupted; {@code run} has its own (see {@code run --help}).
 */
@Command(
    name = "crunchguard-examples.jar",
    description =
        "Crunch Guard's examples: the race demo, a local and a Slurm dispatcher, a runner.",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    scope = ScopeType.INHERIT,
    usageHelpAutoWidth = true,
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:done",
      "1:failed (demo: the guarded half was not safe; --until-idle: timed out)",
      "2:usage error",
      "130:interrupted"
    },
    subcommands = {
      HelpCommand.class,
      DemoCommand.class,
      DispatchCommand.class,
      RunCommand.class,
      DispatchSlurmCommand.class,
      SlurmDemoCommand.class,
      DemoWorkerCommand.class,
      SlurmDemoRunnerCommand.class
    })
public final class Main implements Callable<Integer> {
  /** Where reports and help go. */
  final PrintStream out;

  /** Where progress and errors go. */
  final PrintStream err;

  @Spec CommandSpec spec;

  private Main(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /**
   * Runs a command and exits with its status.
   *
   * @param args the command and its options
   */
  public static void main(String[] args) {
    Cli.serveWithoutNagleUnlessSet();
    System.exit(run(List.of(args), System.out, System.err));
  }

  static int run(List<String> args, PrintStream out, PrintStream err) {
    return Cli.execute(new Main(out, err), args.toArray(new String[0]), out, err);
  }

  /** No command: the usage on stderr, a usage error. */
  @Override
  public Integer call() {
    return Cli.missingCommand(spec, err);
  }
}

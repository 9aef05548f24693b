package dev.crunchguard.examples.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The command-line conventions every Crunch Guard jar follows ({@code crunchguard-examples.jar},
 * {@code crunchguard-benchmarks.jar}), on picocli: {@code --help} and {@code --version} on every
 * command, a usage error printed on stderr with a pointer to {@code --help} and exit status {@value
 * #USAGE}, a failure printed on stderr as {@code <command> failed: <error>} with exit status
 * {@value #FAILED}, durations written as {@code 250ms}, {@code 5s}, {@code 1.5s} or {@code 2m}, and
 * enum values in any case.
 */
public final class Cli {
  /** Exit status of a command that did what it was asked. */
  public static final int OK = 0;

  /**
   * Exit status of a command that ran but failed: an error, or a documented negative outcome (the
   * demo's guarded half unsafe, {@code --until-idle} timed out).
   */
  public static final int FAILED = 1;

  /** Exit status of a usage error: an unknown option, a bad value, a missing command. */
  public static final int USAGE = 2;

  /** Exit status of a command interrupted before it finished (as a shell reports SIGINT). */
  public static final int INTERRUPTED = 130;

  private Cli() {}

  /**
   * A command line for {@code command} that writes to these streams and follows the conventions.
   *
   * @param command the root command object, annotated with {@link CommandLine.Command}
   * @param out where help, version and reports go
   * @param err where errors and progress go
   * @return the configured command line
   */
  public static CommandLine commandLine(Object command, PrintStream out, PrintStream err) {
    CommandLine cl = new CommandLine(command);
    cl.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    cl.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.registerConverter(Duration.class, Durations::parse);
    cl.setParameterExceptionHandler(
        (ParameterException e, String[] args) -> {
          CommandLine bad = e.getCommandLine();
          PrintWriter w = bad.getErr();
          w.println(e.getMessage());
          UnmatchedArgumentException.printSuggestions(e, w);
          w.println(
              "Try '" + bad.getCommandSpec().qualifiedName() + " --help' for more information.");
          w.flush();
          return USAGE;
        });
    cl.setExecutionExceptionHandler(
        (Exception e, CommandLine failed, CommandLine.ParseResult parsed) -> {
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            failed.getErr().println(failed.getCommandName() + " interrupted");
            return INTERRUPTED;
          }
          failed.getErr().println(failed.getCommandName() + " failed: " + e);
          failed.getErr().flush();
          return FAILED;
        });
    return cl;
  }

  /**
   * Parses {@code args} for {@code command} and runs it.
   *
   * @param command the root command object
   * @param args the command line
   * @param out where help, version and reports go
   * @param err where errors and progress go
   * @return the exit status
   */
  public static int execute(Object command, String[] args, PrintStream out, PrintStream err) {
    int status = commandLine(command, out, err).execute(args);
    out.flush();
    err.flush();
    return status;
  }

  /**
   * What a jar's root command does when no command is given: says so and prints the usage on {@code
   * err}.
   *
   * @param spec the root command
   * @param err where the usage goes
   * @return {@link #USAGE}
   */
  public static int missingCommand(CommandSpec spec, PrintStream err) {
    err.println("a command is missing");
    spec.commandLine().usage(err);
    err.flush();
    return USAGE;
  }

  /**
   * A usage error of the command {@code spec} describes, for a rule across options that picocli
   * does not check itself; picocli reports it as it reports its own.
   *
   * @param spec the command (from a {@link CommandLine.Spec} field)
   * @param message what is wrong, naming the options
   * @return the exception to throw
   */
  public static ParameterException usageError(CommandSpec spec, String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /**
   * Checks that an option's value lies in {@code [min, max]}.
   *
   * @param spec the command
   * @param option the option's name, such as {@code --containers}
   * @param value its value
   * @param min the smallest value allowed
   * @param max the largest value allowed
   * @return {@code value}
   * @throws ParameterException if it lies outside
   */
  public static long inRange(CommandSpec spec, String option, long value, long min, long max) {
    if (value < min || value > max) {
      throw usageError(spec, option + " must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  /**
   * Checks that an option's value is a rate: a number in {@code [0, 1]}.
   *
   * @param spec the command
   * @param option the option's name
   * @param value its value
   * @return {@code value}
   * @throws ParameterException if it is not a rate
   */
  public static double rate(CommandSpec spec, String option, double value) {
    if (!(value >= 0 && value <= 1)) {
      throw usageError(spec, option + " must be between 0 and 1, got " + value);
    }
    return value;
  }

  /**
   * Turns Nagle's algorithm off for the JDK HTTP servers this JVM will start (the embedded
   * simulator, the benchmarks' responders), unless the user chose otherwise: the JVM-wide property
   * {@code sun.net.httpserver.nodelay}, read when the first such server starts. Without it each
   * answer can wait about 40 ms for a delayed ACK. Call it first thing in {@code main}; the testkit
   * itself never sets JVM-wide properties.
   */
  public static void serveWithoutNagleUnlessSet() {
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }
}

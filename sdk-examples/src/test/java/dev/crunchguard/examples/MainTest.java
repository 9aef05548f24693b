package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.examples.cli.VersionProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command line of {@code crunchguard-examples.jar}: help, version, usage errors. */
class MainTest {
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  int run(String... args) {
    out.reset();
    err.reset();
    return Main.run(
        List.of(args),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void help_listsEveryCommandOnStdout_andSucceeds() {
    for (String help : List.of("--help", "-h", "help")) {
      assertThat(run(help)).as(help).isZero();
      assertThat(out())
          .contains("demo", "dispatch", "run", "dispatch-slurm", "slurm-demo", "Exit status:");
      assertThat(out()).doesNotContain("demo-worker", "slurm-demo-runner"); // internal commands
      assertThat(err()).isEmpty();
    }
  }

  @Test
  void everyCommandHasHelp_withItsOptions() {
    assertThat(run("demo", "--help")).isZero();
    assertThat(out())
        .contains("--race-window", "--soak-requests", "--shared-token", "--lost-rate", "--json");
    assertThat(run("help", "dispatch")).isZero();
    assertThat(out())
        .contains("--until-idle", "--orphan-grace", "--recovery", "--ambiguous-lock")
        .contains("--metrics-port");
    assertThat(run("run", "--help")).isZero();
    assertThat(out()).contains("--watch-interval", "--kill-grace", "4     the lock was lost");
    assertThat(run("dispatch-slurm", "--help")).isZero();
    assertThat(out()).contains("--partition", "--log-dir", "--runner-jar", "--reserve-ram");
    assertThat(run("slurm-demo", "--help")).isZero();
    assertThat(out()).contains("--stage", "--guarded-only");
  }

  @Test
  void version_isTheBuildsOnEveryCommand() {
    assertThat(VersionProvider.VERSION).matches("[0-9]+\\.[0-9]+\\.[0-9]+.*");
    for (List<String> args : List.of(List.of("--version"), List.of("demo", "-V"))) {
      assertThat(run(args.toArray(new String[0]))).as("%s", args).isZero();
      assertThat(out()).startsWith("Crunch Guard " + VersionProvider.VERSION + "\n");
      assertThat(err()).isEmpty();
    }
  }

  @Test
  void noCommand_printsTheUsageOnStderr_andIsAUsageError() {
    assertThat(run()).isEqualTo(2);
    assertThat(err()).contains("a command is missing", "Usage: crunchguard-examples.jar");
    assertThat(out()).isEmpty();
  }

  @Test
  void unknownCommandOrOption_isAUsageErrorOnStderr() {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(err()).contains("'frobnicate'", "Try 'crunchguard-examples.jar --help'");
    assertThat(run("demo", "--no-such-flag")).isEqualTo(2);
    assertThat(err())
        .contains("Unknown option: '--no-such-flag'")
        .contains("Try 'crunchguard-examples.jar demo --help' for more information.");
    assertThat(out()).isEmpty();
  }

  @Test
  void badOptionValues_areUsageErrors() {
    assertThat(run("demo", "--containers", "many")).isEqualTo(2);
    assertThat(err()).contains("--containers", "'many' is not an int");
    assertThat(run("demo", "--containers", "0")).isEqualTo(2);
    assertThat(err()).contains("--containers must be between 1 and 1000000, got 0");
    assertThat(run("demo", "--lost-rate", "1.5")).isEqualTo(2);
    assertThat(err()).contains("--lost-rate must be between 0 and 1");
    assertThat(run("dispatch", "--poll-interval", "soon")).isEqualTo(2);
    assertThat(err()).contains("--poll-interval", "'soon' is not a duration like 500ms");
    assertThat(out()).isEmpty();
  }

  @Test
  void dispatchPolicyOptions_acceptOnlyTheirChoices_inAnyCase() {
    assertThat(run("dispatch", "--recovery", "bogus")).isEqualTo(2);
    assertThat(err()).contains("--recovery", "bogus", "UNLOCK, ADOPT, IGNORE");
    assertThat(run("dispatch", "--ambiguous-lock", "maybe")).isEqualTo(2);
    assertThat(err()).contains("--ambiguous-lock", "maybe", "REFUSE, ADOPT");
    assertThat(run("dispatch", "--orphan-grace", "0s")).isEqualTo(2);
    assertThat(err()).contains("--orphan-grace", "must be positive, got 0s");
    assertThat(run("dispatch", "--metrics-port", "70000")).isEqualTo(2);
    assertThat(err()).contains("--metrics-port must be between 0 and 65535, got 70000");
  }

  @Test
  void slurmCommands_checkTheirOptions() {
    assertThat(run("dispatch-slurm", "--concurrency", "0")).isEqualTo(2);
    assertThat(err()).contains("--concurrency must be between 1 and 10000, got 0");
    assertThat(run("dispatch-slurm", "--no-such-flag")).isEqualTo(2);
    assertThat(err()).contains("Unknown option: '--no-such-flag'");
    assertThat(run("slurm-demo", "--stage", "1s", "--watch-interval", "1s")).isEqualTo(2);
    assertThat(err()).contains("--stage must be at least twice --watch-interval");
  }

  @Test
  void runWithoutHandoff_refusesToStart() {
    // the test JVM has no lock handed off in its environment
    assertThat(run("run")).isEqualTo(ExampleRunner.REFUSED_TO_START);
    assertThat(err()).contains("runner: refusing to start");
  }

  @Test
  void aFailingCommand_saysSoOnStderr_andExitsOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThat(run("dispatch", "--metrics-port", Integer.toString(port))).isEqualTo(1);
      assertThat(err()).startsWith("dispatch failed: ").contains("--metrics-port " + port);
      assertThat(out()).isEmpty();
    }
  }
}

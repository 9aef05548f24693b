package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  int run(String... args) throws Exception {
    return Main.run(
        List.of(args),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void help_printsEveryCommand_andSucceeds() throws Exception {
    assertThat(run("--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(
            "demo", "dispatch", "run", "--until-idle", "bench", "--race-window", "--soak-requests");
  }

  @Test
  void noCommand_isAUsageError() throws Exception {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage:");
  }

  @Test
  void unknownCommandOrFlag_isAUsageError() throws Exception {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(run("demo", "--no-such-flag")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("unknown command: frobnicate", "unknown flag: --no-such-flag");
  }

  @Test
  void badFlagValue_isAUsageError() throws Exception {
    assertThat(run("demo", "--containers", "many")).isEqualTo(2);
    assertThat(run("dispatch", "--poll-interval", "-5s")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--containers must be an integer", "--poll-interval");
  }

  @Test
  void dispatchPolicyFlags_acceptOnlyTheirChoices_andHelpShowsThem() throws Exception {
    assertThat(run("dispatch", "--recovery", "bogus")).isEqualTo(2);
    assertThat(run("dispatch", "--ambiguous-lock", "maybe")).isEqualTo(2);
    assertThat(run("dispatch", "--orphan-grace", "0s")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--recovery must be one of unlock, adopt, ignore, got bogus")
        .contains("--ambiguous-lock must be one of refuse, adopt, got maybe")
        .contains("--orphan-grace must be positive, got 0s");
    assertThat(run("--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("--orphan-grace", "--recovery", "--ambiguous-lock", "--shared-token");
  }

  @Test
  void benchHelpAndBadFlags() throws Exception {
    assertThat(run("bench", "--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("--parts", "--smoke", "--intervals");
    assertThat(run("bench", "--parts", "nonsense")).isEqualTo(2);
    assertThat(run("bench", "--no-such-flag")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("unknown part: nonsense", "unknown flag: --no-such-flag");
  }

  @Test
  void slurmCommands_areInTheHelp_andCheckTheirFlags() throws Exception {
    assertThat(run("--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("dispatch-slurm", "--partition", "--orphan-grace", "slurm-demo");
    assertThat(run("dispatch-slurm", "--concurrency", "0")).isEqualTo(2);
    assertThat(run("dispatch-slurm", "--no-such-flag")).isEqualTo(2);
    assertThat(run("slurm-demo", "--stage", "1s", "--watch-interval", "1s")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(
            "--concurrency must be between 1 and 10000",
            "unknown flag: --no-such-flag",
            "--stage must be at least twice --watch-interval");
  }

  @Test
  void runWithoutHandoff_refusesToStart() throws Exception {
    // the test JVM has no lock handed off in its environment
    assertThat(run("run")).isNotZero();
  }
}

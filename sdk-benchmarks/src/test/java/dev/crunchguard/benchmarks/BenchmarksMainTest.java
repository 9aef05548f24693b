package dev.crunchguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.examples.cli.VersionProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command line of {@code crunchguard-benchmarks.jar}: help, version, usage errors. */
class BenchmarksMainTest {
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  int run(String... args) {
    out.reset();
    err.reset();
    return BenchmarksMain.run(
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
  void benchHelp_listsEveryOption_onStdout() {
    assertThat(run("bench", "--help")).isZero();
    assertThat(out())
        .contains("--parts", "--smoke", "--json", "--intervals", "--sim-threads", "--jmh-time")
        .contains(
            "--latency-containers", "--arrival-rate", "--event-poll-delays", "--latency-polls");
    assertThat(err()).isEmpty();
    assertThat(run("--help")).isZero();
    assertThat(out()).contains("bench", "Exit status:").doesNotContain("bench-serve");
  }

  @Test
  void version_isTheBuilds() {
    assertThat(run("bench", "--version")).isZero();
    assertThat(out()).startsWith("Crunch Guard " + VersionProvider.VERSION + "\n");
  }

  @Test
  void usageErrors_goToStderr_withExitTwo_beforeAnyPartRuns() {
    assertThat(run()).isEqualTo(2);
    assertThat(err()).contains("a command is missing", "Usage: crunchguard-benchmarks.jar");
    assertThat(run("bench", "--no-such-flag")).isEqualTo(2);
    assertThat(err())
        .contains("Unknown option: '--no-such-flag'")
        .contains("Try 'crunchguard-benchmarks.jar bench --help'");
    assertThat(run("bench", "--parts", "nonsense")).isEqualTo(2);
    assertThat(err()).contains("unknown part: nonsense");
    assertThat(run("bench", "--parts", "requests", "--sizes", "10,0")).isEqualTo(2);
    assertThat(err()).contains("--sizes must be between 1 and");
    assertThat(run("bench", "--intervals", "fast")).isEqualTo(2);
    assertThat(err()).contains("--intervals", "'fast' is not a duration");
    assertThat(out()).isEmpty();
    assertThat(err()).doesNotContain("[bench] part");
  }
}

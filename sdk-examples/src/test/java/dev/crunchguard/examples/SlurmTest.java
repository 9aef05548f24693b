package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Slurm's command lines and the parsing of their output, without a Slurm. */
class SlurmTest {
  static final String UUID = "zzzzz-dz642-0123456789abcde";

  @Test
  void squeueLines_parseIntoJobs_withTheCommentLastSoThatItMayHoldAnything() {
    List<Slurm.Job> jobs =
        Slurm.parse(
            "12|"
                + UUID
                + "|9990|RUNNING|zzzzz-gj3su-aaaaaaaaaaaaaaa\n"
                + "13_2|other job|0|PENDING|a|comment|with bars\n"
                + "14|"
                + UUID
                + "|5|COMPLETING|(null)\n\n");

    assertThat(jobs)
        .containsExactly(
            new Slurm.Job("12", UUID, 9990, "RUNNING", "zzzzz-gj3su-aaaaaaaaaaaaaaa"),
            new Slurm.Job("13_2", "other job", 0, "PENDING", "a|comment|with bars"),
            new Slurm.Job("14", UUID, 5, "COMPLETING", ""));
    assertThat(jobs.get(0).running()).isTrue();
    assertThat(jobs.get(1).pending()).isTrue();
    assertThat(jobs.get(2).running()).isTrue();
  }

  @Test
  void aSqueueLineThatDoesNotFitTheFormat_isAnError_notAMissingJob() {
    assertThatThrownBy(() -> Slurm.parse("JOBID NAME STATE\n"))
        .isInstanceOf(SlurmCommands.SlurmException.class)
        .hasMessageContaining("unexpected squeue line");
    assertThatThrownBy(() -> Slurm.parse("12|" + UUID + "|high|RUNNING|x\n"))
        .isInstanceOf(SlurmCommands.SlurmException.class)
        .hasMessageContaining("nice");
  }

  @Test
  void priority_mapsToNice_higherPriorityLowerNice_neverNegative() {
    assertThat(Slurm.nice(0)).isEqualTo(10_000);
    assertThat(Slurm.nice(1)).isEqualTo(9_990);
    assertThat(Slurm.nice(500)).isEqualTo(5_000);
    assertThat(Slurm.nice(1000)).isZero();
    assertThat(Slurm.nice(1L << 55)).isZero();
    assertThat(Slurm.nice(-3)).isEqualTo(10_000);
    assertThat(Slurm.nice(2)).isLessThan(Slurm.nice(1));
  }

  @Test
  void runtimeConstraints_giveCpusAndMemoryInMiB_roundedUp_plusTheRunnersReserve() {
    Map<String, Object> rc = Map.of("vcpus", 3.0, "ram", 1_500_000_000.0);
    assertThat(Slurm.cpus(rc)).isEqualTo(3);
    assertThat(Slurm.memoryMiB(rc, 256)).isEqualTo(1431 + 256);
    assertThat(Slurm.memoryMiB(Map.of("ram", (double) (1L << 30)), 0)).isEqualTo(1024);
    assertThat(Slurm.cpus(Map.of())).isEqualTo(1);
    assertThat(Slurm.memoryMiB(Map.of(), 256)).isNull();
  }

  @Test
  void sbatchArguments_nameTheJobAfterTheContainer_tagItsEpoch_neverRequeue_andHoldNoSecret() {
    List<String> args =
        Slurm.sbatchArgs(
            new Slurm.JobRequest(
                UUID, "zzzzz-gj3su-aaaaaaaaaaaaaaa", 2, 1280L, 4990, "batch", "/logs/%x-%j.out"));

    assertThat(args)
        .containsExactly(
            "sbatch",
            "--parsable",
            "--export=ALL",
            "--job-name=" + UUID,
            "--comment=zzzzz-gj3su-aaaaaaaaaaaaaaa",
            "--no-requeue",
            "--nice=4990",
            "--cpus-per-task=2",
            "--mem=1280",
            "--partition=batch",
            "--output=/logs/%x-%j.out");
    assertThat(Slurm.sbatchArgs(new Slurm.JobRequest(UUID, "e", 1, null, 0, null, null)))
        .noneMatch(
            a -> a.startsWith("--mem") || a.startsWith("--partition") || a.startsWith("--output"));
  }

  @Test
  void theJobScript_execsTheRunner_withEveryWordQuoted() {
    assertThat(Slurm.script(List.of("/usr/bin/java", "-jar", "/opt/it's here.jar", "run")))
        .isEqualTo("#!/bin/sh\nexec '/usr/bin/java' '-jar' '/opt/it'\\''s here.jar' 'run'\n");
  }

  @Test
  void aSnapshot_provesAJobGoneOnlyIfItStartedAfterTheSbatchReturned() {
    Slurm.Snapshot s = new Slurm.Snapshot(1, 1_000, List.of());
    assertThat(s.startedAfter(999)).isTrue();
    assertThat(s.startedAfter(1_000)).isFalse();
    assertThat(s.startedAfter(1_001)).isFalse();
  }

  @Test
  void cancel_isByNameRestrictedToTheJobId_pendingFirst_thenRunningWithTermToTheBatchStep() {
    FakeSlurm fake = new FakeSlurm();
    new Slurm(fake).cancel(UUID, "42", false);
    new Slurm(fake).cancel(UUID, "43", true);

    assertThat(fake.calls("scancel"))
        .extracting(FakeSlurm.Call::argv)
        .containsExactly(
            List.of("scancel", "--name=" + UUID, "--state=PENDING", "42"),
            List.of(
                "scancel", "--name=" + UUID, "--state=RUNNING", "--batch", "--signal=TERM", "42"),
            List.of("scancel", "--name=" + UUID, "--state=PENDING", "43"));
  }

  @Test
  void aFailingSbatch_isAnErrorWithSlurmsMessage() {
    SlurmCommands failing =
        (argv, stdin, env) ->
            new SlurmCommands.Result(1, "", "sbatch: error: invalid partition specified: x");
    assertThatThrownBy(
            () ->
                new Slurm(failing)
                    .submit(
                        new Slurm.JobRequest(UUID, "e", 1, null, 0, "x", null),
                        List.of("true"),
                        Map.of("ARVADOS_API_TOKEN", "secret-token-value")))
        .isInstanceOf(SlurmCommands.SlurmException.class)
        .hasMessageContaining("invalid partition")
        .hasMessageNotContaining("secret-token-value");
  }

  @Test
  void aHangingCommand_isKilledAtItsTimeout_withAClearError() {
    SlurmCommands real = SlurmCommands.processes(Duration.ofMillis(300), 1);
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> real.run(List.of("sleep", "20"), null, Map.of()))
        .isInstanceOf(SlurmCommands.SlurmException.class)
        .hasMessageContaining("sleep did not finish within 300 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    // the slot is free again
    assertThat(real.run(List.of("sh", "-c", "echo ok; echo err >&2; exit 3"), null, Map.of()))
        .isEqualTo(new SlurmCommands.Result(3, "ok\n", "err\n"));
  }

  @Test
  void aMissingCommand_isAClearError() {
    assertThatThrownBy(
            () ->
                SlurmCommands.processes(Duration.ofSeconds(5), 1)
                    .run(List.of("/nonexistent/squeue"), null, Map.of()))
        .isInstanceOf(SlurmCommands.SlurmException.class)
        .hasMessageContaining("could not run /nonexistent/squeue");
  }

  @Test
  void theEnvironment_reachesTheCommand_andStdinIsItsInput() {
    SlurmCommands real = SlurmCommands.processes(Duration.ofSeconds(5), 1);
    assertThat(
            real.run(List.of("sh", "-c", "cat; echo \"$CG_X\""), "in\n", Map.of("CG_X", "from-env"))
                .stdout())
        .isEqualTo("in\nfrom-env\n");
  }
}

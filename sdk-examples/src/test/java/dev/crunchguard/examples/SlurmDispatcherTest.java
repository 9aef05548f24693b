package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ContainerLock;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.dispatch.DispatchListener;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.LeakCheckExtension;
import dev.crunchguard.testkit.RivalWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link SlurmDispatcher} against the simulator and an in-memory Slurm; the test plays each job's
 * runner.
 */
@ExtendWith(LeakCheckExtension.class)
class SlurmDispatcherTest {
  static final String TOKEN = "slurmdispatchtesttoken0123456";
  static final Duration POLL = Duration.ofMillis(100);

  ArvadosSimulator sim;
  ArvadosClient client;
  ArvadosClient runnerClient;
  FakeSlurm slurm;
  SlurmDispatcher dispatcher;
  RivalWriter user;

  @BeforeEach
  void setUp() {
    sim = ArvadosSimulator.builder().adminToken(TOKEN).build().start();
    client =
        ArvadosClient.builder().baseUrl(sim.baseUrl()).token(TOKEN).clientId("dispatcher").build();
    runnerClient =
        ArvadosClient.builder().baseUrl(sim.baseUrl()).token(TOKEN).clientId("runner").build();
    slurm = new FakeSlurm();
    user = RivalWriter.builder(sim.baseUrl(), TOKEN).clientId("user").build();
  }

  @AfterEach
  void tearDown() {
    if (dispatcher != null) {
      dispatcher.close();
    }
    runnerClient.close();
    client.close();
    sim.close();
    user.close();
  }

  SlurmDispatcher start() {
    SlurmDispatcher.Options o =
        new SlurmDispatcher.Options(
            "debug",
            POLL,
            4,
            Duration.ofMinutes(5),
            List.of("/usr/bin/java", "-jar", "/opt/crunchguard-examples.jar", "run"),
            256,
            null,
            Duration.ofSeconds(5));
    dispatcher =
        new SlurmDispatcher(
            client,
            slurm,
            o,
            Map.of(ArvadosClient.ENV_API_HOST, sim.baseUrl(), ArvadosClient.ENV_API_TOKEN, TOKEN),
            new DispatchListener() {});
    dispatcher.start();
    return dispatcher;
  }

  static void await(String what, BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  /** The {@code n}-th job submitted for {@code uuid}, once there is one. */
  FakeSlurm.Job awaitJob(String uuid, int n) throws InterruptedException {
    await(n + " job(s) of " + uuid, () -> submittedFor(uuid).size() >= n);
    return submittedFor(uuid).get(n - 1);
  }

  List<FakeSlurm.Job> submittedFor(String uuid) {
    return slurm.submitted.stream().filter(j -> j.name.equals(uuid)).toList();
  }

  /** The test as the job's runner: resumes the handed-off epoch from the job's environment. */
  ContainerLock runnerLock(FakeSlurm.Job j) {
    return runnerClient.containers().resume(LockEpoch.fromEnvironment(j.env));
  }

  void cancelAsUser(String uuid) {
    assertThat(user.cancel(uuid).status()).isEqualTo(200);
  }

  @Test
  void
      eachWonLock_becomesOneJob_withTheLockAndCredentialsInItsEnvironment_andNoSecretOnItsCommandLine()
          throws Exception {
    String uuid =
        sim.createContainer(ContainerSpec.builder().command("true").priority(700).build());
    start();

    FakeSlurm.Job job = awaitJob(uuid, 1);
    String epoch = sim.container(uuid).authUuid();
    assertThat(job.name).isEqualTo(uuid);
    assertThat(job.comment).isEqualTo(epoch);
    assertThat(job.nice).isEqualTo(Slurm.nice(700));
    assertThat(job.argv)
        .contains("--no-requeue", "--partition=debug", "--export=ALL", "--cpus-per-task=1")
        .noneMatch(a -> a.contains(TOKEN));
    assertThat(job.env)
        .containsEntry(LockEpoch.ENV_CONTAINER_UUID, uuid)
        .containsEntry(LockEpoch.ENV_AUTH_UUID, epoch)
        .containsEntry(ArvadosClient.ENV_API_TOKEN, TOKEN)
        .containsEntry(ArvadosClient.ENV_API_HOST, sim.baseUrl());
    assertThat(slurm.calls("sbatch").get(0).stdin())
        .isEqualTo(
            "#!/bin/sh\nexec '/usr/bin/java' '-jar' '/opt/crunchguard-examples.jar' 'run'\n");

    job.state = "RUNNING";
    ContainerLock lock = runnerLock(job);
    lock.markRunning();
    lock.complete(7, null);
    slurm.remove(job.id);

    assertThat(dispatcher.awaitIdle(Duration.ofSeconds(15))).isTrue();
    assertThat(sim.container(uuid).state()).isEqualTo("Complete");
    assertThat(sim.container(uuid).exitCode()).isEqualTo(7L);
    assertThat(sim.container(uuid).lockCount()).isEqualTo(1);
    assertThat(slurm.calls("sbatch")).hasSize(1);
    assertThat(slurm.calls("scancel")).isEmpty();
    sim.checkSafety().assertSafe();
  }

  @Test
  void squeueRunsForAllJobsOncePerPoll_neverPerContainer() throws Exception {
    for (int i = 0; i < 4; i++) {
      sim.createContainer(ContainerSpec.builder().command("true").priority(10 + i).build());
    }
    start();
    await("4 jobs", () -> slurm.calls("sbatch").size() == 4);
    int before = slurm.calls("squeue").size();
    Thread.sleep(POLL.toMillis() * 10);
    int polls = slurm.calls("squeue").size() - before;

    assertThat(polls).isBetween(3, 11);
    assertThat(slurm.calls("squeue"))
        .allSatisfy(
            c ->
                assertThat(c.argv())
                    .containsExactly(
                        "squeue",
                        "--all",
                        "--noheader",
                        "--array",
                        "--format=" + Slurm.SQUEUE_FORMAT));
  }

  @Test
  void aSnapshotThatStartedBeforeTheSbatchReturned_doesNotMakeTheJobGone() throws Exception {
    start();
    FakeSlurm.StaleSqueue stale = new FakeSlurm.StaleSqueue();
    slurm.stale = stale;
    String uuid = sim.createContainer(ContainerSpec.builder().command("true").priority(5).build());
    FakeSlurm.Job job = awaitJob(uuid, 1);
    await("the stale squeue answered", () -> stale.answered != null);
    int after = slurm.calls("squeue").size();
    await("two more polls", () -> slurm.calls("squeue").size() >= after + 2);

    assertThat(stale.answered).doesNotContain(uuid); // it really showed the queue without the job
    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    assertThat(sim.container(uuid).lockCount()).isEqualTo(1);
    assertThat(slurm.calls("sbatch")).hasSize(1);
    assertThat(slurm.jobs).containsKey(job.id);
  }

  @Test
  void
      aJobGoneWhileItsContainerIsLocked_isUnlockedGuarded_andTheContainerIsSubmittedAgainInANewEpoch()
          throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().command("true").priority(5).build());
    start();
    FakeSlurm.Job first = awaitJob(uuid, 1);
    String firstEpoch = sim.container(uuid).authUuid();
    slurm.remove(first.id); // vanished without ever running

    FakeSlurm.Job second = awaitJob(uuid, 2);
    assertThat(second.comment).isNotEqualTo(firstEpoch).isEqualTo(sim.container(uuid).authUuid());
    assertThat(sim.container(uuid).lockCount()).isEqualTo(2);
    assertThat(sim.history(uuid))
        .anySatisfy(
            e -> {
              assertThat(e.accepted()).isTrue();
              assertThat(e.stateBefore()).isEqualTo("Locked");
              assertThat(e.stateAfter()).isEqualTo("Queued");
              assertThat(e.claimedEpoch())
                  .isEqualTo(firstEpoch); // the guarded unlock, in the first epoch
            });
    sim.checkSafety().assertSafe();
  }

  @Test
  void aJobGoneWhileItsContainerIsRunning_isCancelledInItsEpoch() throws Exception {
    String uuid = sim.createContainer(ContainerSpec.builder().command("true").priority(5).build());
    start();
    FakeSlurm.Job job = awaitJob(uuid, 1);
    job.state = "RUNNING";
    runnerLock(job).markRunning();
    Thread.sleep(POLL.toMillis() * 3);
    slurm.remove(job.id); // the node died with the runner

    await("Cancelled", () -> sim.container(uuid).state().equals("Cancelled"));
    assertThat(slurm.calls("sbatch")).hasSize(1);
    sim.checkSafety().assertSafe();
  }

  @Test
  void aPriorityChange_renicesTheJob_byName() throws Exception {
    String uuid =
        sim.createContainer(ContainerSpec.builder().command("true").priority(100).build());
    start();
    FakeSlurm.Job job = awaitJob(uuid, 1);
    assertThat(job.nice).isEqualTo(Slurm.nice(100));

    sim.setPriority(uuid, 900);
    await("reniced", () -> job.nice == Slurm.nice(900));
    assertThat(slurm.calls("scontrol"))
        .extracting(FakeSlurm.Call::argv)
        .contains(List.of("scontrol", "update", "JobName=" + uuid, "Nice=" + Slurm.nice(900)));
    int renices = slurm.calls("scontrol").size();
    Thread.sleep(POLL.toMillis() * 5);
    assertThat(slurm.calls("scontrol")).hasSize(renices); // not again while the nice matches
  }

  @Test
  void priorityZero_cancelsThePendingJob() throws Exception {
    String uuid =
        sim.createContainer(ContainerSpec.builder().command("true").priority(100).build());
    start();
    FakeSlurm.Job job = awaitJob(uuid, 1);

    sim.setPriority(uuid, 0);
    await("job cancelled", () -> !slurm.jobs.containsKey(job.id));
    assertThat(slurm.calls("scancel").get(0).argv())
        .containsExactly("scancel", "--name=" + uuid, "--state=PENDING", job.id);
    await("unlocked", () -> sim.container(uuid).state().equals("Queued"));
    assertThat(slurm.calls("sbatch")).hasSize(1); // priority 0 is not locked again
  }

  @Test
  void aCancelledRunningContainer_hasItsJobSignalledWithTermThroughTheBatchStep() throws Exception {
    String uuid =
        sim.createContainer(ContainerSpec.builder().command("true").priority(100).build());
    start();
    FakeSlurm.Job job = awaitJob(uuid, 1);
    job.state = "RUNNING";
    runnerLock(job).markRunning();

    cancelAsUser(uuid);
    await("job cancelled", () -> !slurm.jobs.containsKey(job.id));
    assertThat(slurm.calls("scancel"))
        .extracting(FakeSlurm.Call::argv)
        .contains(
            List.of(
                "scancel",
                "--name=" + uuid,
                "--state=RUNNING",
                "--batch",
                "--signal=TERM",
                job.id));
    assertThat(dispatcher.awaitIdle(Duration.ofSeconds(15))).isTrue();
  }

  @Test
  void aFailingSqueue_judgesNoJob_andIsCounted() throws Exception {
    String uuid =
        sim.createContainer(ContainerSpec.builder().command("true").priority(100).build());
    start();
    FakeSlurm.Job job = awaitJob(uuid, 1);
    slurm.squeueExit = 1;
    slurm.remove(job.id); // would look gone, if a failed squeue counted as an empty one
    Thread.sleep(POLL.toMillis() * 6);

    assertThat(sim.container(uuid).state()).isEqualTo("Locked");
    assertThat(dispatcher.slurmStats().get("squeueFailures")).isGreaterThanOrEqualTo(3);
    assertThat(slurm.calls("sbatch")).hasSize(1);

    slurm.squeueExit = 0;
    awaitJob(uuid, 2);
  }

  @Test
  void aFailingSbatch_unlocksTheContainer_throughTheSdk() throws Exception {
    String uuid =
        sim.createContainer(ContainerSpec.builder().command("true").priority(100).build());
    SlurmCommands refusing =
        (argv, stdin, env) ->
            argv.get(0).equals("sbatch")
                ? new SlurmCommands.Result(
                    1,
                    "",
                    "sbatch: error: Batch job submission failed: Invalid partition name specified")
                : slurm.run(argv, stdin, env);
    SlurmDispatcher.Options o =
        new SlurmDispatcher.Options(
            "nope",
            POLL,
            4,
            Duration.ofMinutes(5),
            List.of("true"),
            0,
            null,
            Duration.ofSeconds(5));
    dispatcher = new SlurmDispatcher(client, refusing, o, Map.of(), new DispatchListener() {});
    dispatcher.start();

    await(
        "unlocked after the failed sbatch",
        () -> sim.container(uuid).state().equals("Queued") && sim.container(uuid).lockCount() >= 1);
    assertThat(slurm.jobs).isEmpty();
    sim.checkSafety().assertSafe();
  }

  @Test
  void
      atStartUp_jobsOfFinalQueuedOrOtherEpochContainersAreCancelled_andOwnJobsAreAdoptedWithoutASecondSbatch()
          throws Exception {
    String done = sim.createContainer(ContainerSpec.builder().command("true").priority(1).build());
    String queued =
        sim.createContainer(ContainerSpec.builder().command("true").priority(0).build());
    String mine = sim.createContainer(ContainerSpec.builder().command("true").priority(10).build());
    String stale = sim.createContainer(ContainerSpec.builder().command("true").priority(1).build());
    ContainerLock doneLock = client.containers().lock(done);
    doneLock.markRunning();
    doneLock.complete(0, null);
    ContainerLock mineLock = client.containers().lock(mine); // left by a dispatcher that crashed
    ContainerLock staleLock = client.containers().lock(stale);
    slurm.add(new FakeSlurm.Job("1", done, doneLock.authUuid(), 0, List.of(), Map.of()));
    slurm.add(
        new FakeSlurm.Job("2", queued, "zzzzz-gj3su-000000000000000", 0, List.of(), Map.of()));
    slurm.add(new FakeSlurm.Job("3", mine, mineLock.authUuid(), 0, List.of(), Map.of()));
    slurm.add(new FakeSlurm.Job("4", stale, "zzzzz-gj3su-0123456789abcde", 0, List.of(), Map.of()));
    slurm.add(new FakeSlurm.Job("5", "not-a-container", "", 0, List.of(), Map.of()));
    slurm.jobs.get("3").state = "RUNNING";

    start();

    assertThat(slurm.jobs.keySet()).containsExactly("3", "5");
    assertThat(dispatcher.slurmStats())
        .containsEntry("adopted", 1L)
        .containsEntry("orphansCancelled", 3L);
    ContainerLock runner = runnerClient.containers().resume(mineLock.epoch());
    runner.markRunning();
    runner.complete(0, null);
    slurm.remove("3");
    assertThat(dispatcher.awaitIdle(Duration.ofSeconds(15))).isTrue();
    assertThat(slurm.calls("sbatch")).isEmpty();
    assertThat(sim.container(mine).state()).isEqualTo("Complete");
    assertThat(sim.container(stale).state())
        .isEqualTo("Locked"); // not ours to unlock before the orphan grace
    staleLock.unlock();
  }

  @Test
  void anAdoptedJobWhoseContainerLeavesItsEpoch_isCancelled() throws Exception {
    String mine = sim.createContainer(ContainerSpec.builder().command("true").priority(10).build());
    ContainerLock lock = client.containers().lock(mine);
    slurm.add(new FakeSlurm.Job("3", mine, lock.authUuid(), 0, List.of(), Map.of()));
    start();
    assertThat(dispatcher.slurmStats()).containsEntry("adopted", 1L);

    cancelAsUser(mine);
    await("adopted job cancelled", () -> slurm.jobs.isEmpty());
    assertThat(slurm.calls("scancel").get(0).argv()).contains("--name=" + mine, "3");
  }
}

package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.ArvadosClient;
import dev.crunchguard.ArvadosException;
import dev.crunchguard.Container;
import dev.crunchguard.ContainerState;
import dev.crunchguard.LockEpoch;
import dev.crunchguard.dispatch.DispatchListener;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.RealArvados;
import dev.crunchguard.testkit.RequiresRealArvados;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Slurm dispatcher with both real dependencies: jobs on the real single-node Slurm, each
 * running the example runner against the real Arvados server. Runs when both are present (see
 * {@link RealSlurm} and {@link RequiresRealArvados}); CI requires both.
 */
@ExtendWith(RealSlurm.class)
@RequiresRealArvados
class SlurmOnRealServerTest {
  private static final Duration POLL = Duration.ofMillis(300);
  private final RealArvados arv;
  private ArvadosClient client;
  private Path logs;
  private final List<String> uuids = new ArrayList<>();
  private final Slurm slurm = new Slurm(SlurmCommands.processes(Duration.ofSeconds(30), 2));
  private SlurmDispatcher dispatcher;

  SlurmOnRealServerTest(RealArvados arv) {
    this.arv = arv;
  }

  @BeforeEach
  void setUp() throws Exception {
    client =
        ArvadosClient.builder()
            .baseUrl(arv.baseUrl())
            .token(arv.adminToken())
            .insecureTls(arv.insecure())
            .clientId("slurm-on-real-server")
            .build();
    logs = Files.createTempDirectory("crunchguard-slurm-real-");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (dispatcher != null) {
      dispatcher.close();
    }
    for (Slurm.Job j : slurm.squeue(0).jobs()) {
      if (uuids.contains(j.name())) {
        slurm.cancel(j.name(), j.id(), false);
      }
    }
    for (String uuid : uuids) {
      finish(uuid);
    }
    client.close();
    try (Stream<Path> s = Files.walk(logs)) {
      s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }
  }

  /** Leaves nothing lockable behind on a shared server. */
  private void finish(String uuid) {
    try {
      Container c = client.containers().get(uuid);
      if (c.state() == ContainerState.QUEUED && c.priority() != null && c.priority() > 0) {
        client.containers().lock(uuid).cancel();
      } else if ((c.state() == ContainerState.LOCKED || c.state() == ContainerState.RUNNING)
          && client.tokenUuid().equals(c.lockedByUuid())) {
        client.containers().resume(LockEpoch.of(c)).cancel();
      }
    } catch (ArvadosException | IllegalStateException e) {
      // best effort
    }
  }

  private String container(String... command) {
    String uuid = arv.createContainer(ContainerSpec.builder().command(command).priority(1).build());
    uuids.add(uuid);
    return uuid;
  }

  private SlurmDispatcher dispatcher() {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    List<String> runner =
        List.of(
            java,
            "-Xmx96m",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "run",
            "--watch-interval",
            "500ms",
            "--kill-grace",
            "1s");
    SlurmDispatcher.Options o =
        new SlurmDispatcher.Options(
            null,
            POLL,
            4,
            Duration.ofMinutes(5),
            runner,
            0,
            logs + "/%x-%j.out",
            Duration.ofSeconds(30));
    Map<String, String> env =
        arv.insecure()
            ? Map.of(
                ArvadosClient.ENV_API_HOST,
                arv.baseUrl(),
                ArvadosClient.ENV_API_TOKEN,
                arv.adminToken(),
                ArvadosClient.ENV_API_HOST_INSECURE,
                "1")
            : Map.of(
                ArvadosClient.ENV_API_HOST,
                arv.baseUrl(),
                ArvadosClient.ENV_API_TOKEN,
                arv.adminToken());
    return new SlurmDispatcher(
        client,
        SlurmCommands.processes(Duration.ofSeconds(30), 3),
        o,
        env,
        new DispatchListener() {});
  }

  private boolean allFinal() {
    return uuids.stream()
        .map(u -> client.containers().get(u))
        .allMatch(
            c -> c.state() == ContainerState.COMPLETE || c.state() == ContainerState.CANCELLED);
  }

  private String jobLogs() throws Exception {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> s = Files.list(logs)) {
      for (Path p : s.sorted().toList()) {
        sb.append("--- ").append(p.getFileName()).append('\n').append(Files.readString(p));
      }
    }
    return sb.toString();
  }

  @Test
  void containersOfTheRealServer_runAsSlurmJobs_andCompleteWithTheirExitCodes_oneJobEach()
      throws Exception {
    String ok = container("true");
    String fails = container("false");
    String three = container("sh", "-c", "exit 3");
    dispatcher = dispatcher();
    dispatcher.start();

    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (!allFinal() && System.nanoTime() < deadline) {
      Thread.sleep(250);
    }
    assertThat(allFinal()).as("every container final; job logs:%n%s", jobLogs()).isTrue();

    for (Map.Entry<String, Long> e : Map.of(ok, 0L, fails, 1L, three, 3L).entrySet()) {
      Container c = client.containers().get(e.getKey());
      assertThat(c.state()).as(e.getKey()).isEqualTo(ContainerState.COMPLETE);
      assertThat(c.exitCode()).as(e.getKey()).isEqualTo(e.getValue());
      assertThat(c.lockCount()).as("locked once: one job, one epoch").isEqualTo(1);
    }
    assertThat(dispatcher.slurmStats()).containsEntry("submitted", 3L);
  }
}

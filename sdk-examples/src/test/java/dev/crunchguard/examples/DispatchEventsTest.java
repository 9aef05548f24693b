package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.HistoryEvent;
import dev.crunchguard.testkit.WriteAction;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * {@code dispatch} (events on by default): the local dispatcher following the simulator's event
 * stream.
 */
class DispatchEventsTest {
  static final String TOKEN = "dispatcheventstesttoken012345";

  /** Far longer than the lock may take: a container locked sooner was locked because of events. */
  static final Duration POLL = Duration.ofSeconds(30);

  @Test
  void dispatch_followsTheEventStreamByDefault_locksAContainerCreatedBetweenPolls_withinSeconds()
      throws Exception {
    try (ArvadosSimulator sim =
        ArvadosSimulator.builder().adminToken(TOKEN).events(true).build().start()) {
      // Keeps the dispatcher busy (not idle) while the second container arrives.
      String first =
          sim.createContainer(
              ContainerSpec.builder().command("sh", "-c", "sleep 6").priority(5).build());
      String java =
          System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
      ProcessBuilder pb =
          new ProcessBuilder(
              java,
              "-cp",
              System.getProperty("java.class.path"),
              Main.class.getName(),
              "dispatch", // events are on by default
              "--event-poll-delay",
              "20ms",
              "--until-idle",
              "--concurrency",
              "2",
              "--poll-interval",
              POLL.toSeconds() + "s",
              "--watch-interval",
              "200ms",
              "--timeout",
              "100s");
      pb.environment().put("ARVADOS_API_HOST", sim.baseUrl());
      pb.environment().put("ARVADOS_API_TOKEN", TOKEN);
      pb.environment().remove("ARVADOS_API_HOST_INSECURE");
      File stderr = File.createTempFile("dispatch-events", ".err");
      stderr.deleteOnExit();
      pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr);
      Process p = pb.start();
      try {
        waitFor(() -> !sim.container(first).state().equals("Queued"), "the first poll's lock");
        waitFor(() -> sim.events().openConnections() > 0, "the dispatcher's event stream");
        Thread.sleep(1000); // its subscription follows the connection
        String second =
            sim.createContainer(ContainerSpec.builder().command("true").priority(5).build());

        boolean exited = p.waitFor(120, TimeUnit.SECONDS);
        String output = Files.readString(stderr.toPath(), StandardCharsets.UTF_8);
        assertThat(exited).as(output).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output)
            .contains("following the event stream")
            .containsPattern("dispatcher idle: locksWon=2 .* eventStream=UP eventPolls=[1-9]")
            .doesNotContain(TOKEN);
        assertThat(sim.container(first).state()).isEqualTo("Complete");
        assertThat(sim.container(second).state()).isEqualTo("Complete");
        Duration firstLock = Duration.ofNanos(lockedAt(sim, first) - createdAt(sim, first));
        Duration secondWait = Duration.ofNanos(lockedAt(sim, second) - createdAt(sim, second));
        Duration sinceFirstLock = Duration.ofNanos(lockedAt(sim, second) - lockedAt(sim, first));
        assertThat(secondWait).isLessThan(Duration.ofSeconds(5));
        assertThat(sinceFirstLock).as("before the second periodic poll").isLessThan(POLL);
        assertThat(firstLock).isLessThan(POLL);
        sim.checkSafety().assertSafe();
      } finally {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
  }

  @Test
  void eventOptionsWithoutEvents_andAnOverlongDelay_areUsageErrors() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    ByteArrayOutputStream help = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(help, true, StandardCharsets.UTF_8);

    assertThat(
            Main.run(
                List.of("dispatch", "--no-events", "--events-url", "wss://ws.example/websocket"),
                out,
                e))
        .isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--events-url conflicts with --no-events");
    err.reset();
    assertThat(Main.run(List.of("dispatch", "--no-events", "--event-poll-delay", "50ms"), out, e))
        .isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--event-poll-delay conflicts with --no-events");
    err.reset();
    assertThat(Main.run(List.of("dispatch", "--event-poll-delay", "2s"), out, e)).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--event-poll-delay must be at most 1s, got 2 s");
    err.reset();
    assertThat(help.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(Main.run(List.of("help", "dispatch"), out, e)).isZero();
    assertThat(help.toString(StandardCharsets.UTF_8))
        .contains("--[no-]events", "--no-events finds work", "--events-url", "--event-poll-delay");
  }

  @Test
  void events_areOnByDefault_andNoEventsTurnsThemOff() {
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    DispatchCommand byDefault = new DispatchCommand();
    dev.crunchguard.examples.cli.Cli.commandLine(byDefault, quiet, quiet).parseArgs();
    DispatchCommand explicit = new DispatchCommand();
    dev.crunchguard.examples.cli.Cli.commandLine(explicit, quiet, quiet).parseArgs("--events");
    DispatchCommand off = new DispatchCommand();
    dev.crunchguard.examples.cli.Cli.commandLine(off, quiet, quiet).parseArgs("--no-events");

    assertThat(byDefault.events).isTrue();
    assertThat(explicit.events).isTrue();
    assertThat(off.events).isFalse();
  }

  private static long createdAt(ArvadosSimulator sim, String uuid) {
    return sim.history(uuid).stream()
        .filter(h -> h.action() == WriteAction.CREATE)
        .mapToLong(HistoryEvent::monotonicNanos)
        .findFirst()
        .orElseThrow();
  }

  private static long lockedAt(ArvadosSimulator sim, String uuid) {
    return sim.history(uuid).stream()
        .filter(h -> h.action() == WriteAction.LOCK && h.accepted())
        .mapToLong(HistoryEvent::monotonicNanos)
        .findFirst()
        .orElseThrow();
  }

  private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }
}

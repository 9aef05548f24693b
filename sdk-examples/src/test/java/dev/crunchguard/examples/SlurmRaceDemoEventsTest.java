package dev.crunchguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The slurm-demo runner's events, read back from a job's log as the demo reads them. */
class SlurmRaceDemoEventsTest {
  @TempDir Path dir;

  @Test
  void eventsAreTheJsonLinesOfTheLog_otherLinesAndAHalfWrittenLastLineAreSkipped()
      throws Exception {
    String staging = new SlurmRaceDemo.RunnerEvent("staging", 1_000).toJson();
    String fenced = new SlurmRaceDemo.RunnerEvent("fenced", 2_500).toJson();
    Path log = dir.resolve("zzzzz-dz642-000000000000000-7.out");
    Files.writeString(
        log,
        String.join(
            "\n",
            "10:00:00.000 [main] WARN dev.crunchguard.runner.RunnerContext -- something",
            staging,
            "slurm-demo-runner: fenced off; staging child stopped",
            fenced,
            "{\"event\":\"fini"),
        StandardCharsets.UTF_8);

    assertThat(staging).isEqualTo("{\"event\":\"staging\",\"at_millis\":1000}");
    assertThat(SlurmRaceDemo.RunnerEvent.in(log))
        .containsExactly(
            new SlurmRaceDemo.RunnerEvent("staging", 1_000),
            new SlurmRaceDemo.RunnerEvent("fenced", 2_500));
    assertThat(SlurmRaceDemo.RunnerEvent.in(dir.resolve("not-yet.out"))).isEmpty();
  }
}

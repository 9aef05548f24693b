package dev.crunchguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.crunchguard.examples.MainAccess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs {@code bench --smoke} (every part, tiny parameters) and checks that the report is well
 * formed. It checks the shape, never the figures: timings are not asserted in unit tests.
 */
class BenchSmokeTest {
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void smokeRun_printsAWellFormedReport_withEveryPartAndAVerdictPerTarget() throws Exception {
    // A full benchmark run elsewhere on the machine holds JMH's /tmp lock; the smoke's tiny
    // in-process JMH run does not need exclusivity.
    System.setProperty("jmh.ignoreLock", "true");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        MainAccess.run(
            List.of("bench", "--smoke"),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String report = out.toString(StandardCharsets.UTF_8);
    String progress = err.toString(StandardCharsets.UTF_8);

    assertThat(status).as(progress).isZero();
    assertThat(report).startsWith("# Crunch Guard benchmark report");
    assertThat(report).contains("smoke run", "CPUs (nproc):", "Java: ");
    assertThat(report)
        .contains(
            "## 1. Guard overhead",
            "### JMH",
            "## 2. Requests per container",
            "## 3. Dispatch throughput",
            "## 4. Loss detection",
            "## 5. Memory, threads and start-up",
            "## 6. Simulator capacity",
            "## Targets");
    assertThat(progress).contains("[bench] done");

    List<List<String>> tables = tables(report);
    assertThat(tables).hasSizeGreaterThanOrEqualTo(10);
    for (List<String> t : tables) {
      int cells = cells(t.get(0));
      assertThat(t.get(1)).as("separator of %s", t.get(0)).matches("\\|(---\\|)+");
      for (String row : t) {
        assertThat(cells(row)).as("cells in %s", row).isEqualTo(cells);
      }
    }

    List<String> targets = tables.get(tables.size() - 1);
    assertThat(targets.get(0)).isEqualTo("| part | target | measured | result |");
    List<String> parts = new ArrayList<>();
    for (String row : targets.subList(2, targets.size())) {
      assertThat(row).matches("\\| [1-6] \\| .+ \\| .+ \\| (met|not met) \\|");
      parts.add(row.substring(2, 3));
    }
    assertThat(parts).contains("1", "2", "3", "4", "5");
  }

  private static List<List<String>> tables(String report) {
    List<List<String>> out = new ArrayList<>();
    List<String> cur = null;
    for (String line : report.split("\n")) {
      if (line.startsWith("|")) {
        if (cur == null) {
          cur = new ArrayList<>();
          out.add(cur);
        }
        cur.add(line);
      } else {
        cur = null;
      }
    }
    return out;
  }

  /** Cells of a Markdown row, not counting escaped pipes. */
  private static int cells(String row) {
    return row.replace("\\|", "").split("\\|", -1).length - 2;
  }
}

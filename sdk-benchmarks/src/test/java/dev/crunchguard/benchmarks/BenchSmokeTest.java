package dev.crunchguard.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        BenchmarksMain.run(
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
            "## 7. Queue-to-lock latency",
            "## Targets");
    // The real-server part changes a server outside the process: it runs only when named.
    assertThat(report).doesNotContain("## 8. Against the real server");
    assertThat(progress).contains("[bench] done");

    List<List<String>> tables = tables(report);
    assertThat(tables).hasSizeGreaterThanOrEqualTo(11);
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
      assertThat(row).matches("\\| [1-7] \\| .+ \\| .+ \\| (met|not met) \\|");
      parts.add(row.substring(2, 3));
    }
    assertThat(parts).contains("1", "2", "3", "4", "5", "7");
    // Part 7: one row per configuration (two event delays, the first again with a runner that
    // reads the record, two poll intervals), and for each events configuration its three
    // verdicts, p50, p99 and requests per container.
    List<String> latency = tableAfter(report, "## 7. Queue-to-lock latency");
    assertThat(latency.get(0))
        .startsWith("| configuration | periodic poll | containers | p50 ms |");
    assertThat(latency.subList(2, latency.size()))
        .hasSize(5)
        .anySatisfy(r -> assertThat(r).startsWith("| events, eventPollDelay 5 ms (default) |"))
        .anySatisfy(
            r ->
                assertThat(r)
                    .startsWith(
                        "| events, eventPollDelay 5 ms (default), runner reads `ctx.container()` |"))
        .anySatisfy(r -> assertThat(r).startsWith("| polling every 1 s |"))
        .allSatisfy(r -> assertThat(r).contains("all locked, safe"));
    assertThat(targets.stream().filter(r -> r.startsWith("| 7 |")))
        .hasSize(9)
        .anySatisfy(r -> assertThat(r).contains("p50 ≤ 50 ms"))
        .anySatisfy(r -> assertThat(r).contains("p99 ≤ 250 ms"))
        .anySatisfy(
            r -> assertThat(r).contains("requests per container ≤ polling every 1 s + 10%"));
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void smokeRunWithJson_printsOneObjectOfTheDocumentedShape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        BenchmarksMain.run(
            List.of("bench", "--smoke", "--json", "--parts", "requests,loss"),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
    String stdout = out.toString(StandardCharsets.UTF_8);
    assertThat(stdout.lines()).as("one line of JSON").hasSize(1);

    JsonObject report = JsonParser.parseString(stdout).getAsJsonObject();
    assertThat(report.get("report").getAsString()).isEqualTo("bench");
    assertThat(report.get("smoke").getAsBoolean()).isTrue();
    assertThat(report.get("command").getAsString())
        .endsWith("crunchguard-benchmarks.jar bench --smoke --json --parts requests,loss");
    assertThat(report.getAsJsonArray("parts").asList())
        .extracting(JsonElement::getAsString)
        .containsExactly("requests", "loss");
    assertThat(report.get("seconds").getAsDouble()).isPositive();
    assertThat(report.getAsJsonObject("machine").get("cpus").getAsInt()).isPositive();
    assertThat(report.getAsJsonObject("load_average").keySet()).containsExactly("start", "end");

    List<String> titles = new ArrayList<>();
    int tables = 0;
    for (JsonElement e : report.getAsJsonArray("sections")) {
      JsonObject section = e.getAsJsonObject();
      titles.add(section.get("title").getAsString());
      for (JsonElement b : section.getAsJsonArray("blocks")) {
        JsonObject block = b.getAsJsonObject();
        switch (block.get("type").getAsString()) {
          case "table" -> {
            tables++;
            int cells = block.getAsJsonArray("header").size();
            for (JsonElement row : block.getAsJsonArray("rows")) {
              assertThat(row.getAsJsonArray().size()).isEqualTo(cells);
            }
          }
          case "text", "heading" -> assertThat(block.get("text").getAsString()).isNotBlank();
          default -> throw new AssertionError("unknown block " + block);
        }
      }
    }
    assertThat(titles).hasSize(2);
    assertThat(titles.get(0)).startsWith("2. Requests per container life cycle");
    assertThat(titles.get(1)).startsWith("4. Loss detection");
    assertThat(tables).isPositive();
    assertThat(report.getAsJsonArray("targets")).isNotEmpty();
    for (JsonElement t : report.getAsJsonArray("targets")) {
      JsonObject target = t.getAsJsonObject();
      assertThat(target.keySet()).containsExactly("part", "target", "measured", "met");
      assertThat(target.get("part").getAsString()).isIn("2", "4");
      assertThat(target.get("met").isJsonPrimitive()).isTrue();
    }
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void realPart_withoutAServerConfigured_isSkippedWithTheReason_andAddsNoTarget() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        BenchmarksMain.run(
            List.of("bench", "--smoke", "--json", "--parts", "real"),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of());
    assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("[bench] 8. skipped: CRUNCHGUARD_ARVADOS_URL is not set");

    JsonObject report =
        JsonParser.parseString(out.toString(StandardCharsets.UTF_8)).getAsJsonObject();
    assertThat(report.getAsJsonArray("parts").asList())
        .extracting(JsonElement::getAsString)
        .containsExactly("real");
    JsonObject section = report.getAsJsonArray("sections").get(0).getAsJsonObject();
    assertThat(section.get("title").getAsString()).startsWith("8. Against the real server");
    assertThat(section.getAsJsonArray("blocks")).hasSize(1);
    assertThat(section.getAsJsonArray("blocks").get(0).getAsJsonObject().get("text").getAsString())
        .startsWith("**Skipped:** CRUNCHGUARD_ARVADOS_URL is not set")
        .contains("src/ci/real-arvados.sh");
    assertThat(report.getAsJsonArray("targets")).isEmpty();
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void realPart_withAnIncompleteConfiguration_isSkippedNamingTheMissingVariables() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        BenchmarksMain.run(
            List.of("bench", "--smoke", "--parts", "real"),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of(
                "CRUNCHGUARD_ARVADOS_URL",
                "http://127.0.0.1:9/",
                "CRUNCHGUARD_ARVADOS_ADMIN_TOKEN",
                "v2/zzzzz-gj3su-000000000000000/notarealsecret"));
    assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
    String report = out.toString(StandardCharsets.UTF_8);
    assertThat(report)
        .contains("## 8. Against the real server")
        .contains("**Skipped:** the real server is configured but not usable")
        .contains("CRUNCHGUARD_ARVADOS_ADMIN2_TOKEN, CRUNCHGUARD_ARVADOS_USER_TOKEN is not")
        .doesNotContain("notarealsecret");
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

  /** The first table after a heading. */
  private static List<String> tableAfter(String report, String heading) {
    int at = report.indexOf(heading);
    assertThat(at).as(heading).isNotNegative();
    return tables(report.substring(at)).get(0);
  }

  /** Cells of a Markdown row, not counting escaped pipes. */
  private static int cells(String row) {
    return row.replace("\\|", "").split("\\|", -1).length - 2;
  }
}

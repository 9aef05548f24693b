package dev.crunchguard.benchmarks;

import dev.crunchguard.examples.cli.Cli;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code bench-serve}: the out-of-process server of the overhead and memory benchmarks, so that the
 * measuring JVM holds only client objects (heap, allocation profiles) — either the simulator with
 * {@code --containers N} Queued containers, or the {@link FixedResponder} with {@code --body-file}.
 * Prints its {@link Ready} report (one JSON line), then {@code READY}; serves until its stdin
 * closes.
 */
@Command(
    name = "bench-serve",
    hidden = true,
    description = "Internal: the benchmarks' server in another JVM.")
final class BenchServer implements Callable<Integer> {
  /** Which server. */
  enum Kind {
    SIM,
    FIXED
  }

  /** What the parent reads: the base URL and, for the simulator, its Queued containers. */
  record Ready(String url, List<String> containers) {}

  @ParentCommand BenchmarksMain main;

  @Option(names = "--kind", defaultValue = "sim")
  Kind kind;

  @Option(names = "--containers", defaultValue = "0")
  int containers;

  @Option(names = "--tokens", split = ",")
  List<String> tokens = new ArrayList<>();

  @Option(names = "--body-file")
  @Nullable Path bodyFile;

  @Option(names = "--max-dispatch-attempts", defaultValue = "1000000")
  int maxDispatchAttempts;

  @Option(names = "--threads")
  @Nullable Integer threads;

  @Option(names = "--seed", defaultValue = "1")
  long seed;

  @Override
  public Integer call() throws Exception {
    AutoCloseable server;
    Ready ready;
    if (kind == Kind.FIXED) {
      if (bodyFile == null) {
        throw new IllegalArgumentException("--kind fixed needs --body-file");
      }
      FixedResponder f =
          new FixedResponder(Files.readAllBytes(bodyFile), threads == null ? 4 : threads);
      server = f;
      ready = new Ready(f.baseUrl(), List.of());
    } else {
      ArvadosSimulator.Builder b =
          ArvadosSimulator.builder()
              .maxDispatchAttempts(maxDispatchAttempts)
              .threads(threads == null ? 16 : threads);
      for (String t : tokens) {
        if (!t.isBlank()) {
          b.adminToken(t.trim());
        }
      }
      ArvadosSimulator sim = b.build().start();
      server = sim;
      Random rnd = new Random(seed);
      List<String> uuids = new ArrayList<>(containers);
      for (int i = 0; i < containers; i++) {
        uuids.add(
            sim.createContainer(ContainerSpec.builder().priority(1 + rnd.nextInt(1000)).build()));
      }
      ready = new Ready(sim.baseUrl(), uuids);
    }
    Child.ready(main.out, ready);
    try (InputStream in = System.in) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    try {
      server.close();
    } catch (Exception e) {
      throw new IOException(e);
    }
    return Cli.OK;
  }

  static String bodyFile(byte[] body) throws IOException {
    Path p = Files.createTempFile("crunchguard-bench-body", ".json");
    p.toFile().deleteOnExit();
    Files.write(p, body);
    return p.toString();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

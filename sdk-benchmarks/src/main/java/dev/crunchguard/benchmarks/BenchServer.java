package dev.crunchguard.benchmarks;

import dev.crunchguard.examples.Flags;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * {@code bench-serve}: the out-of-process server of the overhead and memory benchmarks, so that the
 * measuring JVM holds only client objects (heap, allocation profiles) — either the simulator with
 * {@code --containers N} Queued containers, or the {@link FixedResponder} with {@code --body-file}.
 * Prints {@code URL <base url>}, for the simulator one {@code C <uuid>} line per container, then
 * {@code READY}; serves until its stdin closes.
 */
final class BenchServer {
  private BenchServer() {}

  static int main(Flags a, PrintStream out) throws IOException {
    String kind = a.string("kind", "sim");
    AutoCloseable server;
    if (kind.equals("fixed")) {
      byte[] body = Files.readAllBytes(Path.of(a.string("body-file", "")));
      FixedResponder f = new FixedResponder(body, a.integer("threads", 4));
      out.println("URL " + f.baseUrl());
      server = f;
    } else if (kind.equals("sim")) {
      ArvadosSimulator.Builder b =
          ArvadosSimulator.builder()
              .maxDispatchAttempts(a.integer("max-dispatch-attempts", 1_000_000))
              .threads(a.integer("threads", 16));
      for (String t : a.string("tokens", "").split(",")) {
        if (!t.isBlank()) {
          b.adminToken(t.trim());
        }
      }
      ArvadosSimulator sim = b.build().start();
      out.println("URL " + sim.baseUrl());
      Random rnd = new Random(a.integer("seed", 1));
      int n = a.integer("containers", 0);
      for (int i = 0; i < n; i++) {
        out.println(
            "C "
                + sim.createContainer(
                    ContainerSpec.builder().priority(1 + rnd.nextInt(1000)).build()));
      }
      server = sim;
    } else {
      throw new Flags.UsageException("--kind must be sim or fixed");
    }
    out.println("READY");
    out.flush();
    try (InputStream in = System.in) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    try {
      server.close();
    } catch (Exception e) {
      throw new IOException(e);
    }
    return 0;
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

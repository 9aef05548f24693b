package dev.crunchguard.benchmarks;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Prefixes each progress line with the seconds elapsed since the bench started. */
final class Elapsed extends OutputStream {
  private final OutputStream out;
  private final long start = System.nanoTime();
  private boolean atLineStart = true;

  Elapsed(OutputStream out) {
    this.out = out;
  }

  @Override
  public synchronized void write(int b) throws IOException {
    if (atLineStart) {
      out.write(
          String.format(Locale.ROOT, "%7.1fs ", (System.nanoTime() - start) / 1e9)
              .getBytes(StandardCharsets.US_ASCII));
      atLineStart = false;
    }
    out.write(b);
    if (b == '\n') {
      atLineStart = true;
      out.flush();
    }
  }

  @Override
  public synchronized void flush() throws IOException {
    out.flush();
  }
}

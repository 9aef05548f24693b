package dev.crunchguard.benchmarks;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A helper JVM on this JVM's class path ({@code java -cp <class path>
 * dev.crunchguard.benchmarks.BenchmarksMain <args>}): the out-of-process server for the overhead
 * and memory benchmarks, and the fresh JVMs of the start-up measurement. It prints its report as
 * one JSON line on stdout, then {@code READY}; closing its stdin ends it.
 */
final class Child implements AutoCloseable {
  static final String QUIET_LOGS = "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn";

  private static final Gson GSON =
      new GsonBuilder()
          .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
          .create();

  final Process process;
  final List<String> lines = new ArrayList<>();
  private final BufferedReader out;

  private Child(Process process) {
    this.process = process;
    this.out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  static String javaBinary() {
    return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
  }

  static List<String> command(List<String> jvmArgs, List<String> mainArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.add(QUIET_LOGS);
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BenchmarksMain.class.getName());
    cmd.addAll(mainArgs);
    return cmd;
  }

  /** Starts a child and reads its stdout up to the line {@code READY}. */
  static Child start(List<String> jvmArgs, List<String> mainArgs) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command(jvmArgs, mainArgs));
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Child c = new Child(pb.start());
    try {
      String l;
      while ((l = c.out.readLine()) != null) {
        if (l.equals("READY")) {
          return c;
        }
        c.lines.add(l);
      }
      throw new IOException(
          "child "
              + mainArgs
              + " exited before READY (status "
              + (c.process.waitFor(5, TimeUnit.SECONDS) ? c.process.exitValue() : "running")
              + ")");
    } catch (IOException | InterruptedException | RuntimeException e) {
      c.close();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw e instanceof IOException ? (IOException) e : new IOException(e);
    }
  }

  /**
   * The child's report: its last JSON line before {@code READY}, read by Gson.
   *
   * @throws IllegalStateException if it printed none
   */
  <T> T report(Class<T> type) {
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (lines.get(i).startsWith("{")) {
        return GSON.fromJson(lines.get(i), type);
      }
    }
    throw new IllegalStateException("the child printed no report");
  }

  /** Prints a child's report: one JSON line, then {@code READY}. */
  static void ready(PrintStream out, Object report) {
    out.println(GSON.toJson(report));
    out.println("READY");
    out.flush();
  }

  @Override
  public void close() {
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // already gone
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}

package dev.crunchguard.benchmarks;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A helper JVM on this JVM's class path ({@code java -cp <class path> dev.crunchguard.examples.Main
 * <args>}): the out-of-process server for the overhead and memory benchmarks, and the fresh JVMs of
 * the start-up measurement. It prints lines on stdout up to {@code READY}; closing its stdin ends
 * it.
 */
final class Child implements AutoCloseable {
  static final String QUIET_LOGS = "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn";

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
    cmd.add("dev.crunchguard.examples.Main");
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

  /** The value of the first stdout line {@code KEY value}. */
  String value(String key) {
    for (String l : lines) {
      if (l.startsWith(key + " ")) {
        return l.substring(key.length() + 1);
      }
    }
    throw new IllegalStateException("child printed no " + key);
  }

  List<String> values(String key) {
    List<String> out = new ArrayList<>();
    for (String l : lines) {
      if (l.startsWith(key + " ")) {
        out.add(l.substring(key.length() + 1));
      }
    }
    return out;
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

package dev.crunchguard.benchmarks;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** The machine a report was measured on. */
final class Machine {
  private Machine() {}

  static String cpuModel() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }

  /** {@code /proc/loadavg}'s 1, 5 and 15 minute load averages, or "n/a". */
  static String loadAverage() {
    try {
      String[] f =
          Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII)
              .trim()
              .split("\\s+");
      return f[0] + " / " + f[1] + " / " + f[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  /** The same facts as {@link #describe()}, for the JSON report. */
  static JsonObject json() {
    Runtime rt = Runtime.getRuntime();
    JsonObject o = new JsonObject();
    o.addProperty("cpus", rt.availableProcessors());
    o.addProperty("cpu_model", cpuModel());
    o.addProperty("java_version", System.getProperty("java.version"));
    o.addProperty(
        "java_vm",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
    o.addProperty("max_heap_mib", rt.maxMemory() >> 20);
    o.addProperty("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    return o;
  }

  static String describe() {
    Runtime rt = Runtime.getRuntime();
    return String.format(
        Locale.ROOT,
        "* CPUs (nproc): %d; CPU model: %s%n* Java: %s (%s %s), max heap %d MiB%n* OS: %s %s%n",
        rt.availableProcessors(),
        cpuModel(),
        System.getProperty("java.version"),
        System.getProperty("java.vm.name"),
        System.getProperty("java.vm.version"),
        rt.maxMemory() >> 20,
        System.getProperty("os.name"),
        System.getProperty("os.version"));
  }
}

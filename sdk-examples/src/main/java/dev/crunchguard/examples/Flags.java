package dev.crunchguard.examples;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The examples' command-line flag parser: {@code --name value}, {@code --name=value} and boolean
 * {@code --name}. Shared by every command, including {@code bench}.
 */
public final class Flags {
  /** A usage error: printed with the command's help, exit status 2. */
  public static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
      super(message);
    }
  }

  private final Map<String, String> values = new HashMap<>();
  private final Set<String> used = new HashSet<>();

  private Flags() {}

  public static Flags parse(List<String> args, Set<String> booleans, Set<String> valued) {
    Flags f = new Flags();
    List<String> rest = new ArrayList<>(args);
    for (int i = 0; i < rest.size(); i++) {
      String a = rest.get(i);
      if (!a.startsWith("--")) {
        throw new UsageException("unexpected argument: " + a);
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (booleans.contains(name)) {
        f.values.put(name, value == null ? "true" : value);
      } else if (valued.contains(name)) {
        if (value == null) {
          if (i + 1 >= rest.size()) {
            throw new UsageException("--" + name + " needs a value");
          }
          value = rest.get(++i);
        }
        f.values.put(name, value);
      } else {
        throw new UsageException("unknown flag: --" + name);
      }
    }
    return f;
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public boolean bool(String name) {
    String v = values.get(name);
    return v != null && (v.equals("true") || v.equals("1") || v.equals("yes"));
  }

  public String string(String name, String dflt) {
    return values.getOrDefault(name, dflt);
  }

  /** A non-negative integer. */
  public int integer(String name, int dflt) {
    return integer(name, dflt, 0, Integer.MAX_VALUE);
  }

  public List<Integer> integers(String name, List<Integer> dflt) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    List<Integer> out = new ArrayList<>();
    for (String p : v.split(",")) {
      try {
        int n = Integer.parseInt(p.trim().replace("_", ""));
        if (n < 1) {
          throw new UsageException("--" + name + " values must be positive, got " + p);
        }
        out.add(n);
      } catch (NumberFormatException e) {
        throw new UsageException(
            "--" + name + " must be a comma-separated list of integers, got " + v);
      }
    }
    return out;
  }

  public int integer(String name, int dflt, int min, int max) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.replace("_", ""));
      if (n < min || n > max) {
        throw new UsageException(
            "--" + name + " must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be an integer, got " + v);
    }
  }

  public long longValue(String name, long dflt) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be an integer, got " + v);
    }
  }

  /** Durations as {@code 250ms}, {@code 5s}, {@code 2m}, or plain milliseconds. */
  public Duration duration(String name, Duration dflt) {
    String v = values.get(name);
    return v == null ? dflt : parseDuration(name, v);
  }

  public List<Duration> durations(String name, List<Duration> dflt) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    List<Duration> out = new ArrayList<>();
    for (String p : v.split(",")) {
      out.add(parseDuration(name, p.trim()));
    }
    return out;
  }

  /** {@code 250ms}, {@code 5s}, {@code 1.5s}, {@code 2m}, or plain milliseconds; positive. */
  public static Duration parseDuration(String name, String v) {
    try {
      Duration d;
      if (v.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      } else if (v.endsWith("s")) {
        d =
            Duration.ofMillis(
                Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
      } else if (v.endsWith("m")) {
        d = Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
      } else {
        d = Duration.ofMillis(Long.parseLong(v));
      }
      if (d.isNegative() || d.isZero()) {
        throw new UsageException("--" + name + " must be positive, got " + v);
      }
      return d;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be a duration like 500ms, 5s or 2m, got " + v);
    }
  }

  /** A duration for reports: whole seconds as {@code "2 s"}, else milliseconds. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 1000 == 0) {
      return ms / 1000 + " s";
    }
    return ms + " ms";
  }
}

package dev.crunchguard.examples.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Flags of the bench commands: {@code --name value}, {@code --name=value}, boolean {@code --name}. */
final class Args {
  /** A bad command line: printed with the usage, exit status 2. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  private final Map<String, String> values = new HashMap<>();

  static Args parse(List<String> args, Set<String> booleans, Set<String> valued) {
    Args a = new Args();
    for (int i = 0; i < args.size(); i++) {
      String s = args.get(i);
      if (!s.startsWith("--")) {
        throw new UsageException("unexpected argument: " + s);
      }
      String name = s.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (booleans.contains(name)) {
        a.values.put(name, value == null ? "true" : value);
      } else if (valued.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.size()) {
            throw new UsageException("--" + name + " needs a value");
          }
          value = args.get(++i);
        }
        a.values.put(name, value);
      } else {
        throw new UsageException("unknown flag: --" + name);
      }
    }
    return a;
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  boolean bool(String name) {
    String v = values.get(name);
    return v != null && (v.equals("true") || v.equals("1") || v.equals("yes"));
  }

  String string(String name, String dflt) {
    return values.getOrDefault(name, dflt);
  }

  int integer(String name, int dflt) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.replace("_", ""));
      if (n < 0) {
        throw new UsageException("--" + name + " must not be negative, got " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be an integer, got " + v);
    }
  }

  List<Integer> integers(String name, List<Integer> dflt) {
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
        throw new UsageException("--" + name + " must be a comma-separated list of integers, got " + v);
      }
    }
    return out;
  }

  Duration duration(String name, Duration dflt) {
    String v = values.get(name);
    return v == null ? dflt : parseDuration(name, v);
  }

  List<Duration> durations(String name, List<Duration> dflt) {
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

  /** {@code 250ms}, {@code 5s}, {@code 2m}, or plain milliseconds. */
  static Duration parseDuration(String name, String v) {
    try {
      Duration d;
      if (v.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      } else if (v.endsWith("s")) {
        d = Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
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

  static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 1000 == 0) {
      return ms / 1000 + " s";
    }
    return ms + " ms";
  }
}

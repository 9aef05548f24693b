package dev.crunchguard.testkit.internal.events;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * One client message as arvados-ws v0 decodes it ({@code v0subscribe{Method, Filters, LastLogID}}),
 * and a subscription's compiled filters. Only {@code ["event_type","in",[...]]} and {@code
 * ["created_at", op, time]} are applied; every other filter is dropped silently, so it matches
 * everything (session_v0.go {@code prepare}).
 */
final class Subscription {
  /** A decoded client message. {@code method} is null when the message could not be decoded. */
  record Message(@Nullable String method, List<List<JsonElement>> filters, long lastLogId) {}

  private final List<List<JsonElement>> filters;
  private final List<Predicate<LogEntry>> tests;

  Subscription(List<List<JsonElement>> filters) {
    this.filters = filters;
    this.tests = compile(filters);
  }

  /** The filters as sent, each padded or cut to three elements: compared for unsubscribe. */
  List<List<JsonElement>> filters() {
    return filters;
  }

  boolean matches(LogEntry e) {
    for (Predicate<LogEntry> t : tests) {
      if (!t.test(e)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Decodes a frame like Go's {@code json.Unmarshal} into the v0 struct: keys matched without
   * regard to case, wrong types are an error (method null), {@code filters} elements must be arrays
   * (Go's {@code [3]interface{}} keeps the first three elements and pads with null).
   */
  static Message decode(String text) {
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (RuntimeException e) {
      return new Message(null, List.of(), 0);
    }
    if (root.isJsonNull()) {
      return new Message("", List.of(), 0); // Go: null unmarshals into the zero struct
    }
    if (!root.isJsonObject()) {
      return new Message(null, List.of(), 0);
    }
    String method = "";
    List<List<JsonElement>> filters = List.of();
    long lastLogId = 0;
    for (Map.Entry<String, JsonElement> en : ((JsonObject) root).entrySet()) {
      String key = en.getKey().toLowerCase(Locale.ROOT);
      JsonElement v = en.getValue();
      switch (key) {
        case "method":
          if (v.isJsonNull()) {
            break;
          }
          if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
            return new Message(null, List.of(), 0);
          }
          method = v.getAsString();
          break;
        case "filters":
          if (v.isJsonNull()) {
            filters = List.of();
            break;
          }
          if (!v.isJsonArray()) {
            return new Message(null, List.of(), 0);
          }
          List<List<JsonElement>> fs = new ArrayList<>();
          for (JsonElement f : v.getAsJsonArray()) {
            if (f.isJsonNull()) {
              fs.add(padded(new JsonArray()));
              continue;
            }
            if (!f.isJsonArray()) {
              return new Message(null, List.of(), 0);
            }
            fs.add(padded(f.getAsJsonArray()));
          }
          filters = List.copyOf(fs);
          break;
        case "last_log_id":
          if (v.isJsonNull()) {
            break;
          }
          try {
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
              return new Message(null, List.of(), 0);
            }
            lastLogId = Long.parseLong(v.getAsString()); // Go: 1.0 or 1e3 is no int64
          } catch (NumberFormatException e) {
            return new Message(null, List.of(), 0);
          }
          break;
        default:
          break;
      }
    }
    return new Message(method, filters, lastLogId);
  }

  private static List<JsonElement> padded(JsonArray a) {
    List<JsonElement> out = new ArrayList<>(3);
    for (int i = 0; i < 3; i++) {
      out.add(i < a.size() ? a.get(i) : JsonNull.INSTANCE);
    }
    return List.copyOf(out);
  }

  private static final Set<String> TIME_OPS = Set.of(">=", "<=", ">", "<", "=");

  private static List<Predicate<LogEntry>> compile(List<List<JsonElement>> filters) {
    List<Predicate<LogEntry>> out = new ArrayList<>();
    for (List<JsonElement> f : filters) {
      String col = string(f.get(0));
      String op = string(f.get(1));
      JsonElement operand = f.get(2);
      if ("event_type".equals(col)) {
        if (!"in".equals(op) || !operand.isJsonArray()) {
          continue;
        }
        Set<String> types = new HashSet<>();
        for (JsonElement t : operand.getAsJsonArray()) {
          String s = string(t);
          if (s != null) {
            types.add(s);
          }
        }
        out.add(e -> types.contains(e.eventType()));
      } else if ("created_at".equals(col)) {
        String t = string(operand);
        if (op == null || t == null || !TIME_OPS.contains(op)) {
          continue;
        }
        Instant at;
        try {
          at = OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
          continue;
        }
        switch (op) {
          case ">=":
            out.add(e -> !e.createdAt().isBefore(at));
            break;
          case "<=":
            out.add(e -> !e.createdAt().isAfter(at));
            break;
          case ">":
            out.add(e -> e.createdAt().isAfter(at));
            break;
          case "<":
            out.add(e -> e.createdAt().isBefore(at));
            break;
          default:
            out.add(e -> e.createdAt().equals(at));
            break;
        }
      }
    }
    return List.copyOf(out);
  }

  private static @Nullable String string(JsonElement e) {
    return e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null;
  }
}

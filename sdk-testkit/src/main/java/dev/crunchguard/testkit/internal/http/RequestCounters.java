package dev.crunchguard.testkit.internal.http;

import dev.crunchguard.testkit.Endpoint;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/** Per-endpoint and per-(container, endpoint) request counts. Lock-free. */
public final class RequestCounters {
  private final Map<Endpoint, LongAdder> byEndpoint = new ConcurrentHashMap<>();
  private final Map<String, Map<Endpoint, LongAdder>> byContainer = new ConcurrentHashMap<>();

  public void count(Endpoint e, @Nullable String uuid) {
    byEndpoint.computeIfAbsent(e, k -> new LongAdder()).increment();
    if (uuid != null) {
      byContainer
          .computeIfAbsent(uuid, k -> new ConcurrentHashMap<>())
          .computeIfAbsent(e, k -> new LongAdder())
          .increment();
    }
  }

  public long get(Endpoint e) {
    LongAdder a = byEndpoint.get(e);
    return a == null ? 0 : a.sum();
  }

  public long get(Endpoint e, String uuid) {
    Map<Endpoint, LongAdder> m = byContainer.get(uuid);
    LongAdder a = m == null ? null : m.get(e);
    return a == null ? 0 : a.sum();
  }

  /** Action name to count, over all containers. */
  public Map<String, Long> totals() {
    Map<String, Long> out = new TreeMap<>();
    byEndpoint.forEach((k, v) -> out.put(k.action(), v.sum()));
    return out;
  }

  /** Action name to count, for one container. */
  public Map<String, Long> forContainer(String uuid) {
    Map<String, Long> out = new TreeMap<>();
    Map<Endpoint, LongAdder> m = byContainer.get(uuid);
    if (m != null) {
      m.forEach((k, v) -> out.put(k.action(), v.sum()));
    }
    return out;
  }

  public Map<String, Map<String, Long>> allContainers() {
    Map<String, Map<String, Long>> out = new TreeMap<>();
    for (String uuid : byContainer.keySet()) {
      out.put(uuid, forContainer(uuid));
    }
    return out;
  }

  public void clear() {
    byEndpoint.clear();
    byContainer.clear();
  }
}

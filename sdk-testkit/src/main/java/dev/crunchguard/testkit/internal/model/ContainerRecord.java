package dev.crunchguard.testkit.internal.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One stored container row. Immutable: every change produces a new record, so a rejected request
 * can never leave a half-applied change behind, and readers never need a lock.
 */
public final class ContainerRecord {
  static final String KIND = "arvados#container";

  private final EnumMap<Attr, JsonElement> values;
  private volatile @Nullable String etag;

  ContainerRecord(Map<Attr, JsonElement> values) {
    this.values = new EnumMap<>(Attr.class);
    for (Attr a : Attr.values()) {
      JsonElement v = values.get(a);
      this.values.put(a, v == null ? JsonNull.INSTANCE : v.deepCopy());
    }
  }

  /** A mutable deep copy of the values, for building the next version. */
  EnumMap<Attr, JsonElement> mutableCopy() {
    EnumMap<Attr, JsonElement> m = new EnumMap<>(Attr.class);
    values.forEach((k, v) -> m.put(k, v.deepCopy()));
    return m;
  }

  public JsonElement get(Attr a) {
    return values.get(a).deepCopy();
  }

  @Nullable String string(Attr a) {
    return Json.asString(values.get(a));
  }

  long longValue(Attr a) {
    JsonElement e = values.get(a);
    return e.isJsonNull() ? 0 : e.getAsLong();
  }

  public String uuid() {
    return string(Attr.UUID);
  }

  State state() {
    return State.parse(string(Attr.STATE));
  }

  public @Nullable String authUuid() {
    return string(Attr.AUTH_UUID);
  }

  @Nullable String lockedByUuid() {
    return string(Attr.LOCKED_BY_UUID);
  }

  public @Nullable String runtimeToken() {
    return string(Attr.RUNTIME_TOKEN);
  }

  long priority() {
    return longValue(Attr.PRIORITY);
  }

  /** The full public rendering (the {@code :user} template): never hidden columns. */
  public JsonObject render() {
    JsonObject o = new JsonObject();
    o.addProperty("kind", KIND);
    o.addProperty("etag", etag());
    for (Attr a : Attr.values()) {
      if (!a.hidden) {
        o.add(a.json, values.get(a).deepCopy());
      }
    }
    return o;
  }

  /** Renders only the selected keys (in the requested order); unknown keys are skipped. */
  public JsonObject render(Collection<String> select) {
    JsonObject full = render();
    JsonObject o = new JsonObject();
    for (String k : select) {
      if (full.has(k)) {
        o.add(k, full.get(k));
      }
    }
    return o;
  }

  /**
   * Base-36 MD5 of the attribute dump, like {@code kind_and_etag.rb}. Cached: records are
   * immutable.
   */
  String etag() {
    String e = etag;
    if (e == null) {
      e = computeEtag();
      etag = e;
    }
    return e;
  }

  private String computeEtag() {
    JsonObject dump = new JsonObject();
    for (Attr a : Attr.values()) {
      dump.add(a.json, values.get(a));
    }
    try {
      byte[] md5 =
          MessageDigest.getInstance("MD5")
              .digest(Json.GSON.toJson(dump).getBytes(StandardCharsets.UTF_8));
      return new BigInteger(1, md5).toString(36);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

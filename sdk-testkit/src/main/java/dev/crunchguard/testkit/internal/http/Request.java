package dev.crunchguard.testkit.internal.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import dev.crunchguard.testkit.internal.model.ApiException;
import dev.crunchguard.testkit.internal.model.Json;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A parsed HTTP request: method (after method override), path, and the merged parameters (query,
 * then form or JSON body), like Rails' {@code params}.
 */
public final class Request {
  final String method;
  final String path;
  final Map<String, JsonElement> params;

  /** The top-level object of a JSON body, for ParamsWrapper; null for other bodies. */
  final @Nullable JsonObject jsonBody;

  private Request(
      String method, String path, Map<String, JsonElement> params, @Nullable JsonObject jsonBody) {
    this.method = method;
    this.path = path;
    this.params = params;
    this.jsonBody = jsonBody;
  }

  /**
   * Parses a request.
   *
   * @throws ApiException 400 for a malformed JSON body
   */
  static Request parse(
      String method,
      String path,
      @Nullable String rawQuery,
      @Nullable String contentType,
      byte[] body,
      @Nullable String methodOverrideHeader) {
    Map<String, JsonElement> params = new LinkedHashMap<>();
    parseForm(rawQuery, params);
    JsonObject jsonBody = null;
    String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
    if (body.length > 0) {
      if (ct.startsWith("application/json") || ct.contains("+json")) {
        String text = new String(body, StandardCharsets.UTF_8);
        JsonElement parsed;
        try {
          parsed = Json.parseStrict(text);
        } catch (JsonParseException e) {
          throw ApiException.rails(
              400,
              "#<ActionDispatch::Http::Parameters::ParseError: Error occurred while parsing request parameters>");
        }
        if (parsed.isJsonObject()) {
          jsonBody = parsed.getAsJsonObject();
          params.putAll(jsonBody.asMap());
        } else {
          params.put("_json", parsed);
        }
      } else if (ct.startsWith("application/x-www-form-urlencoded")) {
        parseForm(new String(body, StandardCharsets.ISO_8859_1), params);
      }
    }
    String m = method.toUpperCase(Locale.ROOT);
    if ("POST".equals(m)) {
      String override = methodOverrideHeader;
      JsonElement mp = params.get("_method");
      if (mp != null && mp.isJsonPrimitive()) {
        override = mp.getAsString();
      }
      if (override != null) {
        String o = override.toUpperCase(Locale.ROOT);
        if (o.equals("GET")
            || o.equals("PUT")
            || o.equals("PATCH")
            || o.equals("DELETE")
            || o.equals("HEAD")) {
          m = o;
        }
      }
    }
    String p = path;
    if (p.endsWith(".json")) {
      p = p.substring(0, p.length() - 5);
    }
    while (p.length() > 1 && p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return new Request(m, p, params, jsonBody);
  }

  private static void parseForm(@Nullable String q, Map<String, JsonElement> params) {
    if (q == null || q.isEmpty()) {
      return;
    }
    for (String pair : q.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k;
      String v;
      try {
        k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw ApiException.rails(
            400, "#<ActionController::BadRequest: Invalid request parameters: invalid %-encoding>");
      }
      if (k.endsWith("[]")) {
        String base = k.substring(0, k.length() - 2);
        JsonElement cur = params.get(base);
        JsonArray arr = cur != null && cur.isJsonArray() ? cur.getAsJsonArray() : new JsonArray();
        arr.add(v);
        params.put(base, arr);
      } else {
        params.put(k, new JsonPrimitive(v));
      }
    }
  }

  @Nullable String stringParam(String name) {
    JsonElement e = params.get(name);
    return e != null && e.isJsonPrimitive() ? e.getAsString() : null;
  }
}

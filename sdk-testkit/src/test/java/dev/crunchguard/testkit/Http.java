package dev.crunchguard.testkit;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small real-HTTP test client for the simulator. */
final class Http {
  final String base;
  final HttpClient client;

  Http(ArvadosSimulator sim) {
    this(sim.baseUrl(), HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
  }

  Http(String base, HttpClient client) {
    this.base = base.endsWith("/") ? base : base + "/";
    this.client = client;
  }

  /** One response. */
  record Res(int status, String body, Map<String, List<String>> headers) {
    JsonObject json() {
      return JsonParser.parseString(body).getAsJsonObject();
    }

    List<String> errors() {
      List<String> l = new ArrayList<>();
      JsonArray a = json().getAsJsonArray("errors");
      if (a != null) {
        a.forEach(e -> l.add(e.getAsString()));
      }
      return l;
    }

    String str(String key) {
      JsonElement e = json().get(key);
      return e == null || e.isJsonNull() ? null : e.getAsString();
    }

    String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue().get(0);
        }
      }
      return null;
    }
  }

  final class Call {
    private final String method;
    private final String path;
    private final Map<String, String> query = new LinkedHashMap<>();
    private final Map<String, String> headers = new LinkedHashMap<>();
    private String body = "";
    private String contentType;

    Call(String method, String path) {
      this.method = method;
      this.path = path.startsWith("/") ? path.substring(1) : path;
    }

    Call token(String t) {
      headers.put("Authorization", "Bearer " + t);
      return this;
    }

    Call header(String k, String v) {
      headers.put(k, v);
      return this;
    }

    Call query(String k, String v) {
      query.put(k, v);
      return this;
    }

    Call json(String json) {
      this.body = json;
      this.contentType = "application/json";
      return this;
    }

    Call json(JsonElement json) {
      return json(json.toString());
    }

    Call form(Map<String, String> form) {
      StringBuilder sb = new StringBuilder();
      form.forEach(
          (k, v) -> {
            if (sb.length() > 0) {
              sb.append('&');
            }
            sb.append(enc(k)).append('=').append(enc(v));
          });
      this.body = sb.toString();
      this.contentType = "application/x-www-form-urlencoded";
      return this;
    }

    Call body(String body, String contentType) {
      this.body = body;
      this.contentType = contentType;
      return this;
    }

    HttpRequest build() {
      StringBuilder q = new StringBuilder();
      query.forEach(
          (k, v) ->
              q.append(q.length() == 0 ? "?" : "&").append(enc(k)).append('=').append(enc(v)));
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(base + path + q)).timeout(Duration.ofSeconds(30));
      headers.forEach(b::header);
      if (contentType != null) {
        b.header("Content-Type", contentType);
      }
      b.method(
          method,
          body.isEmpty()
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofString(body));
      return b.build();
    }

    Res send() {
      try {
        return sendOrThrow();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    Res sendOrThrow() throws IOException {
      try {
        HttpResponse<String> r = client.send(build(), HttpResponse.BodyHandlers.ofString());
        return new Res(r.statusCode(), r.body(), r.headers().map());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  Call get(String path) {
    return new Call("GET", path);
  }

  Call post(String path) {
    return new Call("POST", path);
  }

  Call put(String path) {
    return new Call("PUT", path);
  }

  Call patch(String path) {
    return new Call("PATCH", path);
  }

  Call delete(String path) {
    return new Call("DELETE", path);
  }

  static String c(String uuid) {
    return "arvados/v1/containers/" + uuid;
  }

  // Convenience wrappers.
  Res lock(String uuid, String token) {
    return post(c(uuid) + "/lock").token(token).send();
  }

  Res unlock(String uuid, String token) {
    return post(c(uuid) + "/unlock").token(token).send();
  }

  Res update(String uuid, String token, String containerJson) {
    return put(c(uuid)).token(token).json("{\"container\":" + containerJson + "}").send();
  }

  Res show(String uuid, String token) {
    return get(c(uuid)).token(token).send();
  }
}

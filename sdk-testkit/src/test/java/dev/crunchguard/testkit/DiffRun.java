package dev.crunchguard.testkit;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonSyntaxException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scenario run against one {@link DiffTarget}: the steps it sends and the transcript of what a
 * client saw, normalised (request ids, uuids, timestamps, etags, error tokens and secrets replaced
 * by placeholders; {@code href} and {@code modified_by_client_uuid}, which the controller drops,
 * removed).
 */
final class DiffRun {
  private static final Pattern UUID =
      Pattern.compile("\\b[a-z0-9]{5}-([a-z0-9]{5})-[a-z0-9]{15}\\b");
  private static final Pattern REQ = Pattern.compile("\\breq-[a-z0-9]{20}\\b");
  private static final Pattern ISO_TIME =
      Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
  private static final Pattern RUBY_TIME =
      Pattern.compile(
          "[A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? UTC \\+00:00");
  private static final Pattern ERROR_TOKEN = Pattern.compile("\\d+\\+[0-9a-f]+");

  /**
   * Not compared: {@code href} and {@code modified_by_client_uuid} (the controller drops them) and
   * the fields the Rails 6.1 revision of the real server does not have yet.
   */
  private static final java.util.Set<String> DROPPED =
      java.util.Set.of(
          "href", "modified_by_client_uuid", "output_glob", "service", "published_ports");

  /**
   * Database ids and how a fixture token was made ({@code api_client_id}, {@code user_id}, {@code
   * created_by_ip_address} in the {@code auth} response): facts of the set-up, not of the API.
   */
  private static final java.util.Set<String> DB_FIXTURE =
      java.util.Set.of("api_client_id", "user_id", "created_by_ip_address");

  /**
   * Not compared inside {@code runtime_constraints}: the GPU defaults, {@code cuda} in the Rails
   * 6.1 revision and {@code gpu} in current Arvados (which the simulator follows).
   */
  private static final java.util.Set<String> GPU_KEYS = java.util.Set.of("cuda", "gpu");

  private static final SecureRandom RANDOM = new SecureRandom();

  final DiffTarget t;
  final Http http;

  /** A per-run container image: scopes lists to this run's containers on a shared server. */
  final String image;

  final List<String> transcript = new ArrayList<>();
  final List<String> created = new ArrayList<>();
  private final Map<String, String> uuidNames = new HashMap<>();
  private final Map<String, Integer> perInfix = new HashMap<>();

  DiffRun(DiffTarget t) {
    this.t = t;
    this.http = t.http;
    StringBuilder sb = new StringBuilder("diff-");
    for (int i = 0; i < 12; i++) {
      sb.append(Character.forDigit(RANDOM.nextInt(36), 36));
    }
    this.image = sb.toString();
    uuidNames.putAll(t.aliases);
  }

  /** Substitutes {@code %IMG%} (this run's image) and {@code %USER%} (the ordinary user's uuid). */
  String fill(String json) {
    return json.replace("%IMG%", image).replace("%USER%", t.userUuid);
  }

  /** Sends {@code call} and appends {@code label -> status body} to the transcript. */
  Http.Res step(String label, Http.Call call) {
    Http.Res r = call.send();
    transcript.add(label + " -> " + r.status() + " " + normalise(r.body()));
    return r;
  }

  /**
   * A request that arvados-controller answers itself on a real cluster (lib/controller/router): the
   * real server here (RailsAPI alone) must answer {@code railsStatus} and the simulator, which
   * models the controller, {@code controllerStatus}; the transcript records that, or the unexpected
   * answer. Neither side's message is compared.
   */
  Http.Res controllerStep(String label, Http.Call call, int railsStatus, int controllerStatus) {
    Http.Res r = call.send();
    int want = t.simulator ? controllerStatus : railsStatus;
    transcript.add(
        label
            + " -> "
            + (r.status() == want
                ? "controller answers " + controllerStatus + " (RailsAPI alone " + railsStatus + ")"
                : r.status() + " " + normalise(r.body())));
    return r;
  }

  /** Records a note computed from a response (e.g. a count), normalised. */
  void note(String label, Object value) {
    transcript.add(label + " = " + normalise(String.valueOf(value)));
  }

  /**
   * Creates a Queued container as the dispatcher admin: command, this run's image, output path,
   * priority 1, {@code runtime_user_uuid} = the ordinary user, scopes {@code all}; {@code extra} (a
   * JSON object, placeholders filled) overrides. Recorded in the transcript.
   */
  String create(String label, String extra) {
    JsonObject c = new JsonObject();
    c.add("command", JsonParser.parseString("[\"echo\",\"hello\"]"));
    c.addProperty("container_image", image);
    c.addProperty("output_path", "/out");
    c.addProperty("priority", 1);
    c.addProperty("runtime_user_uuid", t.userUuid);
    c.add("runtime_auth_scopes", JsonParser.parseString("[\"all\"]"));
    JsonParser.parseString(fill(extra))
        .getAsJsonObject()
        .entrySet()
        .forEach(e -> c.add(e.getKey(), e.getValue()));
    JsonObject body = new JsonObject();
    body.add("container", c);
    Http.Res r = step(label, http.post("arvados/v1/containers").token(t.admin).json(body));
    if (r.status() != 200) {
      throw new AssertionError(t.name + ": create failed: " + r.status() + " " + r.body());
    }
    String uuid = r.str("uuid");
    created.add(uuid);
    return uuid;
  }

  String create() {
    return create("create", "{}");
  }

  /**
   * Gives the ordinary user a container request for {@code uuid} (created by the admin, owned by
   * the user, Uncommitted), which is what makes the container readable to the user.
   */
  void share(String uuid) {
    JsonObject cr = new JsonObject();
    cr.addProperty("owner_uuid", t.userUuid);
    cr.add("command", JsonParser.parseString("[\"echo\",\"hello\"]"));
    cr.addProperty("container_image", image);
    cr.addProperty("output_path", "/out");
    cr.addProperty("state", "Uncommitted");
    cr.addProperty("priority", 1);
    cr.addProperty("container_uuid", uuid);
    JsonObject body = new JsonObject();
    body.add("container_request", cr);
    Http.Res r = http.post("arvados/v1/container_requests").token(t.admin).json(body).send();
    JsonObject seen = new JsonObject();
    if (r.status() == 200) {
      JsonObject o = r.json();
      for (String k :
          List.of("kind", "uuid", "owner_uuid", "container_uuid", "state", "priority")) {
        seen.add(k, o.get(k));
      }
    }
    transcript.add(
        "share with user -> "
            + r.status()
            + " "
            + normalise(r.status() == 200 ? seen.toString() : r.body()));
  }

  /** The container's own token, {@code v2/<auth_uuid>/<secret>}, fetched by the lock holder. */
  String containerToken(String uuid, String holder) {
    Http.Res r = step("auth", http.get(Http.c(uuid) + "/auth").token(holder));
    if (r.status() != 200) {
      throw new AssertionError(t.name + ": auth failed: " + r.status() + " " + r.body());
    }
    return "v2/" + r.str("uuid") + "/" + r.str("api_token");
  }

  /** GETs every container this run created, as the admin: the records afterwards. */
  void finalRecords() {
    for (String u : created) {
      step("final " + nameOf(u), http.get(Http.c(u)).token(t.admin));
    }
  }

  /**
   * Cancels every container of this run's image left Queued, Locked or Running (not recorded), so
   * that no dispatcher sharing the real server picks them up and nothing piles up there.
   */
  void cleanUp() {
    Http.Res open =
        http.get("arvados/v1/containers")
            .token(t.admin)
            .query(
                "filters",
                "[[\"container_image\",\"=\",\""
                    + image
                    + "\"],"
                    + "[\"state\",\"in\",[\"Queued\",\"Locked\",\"Running\"]]]")
            .query("select", "[\"uuid\"]")
            .query("limit", "1000")
            .send();
    if (open.status() != 200) {
      return;
    }
    open.json()
        .getAsJsonArray("items")
        .forEach(
            item -> {
              String u = item.getAsJsonObject().get("uuid").getAsString();
              for (String token : List.of(t.admin, t.admin2)) {
                if (http.put(Http.c(u))
                        .token(token)
                        .json("{\"container\":{\"state\":\"Cancelled\"}}")
                        .send()
                        .status()
                    == 200) {
                  break;
                }
              }
            });
  }

  private String nameOf(String uuid) {
    return normalise("\"" + uuid + "\"");
  }

  String normalise(String body) {
    JsonElement e;
    try {
      e = JsonParser.parseString(body);
    } catch (JsonSyntaxException | IllegalStateException ex) {
      return text(body);
    }
    if (e == null || e.isJsonNull()) {
      return text(body);
    }
    return normalise(e, null).toString();
  }

  private JsonElement normalise(JsonElement e, String key) {
    if (e.isJsonObject()) {
      TreeMap<String, JsonElement> sorted = new TreeMap<>();
      for (Map.Entry<String, JsonElement> m : e.getAsJsonObject().entrySet()) {
        String k = m.getKey();
        if (DROPPED.contains(k) || ("runtime_constraints".equals(key) && GPU_KEYS.contains(k))) {
          continue;
        }
        sorted.put(
            k,
            DB_FIXTURE.contains(k) ? new JsonPrimitive("<" + k + ">") : normalise(m.getValue(), k));
      }
      JsonObject o = new JsonObject();
      sorted.forEach(o::add);
      return o;
    }
    if (e.isJsonArray()) {
      JsonArray a = new JsonArray();
      e.getAsJsonArray().forEach(x -> a.add(normalise(x, key)));
      return a;
    }
    if (e.isJsonNull()) {
      return JsonNull.INSTANCE;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if ("etag".equals(key)) {
      return new JsonPrimitive("<etag>");
    }
    if ("api_token".equals(key)) {
      return new JsonPrimitive("<secret>");
    }
    if ("error_token".equals(key) && ERROR_TOKEN.matcher(p.getAsString()).matches()) {
      return new JsonPrimitive("<error_token>");
    }
    if (p.isString()) {
      return new JsonPrimitive(text(p.getAsString()));
    }
    return p;
  }

  private static final Pattern GPU_IN_MESSAGE = Pattern.compile("\"(cuda|gpu)\"=>\\{[^{}]*\\}, ");

  private String text(String s) {
    s = s.replace(image, "<image>");
    s = GPU_IN_MESSAGE.matcher(s).replaceAll("");
    s = REQ.matcher(s).replaceAll("<req>");
    s = ISO_TIME.matcher(s).replaceAll("<time>");
    s = RUBY_TIME.matcher(s).replaceAll("<time>");
    Matcher m = UUID.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String u = m.group();
      String name =
          u.endsWith("000000000000000")
              ? u
              : uuidNames.computeIfAbsent(
                  u,
                  x -> {
                    int n = perInfix.merge(m.group(1), 1, Integer::sum);
                    return "<" + m.group(1) + "#" + n + ">";
                  });
      m.appendReplacement(sb, Matcher.quoteReplacement(name));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /** Extra call helpers with placeholders filled. */
  Http.Call put(String uuid, String token, String containerJson) {
    return http.put(Http.c(uuid)).token(token).json("{\"container\":" + fill(containerJson) + "}");
  }

  Map<String, String> query(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], fill(kv[i + 1]));
    }
    return m;
  }
}

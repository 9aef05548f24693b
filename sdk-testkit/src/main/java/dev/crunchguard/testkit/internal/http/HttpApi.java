package dev.crunchguard.testkit.internal.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultKind;
import dev.crunchguard.testkit.FaultProxy;
import dev.crunchguard.testkit.internal.model.ApiException;
import dev.crunchguard.testkit.internal.model.Attr;
import dev.crunchguard.testkit.internal.model.Caller;
import dev.crunchguard.testkit.internal.model.ContainerRecord;
import dev.crunchguard.testkit.internal.model.ContainerRules;
import dev.crunchguard.testkit.internal.model.ContainersService;
import dev.crunchguard.testkit.internal.model.Ids;
import dev.crunchguard.testkit.internal.model.Json;
import dev.crunchguard.testkit.internal.model.ListQuery;
import dev.crunchguard.testkit.internal.model.RequestContext;
import dev.crunchguard.testkit.internal.model.TokenRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP front end: request ids, routing, disabled APIs, faults, token extraction, parameter
 * handling, rendering of results and errors. Business rules live in {@link ContainersService}.
 */
public final class HttpApi implements HttpHandler {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final Pattern AUTH_HEADER = Pattern.compile("(OAuth2|Bearer) ([!-~]+)");
  private static final Pattern MEMBER =
      Pattern.compile(
          "/arvados/v1/containers/([^/]+)(?:/(lock|unlock|auth|secret_mounts|update_priority))?");
  private static final Pattern REQUEST_MEMBER =
      Pattern.compile("/arvados/v1/container_requests/([^/]+)");
  static final String CLIENT_HEADER = "X-Crunch-Guard-Client";
  static final String EPOCH_HEADER = "X-Crunch-Guard-Epoch";

  private final ContainersService containers;
  private final TokenRegistry tokens;
  private final FaultDecision.Source faults;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final RequestCounters counters;
  private final @Nullable ControlEndpoints control;
  private final int maxBodyBytes;
  private final Set<Endpoint> disabled = ConcurrentHashMap.newKeySet();
  private volatile java.util.function.@Nullable Supplier<JsonObject> discovery;

  public HttpApi(
      ContainersService containers,
      TokenRegistry tokens,
      FaultDecision.Source faults,
      RequestCounters counters,
      @Nullable ControlEndpoints control,
      int maxBodyBytes) {
    this.containers = containers;
    this.tokens = tokens;
    this.faults = faults;
    this.counters = counters;
    this.control = control;
    this.maxBodyBytes = maxBodyBytes;
  }

  public Set<Endpoint> disabled() {
    return disabled;
  }

  /**
   * Serves {@code GET /discovery/v1/apis/arvados/v1/rest} (without a token, like the real one).
   *
   * @param document makes the document for each request
   */
  public void setDiscovery(java.util.function.Supplier<JsonObject> document) {
    this.discovery = document;
  }

  /** An API request's endpoint and the container it names (null for collection endpoints). */
  public record Route(Endpoint endpoint, @Nullable String uuid) {}

  @Override
  public void handle(HttpExchange ex) throws IOException {
    inFlight.incrementAndGet();
    try {
      serve(ex);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  /** Requests being handled now (received, not yet answered). */
  public int inFlight() {
    return inFlight.get();
  }

  private void serve(HttpExchange ex) throws IOException {
    String requestId = requestId(ex.getRequestHeaders().getFirst("X-Request-Id"));
    ex.getResponseHeaders().set("X-Request-Id", requestId);
    FaultKind terminal = null;
    Route route = null;
    try {
      byte[] body = readBody(ex);
      if (body == null) {
        sendError(
            ex,
            requestId,
            ApiException.rails(413, "Request body too large (limit " + maxBodyBytes + " bytes)"));
        return;
      }
      String rawPath = ex.getRequestURI().getRawPath();
      if (control != null && rawPath.startsWith(ControlEndpoints.PREFIX)) {
        control.handle(ex, body, requestId);
        return;
      }
      counters.received();
      java.util.function.Supplier<JsonObject> doc = discovery;
      if (doc != null
          && rawPath.equals("/discovery/v1/apis/arvados/v1/rest")
          && ex.getRequestMethod().equals("GET")) {
        sendJson(ex, 200, doc.get());
        return;
      }
      Request req =
          Request.parse(
              ex.getRequestMethod(),
              ex.getRequestURI().getPath(),
              ex.getRequestURI().getRawQuery(),
              ex.getRequestHeaders().getFirst("Content-Type"),
              body,
              ex.getRequestHeaders().getFirst("X-Http-Method-Override"));
      route = route(req.method, req.path);
      if (route == null) {
        throw ApiException.notFound();
      }
      counters.count(route.endpoint(), route.uuid());
      if (disabled.contains(route.endpoint())) {
        throw ApiException.rails(404, "Disabled");
      }
      FaultDecision d = faults.decide(route.endpoint(), route.uuid());
      if (d.delayMillis() > 0) {
        Thread.sleep(d.delayMillis());
      }
      terminal = d.terminal();
      if (terminal != null && terminal != FaultKind.LOST_RESPONSE) {
        injectBeforeApply(ex, terminal, d.retryAfterSeconds(), req.method, req.path, requestId);
        return;
      }
      RequestContext ctx =
          new RequestContext(
              requestId,
              clientIdentity(ex),
              ex.getRequestHeaders().containsKey(EPOCH_HEADER),
              ex.getRequestHeaders().getFirst(EPOCH_HEADER));
      controllerParams(route, req);
      Caller caller = authenticate(ex, req);
      if (!caller.token().scopeAllows(req.method, req.path)) {
        throw ApiException.rails(403, "Forbidden");
      }
      JsonObject result = dispatch(route, req, caller, ctx);
      if (terminal == FaultKind.LOST_RESPONSE) {
        ex.close();
        return;
      }
      sendJson(ex, 200, result);
    } catch (ApiException e) {
      if (terminal == FaultKind.LOST_RESPONSE) {
        ex.close();
        return;
      }
      if (route != null
          && route.endpoint() == Endpoint.TOKEN_CURRENT
          && e.style == ApiException.Style.RAILS) {
        sendError(ex, requestId, routerWrapped(e, requestId));
        return;
      }
      sendError(ex, requestId, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ex.close();
    } catch (IOException e) {
      LOG.debug("I/O error answering {}: {}", requestId, e.toString());
      ex.close();
    } catch (RuntimeException e) {
      LOG.error(
          "simulator bug while handling {} {} ({})",
          ex.getRequestMethod(),
          ex.getRequestURI().getPath(),
          requestId,
          e);
      sendError(
          ex,
          requestId,
          ApiException.rails(500, "#<" + e.getClass().getName() + ": simulator internal error>"));
    }
  }

  /**
   * The controller routes api_client_authorizations/current through its Go router, which wraps
   * RailsAPI errors (lib/controller/router/response.go, sendError; the text is inferred).
   */
  private static ApiException routerWrapped(ApiException e, String requestId) {
    StringBuilder sb =
        new StringBuilder("//railsapi.internal/arvados/v1/api_client_authorizations/current: ");
    sb.append(e.status).append(' ').append(reason(e.status)).append(": ");
    for (int i = 0; i < e.messages.size(); i++) {
      sb.append(i == 0 ? "" : "; ")
          .append(e.messages.get(i))
          .append(" (")
          .append(requestId)
          .append(')');
    }
    return new ApiException(e.status, List.of(sb.toString()), ApiException.Style.CONTROLLER);
  }

  private static String reason(int status) {
    switch (status) {
      case 401:
        return "Unauthorized";
      case 403:
        return "Forbidden";
      case 404:
        return "Not Found";
      default:
        return "Unprocessable Entity";
    }
  }

  /**
   * Answers (or drops) a request with a fault that applies nothing: the simulator's and the {@link
   * FaultProxy}'s shared rendering of {@link FaultKind}s other than delay and lost response.
   */
  public static void injectBeforeApply(
      HttpExchange ex,
      FaultKind kind,
      @Nullable Integer retryAfter,
      String method,
      String path,
      String requestId)
      throws IOException {
    switch (kind) {
      case CONNECTION_RESET:
        ex.close();
        return;
      case BAD_GATEWAY:
        sendError(
            ex,
            requestId,
            new ApiException(
                502,
                List.of(
                    "request failed: "
                        + method
                        + " http://railsapi.internal"
                        + path
                        + ": dial tcp: connection refused"),
                ApiException.Style.CONTROLLER));
        return;
      case SERVICE_UNAVAILABLE:
        if (retryAfter != null) {
          ex.getResponseHeaders().set("Retry-After", Integer.toString(retryAfter));
        }
        sendError(
            ex,
            requestId,
            new ApiException(503, List.of("Service Unavailable"), ApiException.Style.CONTROLLER));
        return;
      case TOO_MANY_REQUESTS:
        ex.getResponseHeaders()
            .set("Retry-After", Integer.toString(retryAfter == null ? 1 : retryAfter));
        sendError(
            ex,
            requestId,
            new ApiException(429, List.of("Too Many Requests"), ApiException.Style.CONTROLLER));
        return;
      default:
        throw new IllegalStateException("not a before-apply fault: " + kind);
    }
  }

  /** The endpoint of an API request, or null when it is not one of {@link Endpoint}'s. */
  public static @Nullable Route route(String method, String path) {
    if (path.equals("/arvados/v1/api_client_authorizations/current")) {
      return method.equals("GET") ? new Route(Endpoint.TOKEN_CURRENT, null) : null;
    }
    if (path.equals("/arvados/v1/containers")) {
      switch (method) {
        case "GET":
          return new Route(Endpoint.LIST, null);
        case "POST":
          return new Route(Endpoint.CREATE, null);
        default:
          return null;
      }
    }
    if (path.equals("/arvados/v1/container_requests")) {
      return method.equals("POST") ? new Route(Endpoint.REQUEST_CREATE, null) : null;
    }
    Matcher rm = REQUEST_MEMBER.matcher(path);
    if (rm.matches()) {
      return method.equals("GET") ? new Route(Endpoint.REQUEST_GET, rm.group(1)) : null;
    }
    if (path.equals("/arvados/v1/containers/current")) {
      return method.equals("GET") ? new Route(Endpoint.CURRENT, null) : null;
    }
    Matcher m = MEMBER.matcher(path);
    if (!m.matches()) {
      return null;
    }
    String uuid = m.group(1);
    String action = m.group(2);
    if (action == null) {
      switch (method) {
        case "GET":
          return new Route(Endpoint.GET, uuid);
        case "PUT":
        case "PATCH":
          return new Route(Endpoint.UPDATE, uuid);
        case "DELETE":
          return new Route(Endpoint.DELETE, uuid);
        default:
          return null;
      }
    }
    switch (action) {
      case "lock":
        return method.equals("POST") ? new Route(Endpoint.LOCK, uuid) : null;
      case "unlock":
        return method.equals("POST") ? new Route(Endpoint.UNLOCK, uuid) : null;
      case "update_priority":
        return method.equals("POST") ? new Route(Endpoint.UPDATE_PRIORITY, uuid) : null;
      case "auth":
        return method.equals("GET") ? new Route(Endpoint.AUTH, uuid) : null;
      case "secret_mounts":
        return method.equals("GET") ? new Route(Endpoint.SECRET_MOUNTS, uuid) : null;
      default:
        return null;
    }
  }

  private JsonObject dispatch(Route route, Request req, Caller caller, RequestContext ctx) {
    String uuid = route.uuid();
    return uuid == null
        ? dispatchCollection(route.endpoint(), req, caller, ctx)
        : dispatchMember(route.endpoint(), uuid, req, caller, ctx);
  }

  /** The endpoints that name no container ({@link #route} gives them a null uuid). */
  private JsonObject dispatchCollection(
      Endpoint endpoint, Request req, Caller caller, RequestContext ctx) {
    switch (endpoint) {
      case TOKEN_CURRENT:
        {
          JsonObject t = caller.token().render();
          JsonElement sel = req.params.get("select");
          if (sel != null && sel.isJsonPrimitive()) {
            try {
              sel = Json.parseStrict(sel.getAsString());
            } catch (JsonParseException e) {
              sel = null;
            }
          }
          if (sel == null || !sel.isJsonArray()) {
            return t;
          }
          JsonObject o = new JsonObject();
          for (JsonElement k : sel.getAsJsonArray()) {
            if (k.isJsonPrimitive() && t.has(k.getAsString())) {
              o.add(k.getAsString(), t.get(k.getAsString()));
            }
          }
          return o;
        }
      case LIST:
        {
          checkListScope(req, caller);
          ListQuery q = ListQuery.parse(req.params);
          return containers.list(q, caller);
        }
      case CURRENT:
        {
          ContainerRecord c = containers.forCurrentToken(caller);
          if (c == null) {
            throw ApiException.rails(404, "Token is not associated with a container.");
          }
          return render(c, ListQuery.parseSelect(req.params.get("select")));
        }
      case CREATE:
        {
          List<String> select = ListQuery.parseSelect(req.params.get("select"));
          Map<String, JsonElement> attrs = resourceAttrs(req, false);
          return render(containers.create(attrs, caller, ctx), select);
        }
      case REQUEST_CREATE:
        return containers.createRequest(resourceAttrs(req, "container_request", false), caller);
      default:
        throw ApiException.notFound();
    }
  }

  /** The endpoints on one container or container request, {@code uuid}. */
  private JsonObject dispatchMember(
      Endpoint endpoint, String uuid, Request req, Caller caller, RequestContext ctx) {
    switch (endpoint) {
      case GET:
        {
          List<String> select = ListQuery.parseSelect(req.params.get("select"));
          return render(containers.get(uuid, caller), select);
        }
      case UPDATE:
        {
          List<String> select = ListQuery.parseSelect(req.params.get("select"));
          Map<String, JsonElement> attrs = resourceAttrs(req, true);
          return render(containers.update(uuid, attrs, caller, ctx), select);
        }
      case DELETE:
        return render(containers.delete(uuid, caller, ctx), null);
      case LOCK:
        return lockResponse(containers.lock(uuid, caller, ctx));
      case UNLOCK:
        return lockResponse(containers.unlock(uuid, caller, ctx));
      case AUTH:
        return containers.auth(uuid, caller);
      case SECRET_MOUNTS:
        return containers.secretMounts(uuid, caller);
      case REQUEST_GET:
        return containers.getRequest(uuid, caller);
      case UPDATE_PRIORITY:
        return render(containers.updatePriority(uuid, caller), null);
      default:
        throw ApiException.notFound();
    }
  }

  /**
   * What arvados-controller's router refuses itself before RailsAPI sees the request
   * (lib/controller/router/request.go loadRequestParams): a JSON body that is not an object is 400;
   * a string parameter that looks like JSON ({@code [}, {@code {}} or {@code "}) must parse, and
   * {@code limit}/{@code offset} must parse as 64-bit integers, else 500 with Go's error; the
   * resource hash must be an object (the transcode into the options struct), else 500.
   */
  private static void controllerParams(Route route, Request req) {
    if (route.endpoint() == Endpoint.TOKEN_CURRENT) {
      return;
    }
    if (req.params.containsKey("_json")) {
      JsonElement j = req.params.get("_json");
      throw new ApiException(
          400,
          List.of(
              "json: cannot unmarshal "
                  + goJsonType(j)
                  + " into Go value of type map[string]interface {}"),
          ApiException.Style.CONTROLLER);
    }
    for (Map.Entry<String, JsonElement> e : req.params.entrySet()) {
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        continue;
      }
      String k = e.getKey();
      String text = v.getAsString();
      if (k.equals("limit") || k.equals("offset")) {
        try {
          Long.parseLong(text);
        } catch (NumberFormatException nfe) {
          boolean digits = text.matches("[+-]?\\d+");
          throw new ApiException(
              500,
              List.of(
                  "strconv.ParseInt: parsing "
                      + Json.GSON.toJson(text)
                      + ": "
                      + (digits ? "value out of range" : "invalid syntax")),
              ApiException.Style.CONTROLLER);
        }
      } else if (text.startsWith("[") || text.startsWith("{") || text.startsWith("\"")) {
        goParse(text);
      }
    }
    if (route.endpoint() == Endpoint.LIST) {
      goType(req, "filters", "ListOptions.filters", "[]arvados.Filter");
      goType(req, "select", "ListOptions.select", "[]string");
    } else {
      goType(
          req,
          "select",
          route.endpoint() == Endpoint.GET ? "GetOptions.select" : "UpdateOptions.select",
          "[]string");
    }
    String attrsKey =
        route.endpoint() == Endpoint.CREATE || route.endpoint() == Endpoint.UPDATE
            ? "container"
            : route.endpoint() == Endpoint.REQUEST_CREATE ? "container_request" : null;
    if (attrsKey != null && req.params.containsKey(attrsKey)) {
      JsonElement a = req.params.get(attrsKey);
      if (a.isJsonPrimitive() && a.getAsJsonPrimitive().isString()) {
        String t = a.getAsString();
        if (t.startsWith("[") || t.startsWith("{")) {
          JsonElement parsed = goParse(t);
          if (parsed == null) {
            return; // only too deep for RailsAPI, which refuses it itself
          }
          a = parsed;
        }
      }
      if (!a.isJsonObject() && !a.isJsonNull()) {
        String opts = route.endpoint() == Endpoint.UPDATE ? "UpdateOptions" : "CreateOptions";
        throw new ApiException(
            500,
            List.of(
                "transcode: json: cannot unmarshal "
                    + goJsonType(a)
                    + " into Go struct field "
                    + opts
                    + ".attrs of type map[string]interface {}"),
            ApiException.Style.CONTROLLER);
      }
    }
  }

  /** The transcode of an array parameter into the controller's options struct. */
  private static void goType(Request req, String key, String field, String goType) {
    JsonElement v = req.params.get(key);
    if (v == null || v.isJsonNull()) {
      return;
    }
    if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
      String t = v.getAsString();
      if (t.isEmpty() || !(t.startsWith("[") || t.startsWith("{") || t.startsWith("\""))) {
        return; // left as a string: RailsAPI parses it
      }
      v = goParse(t);
    }
    if (v != null && !v.isJsonArray()) {
      throw new ApiException(
          500,
          List.of(
              "transcode: json: cannot unmarshal "
                  + goJsonType(v)
                  + " into Go struct field "
                  + field
                  + " of type "
                  + goType),
          ApiException.Style.CONTROLLER);
    }
  }

  /**
   * Parses a parameter as Go's encoding/json would: a syntax error is the controller's 500. Go
   * allows 10,000 levels of nesting, so a value only too deep for RailsAPI (100) passes: null.
   */
  private static @Nullable JsonElement goParse(String text) {
    try {
      return Json.parseStrict(text);
    } catch (JsonParseException pe) {
      if (String.valueOf(pe.getMessage()).startsWith("nesting of ")) {
        return null;
      }
      throw new ApiException(500, List.of(goJsonSyntaxError(text)), ApiException.Style.CONTROLLER);
    }
  }

  private static String goJsonType(JsonElement j) {
    if (j.isJsonArray()) {
      return "array";
    }
    if (j.isJsonObject()) {
      return "object";
    }
    if (j.isJsonNull()) {
      return "null";
    }
    JsonPrimitive p = j.getAsJsonPrimitive();
    return p.isBoolean() ? "bool" : p.isNumber() ? "number" : "string";
  }

  /**
   * Go's encoding/json error for unparsable {@code text}: "unexpected end of JSON input" for a
   * truncated value; otherwise an approximation (Go names the offending character and context).
   */
  private static String goJsonSyntaxError(String text) {
    try {
      Json.parseStrict(text);
      return "invalid character after top-level value";
    } catch (JsonParseException e) {
      Throwable c = e;
      while (c != null) {
        if (c instanceof java.io.EOFException
            || String.valueOf(c.getMessage()).contains("End of input")) {
          return "unexpected end of JSON input";
        }
        c = c.getCause();
      }
      return "invalid character in JSON input";
    }
  }

  private void checkListScope(Request req, Caller caller) {
    JsonElement bypass = req.params.get("bypass_federation");
    if (bypass != null) {
      Boolean b = Attr.parseBool(bypass);
      if (b == null) {
        throw ApiException.unprocessable("Invalid value for bypass_federation parameter");
      }
      if (b && !caller.admin()) {
        throw ApiException.rails(
            403, "The bypass_federation parameter is only permitted when current user is admin");
      }
    }
    JsonElement distinct = req.params.get("distinct");
    if (distinct != null && Attr.parseBool(distinct) == null) {
      throw ApiException.unprocessable("Invalid value for distinct parameter");
    }
    String cluster = req.stringParam("cluster_id");
    if (cluster != null && !cluster.isEmpty() && !cluster.equals(tokens.cluster())) {
      throw new ApiException(
          404, List.of("no proxy available for cluster " + cluster), ApiException.Style.CONTROLLER);
    }
  }

  private static JsonObject render(ContainerRecord r, @Nullable List<String> select) {
    return select == null ? r.render() : r.render(select);
  }

  private static JsonObject lockResponse(ContainerRecord r) {
    return r.render(List.of("uuid", "state", "priority", "auth_uuid", "locked_by_uuid"));
  }

  /** {@code resource_attrs} (application_controller.rb:387-408) plus ParamsWrapper. */
  private static Map<String, JsonElement> resourceAttrs(Request req, boolean update) {
    return resourceAttrs(req, "container", update);
  }

  private static Map<String, JsonElement> resourceAttrs(Request req, String key, boolean update) {
    JsonElement c = req.params.get(key);
    Map<String, JsonElement> attrs = new LinkedHashMap<>();
    if (c == null) {
      if (req.jsonBody != null) {
        for (Map.Entry<String, JsonElement> e : req.jsonBody.entrySet()) {
          if (key.equals("container") && Attr.byName(e.getKey()) != null) {
            attrs.put(e.getKey(), e.getValue());
          }
        }
      }
    } else if (c.isJsonObject()) {
      attrs.putAll(c.getAsJsonObject().asMap());
    } else if (c.isJsonPrimitive() && c.getAsJsonPrimitive().isString()) {
      JsonElement parsed;
      try {
        parsed = Json.parseStrict(c.getAsString());
      } catch (JsonParseException e) {
        throw ApiException.raised(
            422,
            "Oj::ParseError",
            "unexpected character (after ) at line 1, column 1 [parse.c:762]");
      }
      if (!parsed.isJsonObject()) {
        throw ApiException.raised(
            422, "ArgumentError", "No " + key + " hash provided with request");
      }
      attrs.putAll(parsed.getAsJsonObject().asMap());
    } else {
      throw ApiException.raised(422, "ArgumentError", "No " + key + " hash provided with request");
    }
    attrs.keySet().removeAll(ContainerRules.ALWAYS_DROPPED);
    if (update) {
      attrs.keySet().removeAll(ContainerRules.DROPPED_ON_UPDATE);
    }
    return attrs;
  }

  private Caller authenticate(HttpExchange ex, Request req) {
    String[] candidates = new String[3];
    candidates[0] = req.stringParam("api_token");
    candidates[1] = req.stringParam("oauth_token");
    String h = ex.getRequestHeaders().getFirst("Authorization");
    if (h != null) {
      Matcher m = AUTH_HEADER.matcher(h);
      if (m.find()) {
        candidates[2] = m.group(2);
      }
    }
    for (String t : candidates) {
      if (t == null || t.isEmpty()) {
        continue;
      }
      Caller c = tokens.validate(t, containers::find);
      if (c != null) {
        return c;
      }
    }
    throw ApiException.notLoggedIn();
  }

  static String clientIdentity(HttpExchange ex) {
    String c = ex.getRequestHeaders().getFirst(CLIENT_HEADER);
    if (c == null || c.isEmpty()) {
      c = ex.getRequestHeaders().getFirst("User-Agent");
    }
    return c == null || c.isEmpty() ? "unknown" : c;
  }

  public static String requestId(@Nullable String incoming) {
    if (incoming != null && !incoming.isEmpty() && incoming.length() <= 1024) {
      return incoming;
    }
    return Ids.requestId();
  }

  /**
   * Oversized bodies are read and discarded up to this many bytes, so the 413 reaches the client.
   */
  private static final long DRAIN_LIMIT = 64L << 20;

  /**
   * Reads the body, at most {@code maxBodyBytes}; null when it is larger (the rest is then drained,
   * up to {@link #DRAIN_LIMIT}, and the connection is marked for closing).
   */
  private byte @Nullable [] readBody(HttpExchange ex) throws IOException {
    boolean tooLarge = false;
    String cl = ex.getRequestHeaders().getFirst("Content-Length");
    if (cl != null) {
      try {
        tooLarge = Long.parseLong(cl.trim()) > maxBodyBytes;
      } catch (NumberFormatException e) {
        // let the stream decide
      }
    }
    try (InputStream in = ex.getRequestBody()) {
      if (!tooLarge) {
        byte[] b = in.readNBytes(maxBodyBytes + 1);
        if (b.length <= maxBodyBytes) {
          return b;
        }
      }
      byte[] sink = new byte[64 * 1024];
      long drained = 0;
      int n;
      while (drained < DRAIN_LIMIT && (n = in.read(sink)) > 0) {
        drained += n;
      }
    }
    ex.getResponseHeaders().set("Connection", "close");
    return null;
  }

  public static void sendJson(HttpExchange ex, int status, JsonElement body) throws IOException {
    byte[] bytes = Json.GSON.toJson(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(bytes);
    }
  }

  public static void sendError(HttpExchange ex, String requestId, ApiException e)
      throws IOException {
    JsonObject o = new JsonObject();
    JsonArray errors = new JsonArray();
    if (e.style == ApiException.Style.RAILS) {
      for (String m : e.messages) {
        errors.add(m + " (" + requestId + ")");
      }
      o.add("errors", errors);
      o.addProperty("error_token", Ids.errorToken());
    } else {
      e.messages.forEach(errors::add);
      o.add("errors", errors);
    }
    sendJson(ex, e.status, o);
  }
}

package dev.crunchguard.testkit.internal.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.sun.net.httpserver.HttpExchange;
import dev.crunchguard.testkit.ArvadosSimulator;
import dev.crunchguard.testkit.ContainerSpec;
import dev.crunchguard.testkit.Endpoint;
import dev.crunchguard.testkit.FaultInjector;
import dev.crunchguard.testkit.FaultKind;
import dev.crunchguard.testkit.FaultProxy;
import dev.crunchguard.testkit.FaultRule;
import dev.crunchguard.testkit.HistoryEvent;
import dev.crunchguard.testkit.RandomFaults;
import dev.crunchguard.testkit.SafetyReport;
import dev.crunchguard.testkit.SafetyViolation;
import dev.crunchguard.testkit.SimulatorEvents;
import dev.crunchguard.testkit.internal.model.ApiException;
import dev.crunchguard.testkit.internal.model.ContainerRecord;
import dev.crunchguard.testkit.internal.model.ContainersService;
import dev.crunchguard.testkit.internal.model.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * The {@code /_simulator/...} control endpoints for standalone use (no authentication; only served
 * when enabled):
 *
 * <ul>
 *   <li>{@code GET history}, {@code DELETE history} (also clears counters)
 *   <li>{@code GET check}: the safety report
 *   <li>{@code GET faults}, {@code POST faults} (a rule, or {@code {"random":{...}}}), {@code
 *       DELETE faults}
 *   <li>{@code POST containers} (a container spec), {@code GET containers/{uuid}}, {@code POST
 *       containers/{uuid}/priority} ({@code {"priority":N}})
 *   <li>with events: {@code GET events} (URL and counters), {@code POST events/drop} ({@code
 *       {"count":N}}), {@code POST events/delay} ({@code {"delay_ms":N}}), {@code POST
 *       events/restart} ({@code {"downtime_ms":N}}, optional), {@code POST events/stall}
 *   <li>{@code GET counts}, {@code DELETE counts}; {@code POST reset}; {@code GET
 *       tokens?secret=...} is deliberately absent: use {@code api_client_authorizations/current}
 * </ul>
 */
public final class ControlEndpoints {
  static final String PREFIX = "/_simulator/";

  private final ArvadosSimulator sim;

  private final ContainersService containers;
  private final RequestCounters counters;

  /**
   * Control endpoints over one simulator.
   *
   * @param sim the simulator whose public operations the endpoints expose
   * @param containers its container model, for the records the endpoints render
   * @param counters its request counters, for the per-container counts
   */
  public ControlEndpoints(
      ArvadosSimulator sim, ContainersService containers, RequestCounters counters) {
    this.sim = sim;
    this.containers = containers;
    this.counters = counters;
  }

  private ContainerRecord requireContainer(String uuid) {
    ContainerRecord r = containers.find(uuid);
    if (r == null) {
      throw new NoSuchElementException("no container " + uuid);
    }
    return r;
  }

  void handle(HttpExchange ex, byte[] body, String requestId) throws IOException {
    String path = ex.getRequestURI().getPath().substring(PREFIX.length());
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    String method = ex.getRequestMethod();
    String route = path;
    answer(ex, requestId, () -> route(method, route, body));
  }

  /** One control request's work: its JSON answer, or null when there is no such control. */
  @FunctionalInterface
  public interface Control {
    /**
     * Does the work.
     *
     * @return the answer, or null for "no such control" (404)
     */
    @Nullable JsonElement run();
  }

  /**
   * Runs a control request and answers it, the one way the simulator's and the fault proxy's
   * control endpoints answer: 200 with the JSON, 404 for no such control or container, the {@link
   * ApiException}'s own answer, and 422 for a request body the control cannot use.
   *
   * @param ex the exchange to answer
   * @param requestId the request id for error envelopes
   * @param control the work
   * @throws IOException if the answer cannot be written
   */
  public static void answer(HttpExchange ex, String requestId, Control control) throws IOException {
    try {
      JsonElement result = control.run();
      if (result == null) {
        throw ApiException.notFound();
      }
      HttpApi.sendJson(ex, 200, result);
    } catch (ApiException e) {
      HttpApi.sendError(ex, requestId, e);
    } catch (JsonParseException
        | IllegalArgumentException
        | IllegalStateException
        | NullPointerException
        | ClassCastException
        | UnsupportedOperationException e) {
      HttpApi.sendError(
          ex, requestId, ApiException.rails(422, "invalid control request: " + e.getMessage()));
    } catch (NoSuchElementException e) {
      HttpApi.sendError(ex, requestId, ApiException.notFound());
    }
  }

  /** The control request's answer, or null when no control endpoint has this method and path. */
  private @Nullable JsonElement route(String method, String path, byte[] body) {
    String[] p = path.split("/");
    switch (method + " " + p[0]) {
      case "GET history":
        return historyJson(sim.history());
      case "DELETE history":
      case "POST reset":
        sim.clearHistory();
        sim.resetRequestCounts();
        return ok();
      case "GET check":
        return reportJson(sim.checkSafety());
      case "GET faults":
        return faultsJson(sim.faults());
      case "POST faults":
        addFault(sim.faults(), parseObject(body));
        return ok();
      case "DELETE faults":
        sim.faults().clear();
        return ok();
      case "GET counts":
        {
          JsonObject o = new JsonObject();
          o.add("endpoints", Json.GSON.toJsonTree(sim.requestCounts()));
          o.add("containers", Json.GSON.toJsonTree(counters.allContainers()));
          return o;
        }
      case "DELETE counts":
        sim.resetRequestCounts();
        return ok();
      case "POST containers":
        if (p.length == 1) {
          ContainerSpec spec = specFromJson(parseObject(body));
          return Json.object("uuid", sim.createContainer(spec));
        }
        if (p.length == 3 && p[2].equals("priority")) {
          JsonObject o = parseObject(body);
          return containers.setPriorityDirect(p[1], o.get("priority").getAsLong()).render();
        }
        return null;
      case "GET containers":
        if (p.length == 2) {
          return requireContainer(p[1]).render();
        }
        return null;
      case "GET events":
        return p.length == 1 ? eventsJson(sim.events()) : null;
      case "POST events":
        return p.length == 2 ? eventFault(sim.events(), p[1], body) : null;
      default:
        return null;
    }
  }

  private static JsonObject eventsJson(SimulatorEvents ev) {
    JsonObject o = new JsonObject();
    o.addProperty("websocket_url", ev.websocketUrl());
    o.addProperty("open_connections", ev.openConnections());
    o.addProperty("connections_accepted", ev.connectionsAccepted());
    o.addProperty("queue_full_disconnects", ev.queueFullDisconnects());
    o.addProperty("events_sent", ev.eventsSent());
    o.addProperty("last_event_id", ev.lastEventId());
    o.addProperty("dropped_events", ev.droppedEvents());
    return o;
  }

  private static @Nullable JsonElement eventFault(SimulatorEvents ev, String what, byte[] body) {
    JsonObject o = body.length == 0 ? new JsonObject() : parseObject(body);
    switch (what) {
      case "drop":
        ev.dropNext(o.has("count") ? o.get("count").getAsInt() : 1);
        return ok();
      case "delay":
        ev.delayDelivery(Duration.ofMillis(o.get("delay_ms").getAsLong()));
        return ok();
      case "restart":
        return Json.object(
            "dropped",
            ev.restart(
                Duration.ofMillis(o.has("downtime_ms") ? o.get("downtime_ms").getAsLong() : 0)));
      case "stall":
        return Json.object("stalled", ev.stallClients());
      default:
        return null;
    }
  }

  /** Installs a fault described as JSON (see the class comment); shared with {@link FaultProxy}. */
  public static void addFault(FaultInjector faults, JsonObject o) {
    if (o.has("random")) {
      JsonObject r = o.getAsJsonObject("random");
      RandomFaults.Builder b = RandomFaults.seed(r.get("seed").getAsLong());
      for (Map.Entry<String, JsonElement> e : r.getAsJsonObject("rates").entrySet()) {
        b.rate(FaultKind.valueOf(e.getKey()), e.getValue().getAsDouble());
      }
      if (r.has("endpoints")) {
        r.getAsJsonArray("endpoints").forEach(x -> b.on(endpoint(x.getAsString())));
      }
      if (r.has("delay_ms")) {
        b.delay(Duration.ofMillis(r.get("delay_ms").getAsLong()));
      }
      if (r.has("retry_after")) {
        b.retryAfterSeconds(r.get("retry_after").getAsInt());
      }
      faults.random(b.build());
      return;
    }
    FaultRule.Builder b = FaultRule.of(FaultKind.valueOf(o.get("kind").getAsString()));
    if (o.has("endpoint")) {
      b.on(endpoint(o.get("endpoint").getAsString()));
    }
    if (o.has("endpoints")) {
      o.getAsJsonArray("endpoints").forEach(x -> b.on(endpoint(x.getAsString())));
    }
    if (o.has("container")) {
      b.container(o.get("container").getAsString());
    }
    if (o.has("times")) {
      int t = o.get("times").getAsInt();
      if (t < 0) {
        b.always();
      } else {
        b.times(t);
      }
    }
    if (o.has("delay_ms")) {
      b.delay(Duration.ofMillis(o.get("delay_ms").getAsLong()));
    }
    if (o.has("retry_after")) {
      b.retryAfterSeconds(o.get("retry_after").getAsInt());
    }
    faults.add(b.build());
  }

  /** The installed rules as JSON; shared with {@link FaultProxy}. */
  public static JsonObject faultsJson(FaultInjector faults) {
    JsonArray a = new JsonArray();
    for (FaultRule r : faults.rules()) {
      a.add(
          Json.object(
              "kind",
              r.kind().name(),
              "remaining",
              r.remaining(),
              "container",
              r.containerUuid(),
              "endpoints",
              Json.stringArray(r.endpoints().stream().map(Endpoint::action).sorted().toList())));
    }
    return Json.object("rules", a);
  }

  private static Endpoint endpoint(String name) {
    Endpoint e = Endpoint.parse(name);
    if (e == null) {
      throw new IllegalArgumentException("unknown endpoint " + name);
    }
    return e;
  }

  public static JsonObject parseObject(byte[] body) {
    JsonElement e = Json.parseStrict(new String(body, StandardCharsets.UTF_8));
    if (!e.isJsonObject()) {
      throw new IllegalArgumentException("body must be a JSON object");
    }
    return e.getAsJsonObject();
  }

  private static JsonObject ok() {
    return Json.object("ok", true);
  }

  static JsonObject historyJson(List<HistoryEvent> events) {
    JsonArray a = new JsonArray();
    for (HistoryEvent e : events) {
      a.add(eventJson(e));
    }
    return Json.object("events", a);
  }

  static JsonObject eventJson(HistoryEvent e) {
    return Json.object(
        "sequence", e.sequence(),
        "monotonic_nanos", e.monotonicNanos(),
        "container_uuid", e.containerUuid(),
        "action", e.action().name(),
        "request_id", e.requestId(),
        "token_uuid", e.tokenUuid(),
        "client", e.clientIdentity(),
        "applied_epoch", e.appliedEpoch(),
        "epoch_after", e.epochAfter(),
        "claim_source", e.claimSource().name(),
        "claimed_epoch", e.claimedEpoch(),
        "accepted", e.accepted(),
        "status", e.status(),
        "stale_epoch_rejection", e.staleEpochRejection(),
        "requested_state", e.requestedState(),
        "state_before", e.stateBefore(),
        "state_after", e.stateAfter(),
        "lock_count_before", e.lockCountBefore(),
        "fields", Json.stringArray(e.fields().stream().sorted().toList()),
        "errors", Json.stringArray(e.errors()));
  }

  static JsonObject reportJson(SafetyReport r) {
    JsonArray v = new JsonArray();
    for (SafetyViolation x : r.violations()) {
      JsonArray seqs = new JsonArray();
      x.eventSequences().forEach(seqs::add);
      v.add(
          Json.object(
              "property",
              x.property().name(),
              "container_uuid",
              x.containerUuid(),
              "epoch",
              x.epoch(),
              "description",
              x.description(),
              "events",
              seqs));
    }
    return Json.object(
        "safe",
        r.isSafe(),
        "events_checked",
        r.eventsChecked(),
        "violations",
        v,
        "summary",
        r.summary());
  }

  private static ContainerSpec specFromJson(JsonObject o) {
    ContainerSpec.Builder b = ContainerSpec.builder();
    JsonElement c = o.get("command");
    if (c != null && c.isJsonArray()) {
      List<String> cmd = new java.util.ArrayList<>();
      c.getAsJsonArray().forEach(x -> cmd.add(x.getAsString()));
      b.command(cmd);
    }
    if (o.has("priority")) {
      b.priority(o.get("priority").getAsLong());
    }
    if (o.has("container_image")) {
      b.containerImage(o.get("container_image").getAsString());
    }
    if (o.has("cwd")) {
      b.cwd(o.get("cwd").getAsString());
    }
    if (o.has("output_path")) {
      b.outputPath(o.get("output_path").getAsString());
    }
    if (o.has("runtime_token") && !o.get("runtime_token").isJsonNull()) {
      b.runtimeToken(o.get("runtime_token").getAsString());
    }
    if (o.has("runtime_user_uuid") && !o.get("runtime_user_uuid").isJsonNull()) {
      b.runtimeUserUuid(o.get("runtime_user_uuid").getAsString());
    }
    if (o.has("environment") && o.get("environment").isJsonObject()) {
      Map<String, String> env = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("environment").entrySet()) {
        env.put(e.getKey(), e.getValue().getAsString());
      }
      b.environment(env);
    }
    if (o.has("secret_mounts") && o.get("secret_mounts").isJsonObject()) {
      b.secretMountsJson(o.get("secret_mounts").toString());
    }
    return b.build();
  }
}

package dev.crunchguard.testkit;

import com.google.gson.JsonObject;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One server the differential suite drives, reached only through HTTP: the tokens of the three
 * roles (dispatcher admin, second admin, ordinary user) and the uuids they resolve to. Aliases map
 * those uuids to role names, so transcripts of different servers can be compared.
 */
final class DiffTarget {
  final String name;

  /** Whether this is the simulator (which models the controller) rather than RailsAPI alone. */
  final boolean simulator;

  final Http http;
  final String admin;
  final String admin2;
  final String user;
  final String userUuid;

  /** Server-specific uuid to a role name, for normalisation. */
  final Map<String, String> aliases = new LinkedHashMap<>();

  DiffTarget(
      String name, boolean simulator, String baseUrl, String admin, String admin2, String user) {
    this(
        name,
        simulator,
        baseUrl,
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(),
        admin,
        admin2,
        user);
  }

  DiffTarget(
      String name,
      boolean simulator,
      String baseUrl,
      HttpClient client,
      String admin,
      String admin2,
      String user) {
    this.name = name;
    this.simulator = simulator;
    this.http = new Http(baseUrl, client);
    this.admin = admin;
    this.admin2 = admin2;
    this.user = user;
    JsonObject a = current(admin, "admin");
    JsonObject a2 = current(admin2, "admin2");
    JsonObject u = current(user, "user");
    this.userUuid = u.get("owner_uuid").getAsString();
    aliases.put(a.get("uuid").getAsString(), "<admin-token>");
    aliases.put(a2.get("uuid").getAsString(), "<admin2-token>");
    aliases.put(u.get("uuid").getAsString(), "<user-token>");
    aliases.putIfAbsent(a.get("owner_uuid").getAsString(), "<admin-user>");
    aliases.putIfAbsent(a2.get("owner_uuid").getAsString(), "<admin2-user>");
    aliases.putIfAbsent(userUuid, "<user-user>");
  }

  private JsonObject current(String token, String role) {
    Http.Res r = http.get("arvados/v1/api_client_authorizations/current").token(token).send();
    if (r.status() != 200) {
      throw new IllegalStateException(
          name + ": the " + role + " token is not accepted (" + r.status() + ")");
    }
    return r.json();
  }

  @Override
  public String toString() {
    return name;
  }
}

package dev.crunchguard.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Raw, unguarded writes for tests: what another admin or a legacy client would send. */
public final class AdminHttp {
  private final HttpClient http = HttpClient.newHttpClient();
  private final String baseUrl;
  private final String token;

  public AdminHttp(String baseUrl, String token) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
    this.token = token;
  }

  /** PUT {"container": <json>}; returns the status. */
  public int update(String uuid, String containerJson) {
    HttpRequest r =
        HttpRequest.newBuilder(URI.create(baseUrl + "arvados/v1/containers/" + uuid))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString("{\"container\":" + containerJson + "}"))
            .build();
    try {
      return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public int cancel(String uuid) {
    return update(uuid, "{\"state\":\"Cancelled\"}");
  }
}

package dev.crunchguard.internal;

import dev.crunchguard.ArvadosClient;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * What {@code dev.crunchguard.events} needs from an {@link ArvadosClient}, without the token: an
 * OkHttp client that authenticates its requests (and adds {@code api_token} to websocket upgrade
 * requests only, as arvados-ws expects), the client's base URL, its redactor, and whether it is
 * closed. {@link ArvadosClient} installs the one accessor when its class is initialised. Not API.
 *
 * <pre>{@code
 * ClientTransport t = ClientTransport.of(client);   // inside the SDK only
 * WebSocket ws = t.http().newWebSocket(new Request.Builder().url(wsUrl).build(), listener);
 * }</pre>
 */
public final class ClientTransport {
  private static final AtomicReference<Function<ArvadosClient, ClientTransport>> ACCESS =
      new AtomicReference<>();

  private final OkHttpClient http;
  private final HttpUrl baseUrl;
  private final UnaryOperator<String> redactor;
  private final BooleanSupplier closed;

  /**
   * @param http an OkHttp client that authenticates as the client's token
   * @param baseUrl the API base URL
   * @param redactor removes tokens from text
   * @param closed whether the client has been closed
   */
  public ClientTransport(
      OkHttpClient http, HttpUrl baseUrl, UnaryOperator<String> redactor, BooleanSupplier closed) {
    this.http = Objects.requireNonNull(http, "http");
    this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
    this.redactor = Objects.requireNonNull(redactor, "redactor");
    this.closed = Objects.requireNonNull(closed, "closed");
  }

  /**
   * Called once, by {@link ArvadosClient}'s static initialiser.
   *
   * @param access the accessor
   * @throws IllegalStateException if an accessor is already installed
   */
  public static void install(Function<ArvadosClient, ClientTransport> access) {
    if (!ACCESS.compareAndSet(null, Objects.requireNonNull(access, "access"))) {
      throw new IllegalStateException("the client transport accessor is already installed");
    }
  }

  /**
   * The transport of {@code client}.
   *
   * @param client an Arvados client (its class, being initialised, has installed the accessor)
   * @return the transport
   */
  public static ClientTransport of(ArvadosClient client) {
    Objects.requireNonNull(client, "client");
    Function<ArvadosClient, ClientTransport> access = ACCESS.get();
    if (access == null) {
      throw new IllegalStateException("ArvadosClient did not install its transport accessor");
    }
    return access.apply(client);
  }

  /**
   * @return the authenticating OkHttp client; websocket upgrades through it carry {@code api_token}
   */
  public OkHttpClient http() {
    return http;
  }

  /**
   * @return the API base URL
   */
  public HttpUrl baseUrl() {
    return baseUrl;
  }

  /**
   * @param text any text that may reach a log line or an exception message
   * @return the text with the client's token and token-like strings masked
   */
  public String redact(String text) {
    return redactor.apply(text);
  }

  /**
   * @return whether the client has been closed
   */
  public boolean isClosed() {
    return closed.getAsBoolean();
  }

  @Override
  public String toString() {
    return "ClientTransport{baseUrl=" + baseUrl + '}';
  }
}

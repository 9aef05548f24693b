package dev.crunchguard.testkit;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.crunchguard.testkit.internal.model.Json;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What to create with {@link ArvadosSimulator#createContainer(ContainerSpec)}: an immutable set of
 * creation attributes. Unset attributes get the server defaults (Queued, priority 0, cwd ".").
 */
public final class ContainerSpec {
  private final List<String> command;
  private final long priority;
  private final String containerImage;
  private final String cwd;
  private final String outputPath;
  private final Map<String, String> environment;
  private final @Nullable String runtimeToken;
  private final @Nullable String runtimeUserUuid;
  private final @Nullable String secretMountsJson;

  private ContainerSpec(Builder b) {
    this.command = List.copyOf(b.command);
    this.priority = b.priority;
    this.containerImage = b.containerImage;
    this.cwd = b.cwd;
    this.outputPath = b.outputPath;
    this.environment = Map.copyOf(b.environment);
    this.runtimeToken = b.runtimeToken;
    this.runtimeUserUuid = b.runtimeUserUuid;
    this.secretMountsJson = b.secretMountsJson;
  }

  /**
   * A new builder (command {@code ["echo","hello"]}, priority 1, image {@code "test"}).
   *
   * @return a new builder holding the defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The command.
   *
   * @return the immutable {@code command} argument list
   */
  public List<String> command() {
    return command;
  }

  /**
   * The priority.
   *
   * @return the {@code priority}, {@code >= 0}
   */
  public long priority() {
    return priority;
  }

  /**
   * The container image.
   *
   * @return the {@code container_image}; never null
   */
  public String containerImage() {
    return containerImage;
  }

  /**
   * The runtime token, if any ({@code v2/<uuid>/<secret>}).
   *
   * @return the runtime token, or null when the container uses none
   */
  public @Nullable String runtimeToken() {
    return runtimeToken;
  }

  /** The creation attributes as a JSON object ({@code runtime_token} included when set). */
  JsonObject toAttributes() {
    JsonObject o = new JsonObject();
    o.add("command", Json.stringArray(command));
    o.addProperty("priority", priority);
    o.addProperty("container_image", containerImage);
    o.addProperty("cwd", cwd);
    o.addProperty("output_path", outputPath);
    JsonObject env = new JsonObject();
    environment.forEach(env::addProperty);
    o.add("environment", env);
    if (runtimeToken != null) {
      o.addProperty("runtime_token", runtimeToken);
    }
    if (runtimeUserUuid != null) {
      o.addProperty("runtime_user_uuid", runtimeUserUuid);
    }
    if (secretMountsJson != null) {
      o.add("secret_mounts", Json.parseStrict(secretMountsJson));
    }
    return o;
  }

  @Override
  public String toString() {
    return "ContainerSpec[command="
        + command
        + ", priority="
        + priority
        + ", runtimeToken="
        + (runtimeToken == null ? "none" : "set")
        + "]";
  }

  /** Builder of {@link ContainerSpec}. */
  public static final class Builder {
    private List<String> command = List.of("echo", "hello");
    private long priority = 1;
    private String containerImage = "test";
    private String cwd = ".";
    private String outputPath = "test";
    private Map<String, String> environment = Map.of();
    private @Nullable String runtimeToken;
    private @Nullable String runtimeUserUuid;
    private @Nullable String secretMountsJson;

    private Builder() {}

    /**
     * The command.
     *
     * @param command the argument list (default {@code ["echo","hello"]}); copied, must not be null
     *     nor contain null
     * @return this builder
     */
    public Builder command(List<String> command) {
      this.command = List.copyOf(command);
      return this;
    }

    /**
     * The command.
     *
     * @param command the arguments (default {@code "echo", "hello"}); must not contain null
     * @return this builder
     */
    public Builder command(String... command) {
      return command(List.of(command));
    }

    /**
     * The priority (default 1; 0 makes the container unlockable).
     *
     * @param priority the priority, {@code >= 0}
     * @return this builder
     * @throws IllegalArgumentException when {@code priority} is negative
     */
    public Builder priority(long priority) {
      if (priority < 0) {
        throw new IllegalArgumentException("priority must be >= 0");
      }
      this.priority = priority;
      return this;
    }

    /**
     * The container image (default {@code "test"}).
     *
     * @param image the {@code container_image}; must not be null
     * @return this builder
     */
    public Builder containerImage(String image) {
      this.containerImage = Objects.requireNonNull(image);
      return this;
    }

    /**
     * The working directory (default {@code "."}).
     *
     * @param cwd the {@code cwd} inside the container; must not be null
     * @return this builder
     */
    public Builder cwd(String cwd) {
      this.cwd = Objects.requireNonNull(cwd);
      return this;
    }

    /**
     * The output path (default {@code "test"}).
     *
     * @param p the {@code output_path}; must not be null
     * @return this builder
     */
    public Builder outputPath(String p) {
      this.outputPath = Objects.requireNonNull(p);
      return this;
    }

    /**
     * The environment.
     *
     * @param env the environment variables, name to value (default empty); copied, must not be null
     *     nor hold null keys or values
     * @return this builder
     */
    public Builder environment(Map<String, String> env) {
      this.environment = Map.copyOf(env);
      return this;
    }

    /**
     * A runtime token ({@code v2/<27-char uuid>/<secret>}). Such containers never get an {@code
     * auth_uuid}. An unknown token uuid is registered as a new non-admin token.
     *
     * @param token the full token, {@code v2/<uuid>/<secret>}; must not be null
     * @return this builder
     */
    public Builder runtimeToken(String token) {
      this.runtimeToken = Objects.requireNonNull(token);
      return this;
    }

    /**
     * The runtime user (owner of the container token minted on lock).
     *
     * @param uuid the {@code runtime_user_uuid}; must not be null
     * @return this builder
     */
    public Builder runtimeUserUuid(String uuid) {
      this.runtimeUserUuid = Objects.requireNonNull(uuid);
      return this;
    }

    /**
     * Secret mounts, as a JSON object text; never rendered by get/list.
     *
     * @param json the {@code secret_mounts} object as strict JSON text
     * @return this builder
     * @throws IllegalArgumentException when {@code json} is valid JSON but not an object
     * @throws com.google.gson.JsonParseException when {@code json} is not strict, well-formed JSON
     */
    public Builder secretMountsJson(String json) {
      JsonElement e = Json.parseStrict(json);
      if (!e.isJsonObject()) {
        throw new IllegalArgumentException("secret mounts must be a JSON object");
      }
      this.secretMountsJson = json;
      return this;
    }

    /**
     * Builds the spec.
     *
     * @return a new immutable spec holding the attributes set so far
     */
    public ContainerSpec build() {
      return new ContainerSpec(this);
    }
  }
}

package dev.crunchguard.testkit;

import java.util.Objects;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that runs an {@link ArvadosSimulator} and injects it into test and constructor
 * parameters of type {@code ArvadosSimulator}.
 *
 * <ul>
 *   <li>{@code @RegisterExtension static ArvadosSimulatorExtension SIM = new
 *       ArvadosSimulatorExtension(() -> ArvadosSimulator.builder().adminToken("s"));}: one
 *       simulator for the whole class.
 *   <li>{@code @RegisterExtension ArvadosSimulatorExtension sim = ...perMethod();} (or a static
 *       field with {@link #perMethod()}): a fresh simulator per test method.
 *   <li>{@code @ExtendWith(ArvadosSimulatorExtension.class)}: per class, with the default tokens
 *       {@link #DEFAULT_ADMIN_TOKEN} and {@link #DEFAULT_USER_TOKEN}.
 * </ul>
 *
 * <p>Simulators are closed after the class (or method). State (containers, history, faults) is
 * shared by the tests of a class in per-class mode; call {@link ArvadosSimulator#reset()} if
 * needed.
 */
public final class ArvadosSimulatorExtension
    implements BeforeAllCallback,
        AfterAllCallback,
        BeforeEachCallback,
        AfterEachCallback,
        ParameterResolver {
  /** The admin token of the default configuration. */
  public static final String DEFAULT_ADMIN_TOKEN = "crunchguard-simulator-admin-token";

  /** The non-admin user token of the default configuration. */
  public static final String DEFAULT_USER_TOKEN = "crunchguard-simulator-user-token";

  private static final String KEY = "simulator";

  private final Supplier<ArvadosSimulator.Builder> config;
  private final boolean perMethod;
  private final ExtensionContext.Namespace namespace;

  /** Per-class simulators with the default tokens. */
  public ArvadosSimulatorExtension() {
    this(ArvadosSimulatorExtension::defaultBuilder, false);
  }

  /**
   * Per-class simulators built from the given builder supplier (called once per simulator).
   *
   * @param config supplies a fresh, not yet started builder for each simulator; must not be null
   */
  public ArvadosSimulatorExtension(Supplier<ArvadosSimulator.Builder> config) {
    this(config, false);
  }

  private ArvadosSimulatorExtension(Supplier<ArvadosSimulator.Builder> config, boolean perMethod) {
    this.config = Objects.requireNonNull(config);
    this.perMethod = perMethod;
    this.namespace = ExtensionContext.Namespace.create(ArvadosSimulatorExtension.class, this);
  }

  /**
   * The default configuration: admin {@link #DEFAULT_ADMIN_TOKEN}, user {@link
   * #DEFAULT_USER_TOKEN}.
   *
   * @return a new simulator builder with the two default tokens
   */
  public static ArvadosSimulator.Builder defaultBuilder() {
    return ArvadosSimulator.builder().adminToken(DEFAULT_ADMIN_TOKEN).userToken(DEFAULT_USER_TOKEN);
  }

  /**
   * The same configuration, but a fresh simulator for every test method.
   *
   * @return a new extension sharing this one's builder supplier; this one is unchanged
   */
  public ArvadosSimulatorExtension perMethod() {
    return new ArvadosSimulatorExtension(config, true);
  }

  /**
   * Whether each test method gets its own simulator.
   *
   * @return true for an extension made by {@link #perMethod()}, false for one simulator per test
   *     class
   */
  public boolean isPerMethod() {
    return perMethod;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (!perMethod) {
      start(context);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    stop(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (find(context) == null) {
      start(context);
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    stop(context);
  }

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == ArvadosSimulator.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    ArvadosSimulator sim = find(extensionContext);
    return sim != null ? sim : start(extensionContext);
  }

  /**
   * The simulator running for this context (or a parent context).
   *
   * @param context the JUnit context of a test or test class
   * @return the simulator, or null if none runs
   */
  public ArvadosSimulator simulator(ExtensionContext context) {
    return find(context);
  }

  private ArvadosSimulator find(ExtensionContext context) {
    return context.getStore(namespace).get(KEY, ArvadosSimulator.class);
  }

  private ArvadosSimulator start(ExtensionContext context) {
    ArvadosSimulator sim = config.get().build().start();
    context.getStore(namespace).put(KEY, sim);
    return sim;
  }

  private void stop(ExtensionContext context) {
    // Only what this very context stored; a parent's simulator stays for the other tests.
    ExtensionContext.Store store = context.getStore(namespace);
    Object own = store.get(KEY);
    if (own == null) {
      return;
    }
    boolean inParent =
        context.getParent().map(p -> p.getStore(namespace).get(KEY) == own).orElse(false);
    if (!inParent) {
      store.remove(KEY);
      ((ArvadosSimulator) own).close();
    }
  }
}

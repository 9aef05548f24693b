package dev.crunchguard.testkit;

import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The JUnit 5 extension behind {@link RequiresRealArvados}: an {@link ExecutionCondition} that
 * skips (or, with {@value RealArvados#REQUIRE_VAR}{@code =arvados}, fails) when no real server is
 * configured, and a {@link ParameterResolver} for {@link RealArvados}. The server's users are
 * looked up once per test run and shared by all classes.
 */
public final class RealArvadosExtension implements ExecutionCondition, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(RealArvadosExtension.class);
  private static final String KEY = "lookup";

  static final String ABSENT_REASON =
      "no real Arvados server configured: set "
          + RealArvados.URL_VAR
          + ", "
          + RealArvados.ADMIN_TOKEN_VAR
          + ", "
          + RealArvados.ADMIN2_TOKEN_VAR
          + " and "
          + RealArvados.USER_TOKEN_VAR
          + " (src/ci/real-arvados.sh starts one; see src/docs/real-server.md)";

  private final Supplier<Map<String, String>> environment;

  /** The extension reading the process environment (what {@link RequiresRealArvados} uses). */
  public RealArvadosExtension() {
    this(System::getenv);
  }

  RealArvadosExtension(Supplier<Map<String, String>> environment) {
    this.environment = environment;
  }

  /** The outcome of the one look-up: the server, or the reason it is absent or unusable. */
  private record Lookup(
      Optional<RealArvados> server, @org.jspecify.annotations.Nullable String error) {}

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    Lookup l = lookup(context);
    if (l.error() != null) {
      throw new ExtensionConfigurationException("real Arvados misconfigured: " + l.error());
    }
    if (l.server().isPresent()) {
      return ConditionEvaluationResult.enabled("real Arvados at " + l.server().get().baseUrl());
    }
    if (RealArvados.isRequired(environment.get(), RealArvados.SERVICE_NAME)) {
      throw new ExtensionConfigurationException(
          RealArvados.REQUIRE_VAR
              + " requires "
              + RealArvados.SERVICE_NAME
              + " but there is "
              + ABSENT_REASON);
    }
    return ConditionEvaluationResult.disabled(ABSENT_REASON);
  }

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == RealArvados.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    Lookup l = lookup(extensionContext);
    if (l.server().isEmpty()) {
      throw new ExtensionConfigurationException(l.error() != null ? l.error() : ABSENT_REASON);
    }
    return l.server().get();
  }

  private Lookup lookup(ExtensionContext context) {
    // The root store lives for the whole run: one look-up, however many classes use the server.
    // Keyed by the configuration (its hash: no secret in the key), so differently configured
    // instances do not share a result.
    Map<String, String> env = environment.get();
    String key =
        KEY
            + ":"
            + java.util.Objects.hash(
                env.get(RealArvados.URL_VAR),
                env.get(RealArvados.ADMIN_TOKEN_VAR),
                env.get(RealArvados.ADMIN2_TOKEN_VAR),
                env.get(RealArvados.USER_TOKEN_VAR),
                env.get(RealArvados.INSECURE_VAR));
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(key, k -> compute(env), Lookup.class);
  }

  private static Lookup compute(Map<String, String> env) {
    try {
      return new Lookup(RealArvados.fromEnvironment(env), null);
    } catch (IllegalStateException e) {
      return new Lookup(Optional.empty(), e.getMessage());
    }
  }
}

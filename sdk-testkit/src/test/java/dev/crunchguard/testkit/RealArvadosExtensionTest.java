package dev.crunchguard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Parameter;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;

/** {@link RealArvadosExtension}: skipped, failed or enabled, by the environment it is given. */
class RealArvadosExtensionTest {
  /** A root extension context with a working store and nothing else. */
  private static ExtensionContext context() {
    Map<Object, Object> values = new HashMap<>();
    ExtensionContext.Store store =
        (ExtensionContext.Store)
            Proxy.newProxyInstance(
                RealArvadosExtensionTest.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.Store.class},
                (p, m, args) -> {
                  if (m.getName().equals("getOrComputeIfAbsent") && args.length == 3) {
                    @SuppressWarnings("unchecked")
                    Function<Object, Object> f = (Function<Object, Object>) args[1];
                    return ((Class<?>) args[2]).cast(values.computeIfAbsent(args[0], f));
                  }
                  throw new UnsupportedOperationException(m.getName());
                });
    ExtensionContext[] self = new ExtensionContext[1];
    self[0] =
        (ExtensionContext)
            Proxy.newProxyInstance(
                RealArvadosExtensionTest.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.class},
                (p, m, args) -> {
                  switch (m.getName()) {
                    case "getRoot":
                      return self[0];
                    case "getStore":
                      return store;
                    default:
                      throw new UnsupportedOperationException(m.getName());
                  }
                });
    return self[0];
  }

  @SuppressWarnings("unused")
  private static void target(RealArvados arv, String other) {}

  private static ParameterContext parameter(int index) throws NoSuchMethodException {
    Parameter p =
        RealArvadosExtensionTest.class.getDeclaredMethod("target", RealArvados.class, String.class)
            .getParameters()[index];
    return (ParameterContext)
        Proxy.newProxyInstance(
            RealArvadosExtensionTest.class.getClassLoader(),
            new Class<?>[] {ParameterContext.class},
            (proxy, m, args) -> {
              if (m.getName().equals("getParameter")) {
                return p;
              }
              throw new UnsupportedOperationException(m.getName());
            });
  }

  @Test
  void skipsWithTheReasonWhenAbsentAndNotRequired() {
    ConditionEvaluationResult r =
        new RealArvadosExtension(() -> Map.of(RealArvados.REQUIRE_VAR, "slurm"))
            .evaluateExecutionCondition(context());
    assertThat(r.isDisabled()).isTrue();
    assertThat(r.getReason())
        .hasValueSatisfying(
            reason ->
                assertThat(reason)
                    .contains(
                        RealArvados.URL_VAR,
                        RealArvados.ADMIN_TOKEN_VAR,
                        RealArvados.ADMIN2_TOKEN_VAR,
                        RealArvados.USER_TOKEN_VAR)
                    .contains("src/docs/real-server.md"));
  }

  @Test
  void failsWhenAbsentButRequired() {
    RealArvadosExtension ext =
        new RealArvadosExtension(() -> Map.of(RealArvados.REQUIRE_VAR, "slurm,arvados"));
    assertThatThrownBy(() -> ext.evaluateExecutionCondition(context()))
        .isInstanceOf(ExtensionConfigurationException.class)
        .hasMessageContaining(RealArvados.REQUIRE_VAR)
        .hasMessageContaining(RealArvados.URL_VAR);
  }

  @Test
  void failsWhenMisconfiguredEvenIfNotRequired() {
    RealArvadosExtension ext =
        new RealArvadosExtension(() -> Map.of(RealArvados.URL_VAR, "http://127.0.0.1:1/"));
    assertThatThrownBy(() -> ext.evaluateExecutionCondition(context()))
        .isInstanceOf(ExtensionConfigurationException.class)
        .hasMessageContaining("misconfigured")
        .hasMessageContaining(RealArvados.ADMIN_TOKEN_VAR);
  }

  @Test
  void enablesAndResolvesTheServerWhenConfigured() throws Exception {
    try (RealArvadosTest.UsersStub stub = new RealArvadosTest.UsersStub(RealArvadosTest.users())) {
      Map<String, String> env = RealArvadosTest.env(stub.url());
      RealArvadosExtension ext = new RealArvadosExtension(() -> env);
      ExtensionContext ctx = context();
      ConditionEvaluationResult r = ext.evaluateExecutionCondition(ctx);
      assertThat(r.isDisabled()).isFalse();
      assertThat(r.getReason())
          .hasValueSatisfying(
              reason -> assertThat(reason).contains(stub.url()).doesNotContain("secret"));
      assertThat(ext.supportsParameter(parameter(0), ctx)).isTrue();
      assertThat(ext.supportsParameter(parameter(1), ctx)).isFalse();
      Object resolved = ext.resolveParameter(parameter(0), ctx);
      assertThat(resolved).isInstanceOf(RealArvados.class);
      assertThat(((RealArvados) resolved).adminUuid()).isEqualTo("zzzzz-tpzed-000000000000001");
      stub.close();
      assertThat(ext.resolveParameter(parameter(0), ctx))
          .as("looked up once per run")
          .isSameAs(resolved);
    }
  }
}

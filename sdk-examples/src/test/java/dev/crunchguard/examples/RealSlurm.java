package dev.crunchguard.examples;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class only against a real Slurm: when {@code CRUNCHGUARD_SLURM=1} is set (as {@code
 * src/ci/slurm.sh env} prints, with {@code SLURM_CONF}) and {@code sinfo} answers. Without it the
 * tests are skipped with the reason, unless {@code CRUNCHGUARD_REQUIRE} names {@code slurm}: then,
 * as when {@code CRUNCHGUARD_SLURM=1} is set but Slurm does not answer, they fail.
 */
final class RealSlurm implements ExecutionCondition {
  static final String ENABLE_VAR = "CRUNCHGUARD_SLURM";
  static final String REQUIRE_VAR = "CRUNCHGUARD_REQUIRE";

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    return evaluate(System.getenv());
  }

  static ConditionEvaluationResult evaluate(Map<String, String> env) {
    boolean enabled =
        "1".equals(env.get(ENABLE_VAR)) || "true".equalsIgnoreCase(env.get(ENABLE_VAR));
    boolean required =
        Arrays.stream(env.getOrDefault(REQUIRE_VAR, "").split(","))
            .map(String::trim)
            .anyMatch("slurm"::equals);
    if (!enabled) {
      if (required) {
        throw new IllegalStateException(
            REQUIRE_VAR
                + " names slurm but "
                + ENABLE_VAR
                + " is not set: start one with"
                + " src/ci/slurm.sh start DIR and eval \"$(src/ci/slurm.sh env DIR)\"");
      }
      return ConditionEvaluationResult.disabled(
          "no real Slurm: set "
              + ENABLE_VAR
              + "=1 and SLURM_CONF"
              + " (src/ci/slurm.sh start DIR; eval \"$(src/ci/slurm.sh env DIR)\")");
    }
    SlurmCommands.Result r;
    try {
      r =
          SlurmCommands.processes(Duration.ofSeconds(15), 1)
              .run(List.of("sinfo", "-h", "-o", "%T"), null, Map.of());
    } catch (SlurmCommands.SlurmException e) {
      throw new IllegalStateException(
          ENABLE_VAR + " is set but sinfo does not answer: " + e.getMessage());
    }
    if (r.exitCode() != 0 || r.stdout().isBlank()) {
      throw new IllegalStateException(
          ENABLE_VAR
              + " is set but sinfo failed (exit "
              + r.exitCode()
              + "): "
              + Slurm.brief(r.stderr()));
    }
    return ConditionEvaluationResult.enabled("Slurm answers: node " + Slurm.brief(r.stdout()));
  }
}

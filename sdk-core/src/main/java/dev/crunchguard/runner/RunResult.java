package dev.crunchguard.runner;

import dev.crunchguard.LostOwnershipException;
import org.jspecify.annotations.Nullable;

/**
 * The result of {@link RunnerContext#runCommand}.
 *
 * @param outcome how the run ended
 * @param exitCode the command's exit code, or null if it did not exit on its own
 * @param lost the loss, when {@code outcome} is {@link RunOutcome#LOST}
 */
public record RunResult(
    RunOutcome outcome, @Nullable Integer exitCode, @Nullable LostOwnershipException lost) {}

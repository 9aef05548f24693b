/**
 * The runner side: a {@link dev.crunchguard.runner.RunnerContext} for a crunch-run-like process
 * that was handed a lock by a dispatcher, with an ownership watch that fences the process off
 * within one interval of its epoch ending, and helpers to run a local command.
 */
@NullMarked
package dev.crunchguard.runner;

import org.jspecify.annotations.NullMarked;

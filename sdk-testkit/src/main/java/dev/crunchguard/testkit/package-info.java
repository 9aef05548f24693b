/**
 * The Crunch Guard testkit: an in-memory simulator of the Arvados containers API to test a
 * dispatcher or a runner against, without a cluster.
 *
 * <p>Start with {@link dev.crunchguard.testkit.ArvadosSimulator#builder()} (or the JUnit 5 {@link
 * dev.crunchguard.testkit.ArvadosSimulatorExtension}); create containers from a {@link
 * dev.crunchguard.testkit.ContainerSpec}, read them as {@link
 * dev.crunchguard.testkit.ContainerSnapshot}s, inject faults through the {@link
 * dev.crunchguard.testkit.FaultInjector} (or in front of any server with the {@link
 * dev.crunchguard.testkit.FaultProxy}), and judge the recorded {@link
 * dev.crunchguard.testkit.HistoryEvent}s with the {@link dev.crunchguard.testkit.SafetyChecker}.
 * {@link dev.crunchguard.testkit.RealArvados} runs the same tests against a real server.
 *
 * <p>This package is the testkit's API. The simulator's engine lives in {@code
 * dev.crunchguard.testkit.internal.*}, which is not API.
 */
@NullMarked
package dev.crunchguard.testkit;

import org.jspecify.annotations.NullMarked;

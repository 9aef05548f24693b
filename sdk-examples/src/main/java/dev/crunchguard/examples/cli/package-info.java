/**
 * The command-line conventions shared by the examples' and the benchmarks' jars: picocli set up
 * once ({@link dev.crunchguard.examples.cli.Cli}), the duration syntax ({@link
 * dev.crunchguard.examples.cli.Durations}) and the version from the build ({@link
 * dev.crunchguard.examples.cli.VersionProvider}).
 */
@NullMarked
package dev.crunchguard.examples.cli;

import org.jspecify.annotations.NullMarked;

package dev.crunchguard.examples;

import dev.crunchguard.examples.cli.Durations;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * How {@link SlurmDispatcher} runs a Slurm command line ({@code sbatch}, {@code squeue}, {@code
 * scontrol}, {@code scancel}). {@link #processes} runs real processes; unit tests use a fake that
 * interprets the argument lists. Implementations never log or echo the environment they are given:
 * it carries the job's credentials.
 */
interface SlurmCommands {
  /** What a finished command left: its exit status and its output. */
  record Result(int exitCode, String stdout, String stderr) {}

  /** A command that could not be run, timed out, or exited with a non-zero status. */
  final class SlurmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SlurmException(String message) {
      super(message);
    }
  }

  /**
   * Runs one command and waits for it.
   *
   * @param argv the command and its arguments (never a secret)
   * @param stdin text for its standard input, or null for none
   * @param env variables added to this process's environment for the command (may hold secrets)
   * @return the result, whatever the exit status
   * @throws SlurmException if it could not be started or did not finish within the timeout
   */
  Result run(List<String> argv, @Nullable String stdin, Map<String, String> env);

  /**
   * Real processes, at most {@code maxParallel} at once, each killed after {@code timeout}.
   *
   * @param timeout how long one command may take
   * @param maxParallel how many commands may run at once (Arvados' Slurm dispatcher uses 3)
   * @return the command runner
   */
  static SlurmCommands processes(Duration timeout, int maxParallel) {
    return new Processes(timeout, maxParallel);
  }

  /**
   * Runs commands with ProcessBuilder; output goes through temporary files so a chatty command
   * cannot block.
   */
  final class Processes implements SlurmCommands {
    private final Duration timeout;
    private final Semaphore slots;

    Processes(Duration timeout, int maxParallel) {
      this.timeout = timeout;
      this.slots = new Semaphore(maxParallel, true);
    }

    @Override
    public Result run(List<String> argv, @Nullable String stdin, Map<String, String> env) {
      String name = argv.get(0);
      long deadline = System.nanoTime() + timeout.toNanos();
      try {
        if (!slots.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
          throw new SlurmException(
              name
                  + " did not get a slot within "
                  + Durations.format(timeout)
                  + ": other Slurm commands are hanging");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SlurmException(name + " interrupted");
      }
      File out = null;
      File err = null;
      Process p = null;
      try {
        out = File.createTempFile("crunchguard-slurm-", ".out");
        err = File.createTempFile("crunchguard-slurm-", ".err");
        ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out).redirectError(err);
        pb.environment().putAll(env);
        if (stdin == null) {
          pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        p = pb.start();
        if (stdin != null) {
          try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
          }
        }
        long left = deadline - System.nanoTime();
        if (!p.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
          p.destroyForcibly();
          throw new SlurmException(
              name + " did not finish within " + Durations.format(timeout) + " (killed)");
        }
        return new Result(
            p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
      } catch (IOException e) {
        throw new SlurmException("could not run " + name + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SlurmException(name + " interrupted");
      } finally {
        if (p != null && p.isAlive()) {
          p.destroyForcibly();
        }
        slots.release();
        if (out != null) {
          out.delete();
        }
        if (err != null) {
          err.delete();
        }
      }
    }
  }
}

package dev.crunchguard.examples;

import dev.crunchguard.examples.SlurmCommands.Result;
import dev.crunchguard.examples.SlurmCommands.SlurmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The Slurm command lines {@link SlurmDispatcher} uses, and the parsing of their output. Every job
 * is named after its container ({@code --job-name=<uuid>}) and carries the lock epoch it was
 * submitted in as its comment ({@code --comment=<auth_uuid>}, not secret), so that a restarted
 * dispatcher can tell its own jobs from stale ones without any state of its own.
 */
final class Slurm {
  /** squeue's fields: job id, name, nice, state, comment (last: a comment may contain anything). */
  static final String SQUEUE_FORMAT = "%i|%j|%y|%T|%k";

  /** The nice of a job whose container has priority 0 or 1; priority 1000 and above get nice 0. */
  static final int MAX_NICE = 10_000;

  private static final Pattern CONTAINER_UUID = Pattern.compile("[a-z0-9]{5}-dz642-[a-z0-9]{15}");
  private static final Pattern JOB_ID = Pattern.compile("[0-9]+(_[0-9]+)?");

  /** One line of squeue. */
  record Job(String id, String name, int nice, String state, String epoch) {
    /**
     * @return true while Slurm runs it (the runner process exists)
     */
    boolean running() {
      return state.equals("RUNNING") || state.equals("COMPLETING") || state.equals("CONFIGURING");
    }

    /**
     * @return true while it waits for resources
     */
    boolean pending() {
      return state.equals("PENDING");
    }
  }

  /**
   * One squeue run: {@code startedNanos} is {@link System#nanoTime()} just before squeue started,
   * so that only a snapshot that started after an sbatch returned can show that job missing.
   */
  record Snapshot(long seq, long startedNanos, List<Job> jobs) {
    @Nullable Job job(String id) {
      for (Job j : jobs) {
        if (j.id().equals(id)) {
          return j;
        }
      }
      return null;
    }

    /**
     * @return whether this snapshot can prove a job submitted at {@code submittedNanos} gone
     */
    boolean startedAfter(long submittedNanos) {
      return startedNanos - submittedNanos > 0;
    }
  }

  /** What sbatch is asked for. */
  record JobRequest(
      String containerUuid,
      String epoch,
      int cpus,
      @Nullable Long memoryMiB,
      int nice,
      @Nullable String partition,
      @Nullable String outputPattern) {}

  private final SlurmCommands commands;

  Slurm(SlurmCommands commands) {
    this.commands = commands;
  }

  static boolean isContainerUuid(String name) {
    return CONTAINER_UUID.matcher(name).matches();
  }

  /**
   * Nice from an Arvados priority: higher priority, lower nice; 1000 and above map to 0 (Slurm's
   * nice is between 0 and {@link #MAX_NICE} here, so the dispatcher never needs a negative one).
   */
  static int nice(long priority) {
    long p = Math.max(0, Math.min(priority, 1000));
    return (int) (MAX_NICE - p * (MAX_NICE / 1000));
  }

  /** vCPUs from {@code runtime_constraints.vcpus} (at least 1). */
  static int cpus(Map<String, Object> constraints) {
    Object v = constraints.get("vcpus");
    return v instanceof Number n && n.doubleValue() >= 1 ? (int) Math.ceil(n.doubleValue()) : 1;
  }

  /**
   * MiB from {@code runtime_constraints.ram} (bytes), rounded up, plus {@code reserveMiB}; null if
   * not set.
   */
  static @Nullable Long memoryMiB(Map<String, Object> constraints, long reserveMiB) {
    Object v = constraints.get("ram");
    if (!(v instanceof Number n) || n.doubleValue() <= 0) {
      return null;
    }
    long bytes = (long) Math.ceil(n.doubleValue());
    return (bytes + (1L << 20) - 1) / (1L << 20) + reserveMiB;
  }

  /** The sbatch argument list: no secret in it (credentials go through the environment). */
  static List<String> sbatchArgs(JobRequest r) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "sbatch",
                "--parsable",
                "--export=ALL",
                "--job-name=" + r.containerUuid(),
                "--comment=" + r.epoch(),
                "--no-requeue",
                "--nice=" + r.nice(),
                "--cpus-per-task=" + r.cpus()));
    if (r.memoryMiB() != null) {
      a.add("--mem=" + r.memoryMiB());
    }
    if (r.partition() != null) {
      a.add("--partition=" + r.partition());
    }
    if (r.outputPattern() != null) {
      a.add("--output=" + r.outputPattern());
    }
    return a;
  }

  /**
   * A {@code /bin/sh} script that execs {@code argv} (so that the batch step's TERM reaches it).
   */
  static String script(List<String> argv) {
    StringBuilder sb = new StringBuilder("#!/bin/sh\nexec");
    for (String w : argv) {
      sb.append(" '").append(w.replace("'", "'\\''")).append('\'');
    }
    return sb.append('\n').toString();
  }

  /**
   * Submits one job.
   *
   * @param env the job's environment additions (the lock handoff and the API credentials)
   * @return the job id
   */
  String submit(JobRequest r, List<String> runnerArgv, Map<String, String> env) {
    Result res = commands.run(sbatchArgs(r), script(runnerArgv), env);
    String out = res.stdout().trim();
    if (res.exitCode() != 0) {
      throw new SlurmException(
          "sbatch for "
              + r.containerUuid()
              + " failed (exit "
              + res.exitCode()
              + "): "
              + brief(res.stderr()));
    }
    // --parsable prints "jobid" or "jobid;cluster"
    String id = out.contains(";") ? out.substring(0, out.indexOf(';')) : out;
    if (!JOB_ID.matcher(id).matches()) {
      throw new SlurmException(
          "sbatch for " + r.containerUuid() + " printed no job id: " + brief(out));
    }
    return id;
  }

  /** One squeue run for every job of every user. */
  Snapshot squeue(long seq) {
    long started = System.nanoTime();
    Result res =
        commands.run(
            List.of("squeue", "--all", "--noheader", "--array", "--format=" + SQUEUE_FORMAT),
            null,
            Map.of());
    if (res.exitCode() != 0) {
      throw new SlurmException(
          "squeue failed (exit " + res.exitCode() + "): " + brief(res.stderr()));
    }
    return new Snapshot(seq, started, parse(res.stdout()));
  }

  /**
   * Parses squeue output in {@link #SQUEUE_FORMAT}; a line that does not fit is an error, not a
   * skipped job.
   */
  static List<Job> parse(String out) {
    List<Job> jobs = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.strip().split("\\|", 5);
      if (f.length != 5 || !JOB_ID.matcher(f[0]).matches()) {
        throw new SlurmException("unexpected squeue line: " + brief(line));
      }
      int nice;
      try {
        nice = Integer.parseInt(f[2]);
      } catch (NumberFormatException e) {
        throw new SlurmException("unexpected nice in squeue line: " + brief(line));
      }
      String comment = f[4].equals("(null)") ? "" : f[4];
      jobs.add(new Job(f[0], f[1], nice, f[3].toUpperCase(Locale.ROOT), comment));
    }
    return jobs;
  }

  /** Groups a snapshot's jobs by name. */
  static Map<String, List<Job>> byName(Snapshot s) {
    Map<String, List<Job>> m = new HashMap<>();
    for (Job j : s.jobs()) {
      m.computeIfAbsent(j.name(), k -> new ArrayList<>()).add(j);
    }
    return m;
  }

  /**
   * {@code scontrol update JobName=<uuid> Nice=<n>}: every job of that container (they share its
   * priority).
   */
  void setNice(String containerUuid, int nice) {
    Result res =
        commands.run(
            List.of("scontrol", "update", "JobName=" + containerUuid, "Nice=" + nice),
            null,
            Map.of());
    if (res.exitCode() != 0) {
      throw new SlurmException(
          "scontrol update of "
              + containerUuid
              + " failed (exit "
              + res.exitCode()
              + "): "
              + brief(res.stderr()));
    }
  }

  /**
   * Cancels one job: {@code scancel --name=<uuid>} restricted to its job id, first if pending,
   * then, unless {@code pendingOnly}, if running, with {@code --batch --signal=TERM} so that the
   * runner (the batch step's process) gets a TERM and can stop its command cleanly. The job id
   * keeps a stale epoch's cancel off a newer job of the same container, which has the same name.
   */
  void cancel(String containerUuid, String jobId, boolean pendingOnly) {
    scancel(List.of("scancel", "--name=" + containerUuid, "--state=PENDING", jobId));
    if (!pendingOnly) {
      scancel(
          List.of(
              "scancel",
              "--name=" + containerUuid,
              "--state=RUNNING",
              "--batch",
              "--signal=TERM",
              jobId));
    }
  }

  private void scancel(List<String> argv) {
    Result res = commands.run(argv, null, Map.of());
    String err = res.stderr();
    boolean alreadyGone =
        err.contains("Invalid job id") || err.contains("already completing or completed");
    if (res.exitCode() != 0 && !alreadyGone) {
      throw new SlurmException(
          String.join(" ", argv) + " failed (exit " + res.exitCode() + "): " + brief(res.stderr()));
    }
  }

  static String brief(String s) {
    String t = s.strip().replace('\n', ' ');
    return t.length() > 300 ? t.substring(0, 300) + "..." : t;
  }
}

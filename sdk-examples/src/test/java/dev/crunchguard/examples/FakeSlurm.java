package dev.crunchguard.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * An in-memory Slurm for unit tests: interprets the argument lists {@link Slurm} builds (sbatch,
 * squeue, scontrol update, scancel) and records every call. Jobs do not run anything: the test
 * moves them (start, finish, vanish) and plays their runner.
 */
final class FakeSlurm implements SlurmCommands {
  /** One job as this fake holds it. */
  static final class Job {
    final String id;
    final String name;
    final String comment;
    final List<String> argv;
    final Map<String, String> env;
    volatile int nice;
    volatile String state = "PENDING";

    Job(String id, String name, String comment, int nice, List<String> argv, Map<String, String> env) {
      this.id = id;
      this.name = name;
      this.comment = comment;
      this.nice = nice;
      this.argv = argv;
      this.env = env;
    }
  }

  record Call(List<String> argv, @Nullable String stdin, Map<String, String> env) {}

  final Map<String, Job> jobs = new LinkedHashMap<>();
  final List<Call> calls = new CopyOnWriteArrayList<>();
  private final AtomicInteger nextId = new AtomicInteger(100);
  volatile int squeueExit;
  /** When set, the next squeue reads the queue at its start, then waits for the latch before answering. */
  volatile @Nullable CountDownLatch staleSqueueGate;

  @Override
  public Result run(List<String> argv, @Nullable String stdin, Map<String, String> env) {
    calls.add(new Call(List.copyOf(argv), stdin, Map.copyOf(env)));
    switch (argv.get(0)) {
      case "sbatch":
        return sbatch(argv, env);
      case "squeue":
        return squeue();
      case "scontrol":
        return scontrol(argv);
      case "scancel":
        return scancel(argv);
      default:
        return new Result(127, "", argv.get(0) + ": command not found");
    }
  }

  private synchronized Result sbatch(List<String> argv, Map<String, String> env) {
    String id = Integer.toString(nextId.incrementAndGet());
    Job j = new Job(id, value(argv, "--job-name="), value(argv, "--comment="), Integer.parseInt(value(argv, "--nice=")), argv, env);
    jobs.put(id, j);
    CountDownLatch gate = staleSqueueGate;
    if (gate != null) {
      gate.countDown();
    }
    return new Result(0, id + "\n", "");
  }

  private Result squeue() {
    String out;
    CountDownLatch gate;
    synchronized (this) {
      out = listing();
      gate = staleSqueueGate;
    }
    if (gate != null) {
      staleSqueueGate = null;
      try {
        gate.await(10, TimeUnit.SECONDS); // answer with what was read before the sbatch returned
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return squeueExit == 0 ? new Result(0, out, "") : new Result(squeueExit, "", "slurm_load_jobs error: Unable to contact slurm controller");
  }

  private String listing() {
    StringBuilder sb = new StringBuilder();
    for (Job j : jobs.values()) {
      sb.append(j.id).append('|').append(j.name).append('|').append(j.nice).append('|').append(j.state).append('|')
          .append(j.comment.isEmpty() ? "(null)" : j.comment).append('\n');
    }
    return sb.toString();
  }

  private synchronized Result scontrol(List<String> argv) {
    String name = value(argv, "JobName=");
    int nice = Integer.parseInt(value(argv, "Nice="));
    boolean any = false;
    for (Job j : jobs.values()) {
      if (j.name.equals(name)) {
        j.nice = nice;
        any = true;
      }
    }
    return any ? new Result(0, "", "") : new Result(1, "", "Invalid job name specified");
  }

  private synchronized Result scancel(List<String> argv) {
    String name = value(argv, "--name=");
    String state = value(argv, "--state=");
    String id = argv.get(argv.size() - 1);
    Job j = jobs.get(id);
    if (j == null) {
      return new Result(1, "", "scancel: error: Kill job error on job id " + id + ": Invalid job id specified");
    }
    if (j.name.equals(name) && j.state.equals(state)) {
      jobs.remove(id);
    }
    return new Result(0, "", "");
  }

  private static String value(List<String> argv, String prefix) {
    for (String a : argv) {
      if (a.startsWith(prefix)) {
        return a.substring(prefix.length());
      }
    }
    return "";
  }

  synchronized List<Job> jobsNamed(String name) {
    List<Job> out = new ArrayList<>();
    for (Job j : jobs.values()) {
      if (j.name.equals(name)) {
        out.add(j);
      }
    }
    return out;
  }

  synchronized void add(Job j) {
    jobs.put(j.id, j);
  }

  synchronized void remove(String id) {
    jobs.remove(id);
  }

  List<Call> calls(String command) {
    return calls.stream().filter(c -> c.argv().get(0).equals(command)).toList();
  }
}

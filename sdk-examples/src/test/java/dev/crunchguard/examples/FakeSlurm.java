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

    Job(
        String id,
        String name,
        String comment,
        int nice,
        List<String> argv,
        Map<String, String> env) {
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

  /** Every job sbatch created, in order, also those gone since. */
  final List<Job> submitted = new CopyOnWriteArrayList<>();

  final List<Call> calls = new CopyOnWriteArrayList<>();
  private final AtomicInteger nextId = new AtomicInteger(100);
  volatile int squeueExit;

  /**
   * Once armed, the next sbatch waits until an squeue has read the queue, and that squeue answers
   * only after the sbatch returned, with what it read: a snapshot that started before the job
   * existed and arrived after its sbatch.
   */
  static final class StaleSqueue {
    final CountDownLatch read = new CountDownLatch(1);
    final CountDownLatch submitted = new CountDownLatch(1);
    volatile @Nullable String answered;
  }

  volatile @Nullable StaleSqueue stale;

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

  private Result sbatch(List<String> argv, Map<String, String> env) {
    StaleSqueue st = stale;
    if (st != null) {
      await(st.read);
    }
    String id;
    synchronized (this) {
      id = Integer.toString(nextId.incrementAndGet());
      Job j =
          new Job(
              id,
              value(argv, "--job-name="),
              value(argv, "--comment="),
              Integer.parseInt(value(argv, "--nice=")),
              argv,
              env);
      jobs.put(id, j);
      submitted.add(j);
    }
    if (st != null) {
      st.submitted.countDown();
    }
    return new Result(0, id + "\n", "");
  }

  private static void await(CountDownLatch l) {
    try {
      l.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Result squeue() {
    String out;
    StaleSqueue st;
    synchronized (this) {
      out = listing();
      st = stale;
      stale = null;
    }
    if (st != null) {
      st.read.countDown();
      await(st.submitted); // answer after the sbatch returned, with what was read before it
      st.answered = out;
    }
    return squeueExit == 0
        ? new Result(0, out, "")
        : new Result(squeueExit, "", "slurm_load_jobs error: Unable to contact slurm controller");
  }

  private String listing() {
    StringBuilder sb = new StringBuilder();
    for (Job j : jobs.values()) {
      sb.append(j.id)
          .append('|')
          .append(j.name)
          .append('|')
          .append(j.nice)
          .append('|')
          .append(j.state)
          .append('|')
          .append(j.comment.isEmpty() ? "(null)" : j.comment)
          .append('\n');
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
      return new Result(
          1, "", "scancel: error: Kill job error on job id " + id + ": Invalid job id specified");
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

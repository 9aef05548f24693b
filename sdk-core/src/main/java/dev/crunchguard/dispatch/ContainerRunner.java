package dev.crunchguard.dispatch;

/**
 * What a {@link Dispatcher} does with each container it locks: start the work (in this JVM or by
 * launching a runner process with {@link RunContext#lock()}{@code .epoch()}), and return when it is
 * over. Called on one of the dispatcher's runner threads.
 *
 * <p>The runner should watch {@link RunContext#cancellation()} and stop promptly when it fires. If
 * it returns or throws while the container is still Locked in this epoch, the dispatcher unlocks it
 * (guarded); if the container is still Running in this epoch, the dispatcher cancels it.
 */
@FunctionalInterface
public interface ContainerRunner {
  /**
   * Runs one container.
   *
   * @param context the lock, the container as listed, and the stop signal
   * @throws Exception on failure; the dispatcher logs it and cleans up as described above
   */
  void run(RunContext context) throws Exception;
}

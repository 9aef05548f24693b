package dev.crunchguard.testkit.internal.events;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketServerFactory;
import org.java_websocket.WrappedByteChannel;
import org.java_websocket.drafts.Draft;
import org.jspecify.annotations.Nullable;

/**
 * A connection's channel as the websocket library writes to it, telling a waiting sender when the
 * library's outgoing buffers have been written to the socket.
 *
 * <p>Java-WebSocket 1.6.0 queues each outgoing frame as one buffer ({@code WebSocketImpl.outQueue})
 * and writes the queue from its selector thread ({@code SocketChannelIOHelper.batch}): it writes
 * the head buffer, removes it once nothing of it remains, and stops when the socket takes no more.
 * It has no callback for that, so this channel signals whenever a write finishes a buffer. The
 * queue counts as drained when it is empty, or when its only buffer is the one just finished (the
 * library removes it right after the write returns). Checking and waiting happen under the same
 * lock as the signal, so no wake-up is lost.
 */
final class DrainSignal implements WrappedByteChannel {
  private final ByteChannel delegate;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition written = lock.newCondition();
  private @Nullable ByteBuffer lastFinished; // guarded by lock
  private long finished; // buffers finished, guarded by lock

  DrainSignal(ByteChannel delegate) {
    this.delegate = delegate;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    int n = delegate.write(src);
    if (!src.hasRemaining()) {
      lock.lock();
      try {
        lastFinished = src;
        finished++;
        written.signalAll();
      } finally {
        lock.unlock();
      }
    }
    return n;
  }

  /**
   * How long a wait goes without a finished write before {@link #awaitDrained} re-arms the
   * selector. Java-WebSocket 1.6.0 has a race: its selector thread, done writing, sets the key's
   * interest back to read only ({@code WebSocketServer.doWrite}) after it has written the last
   * buffer, so a frame queued just then (our sender, woken by that very write) can lose its write
   * demand and stay queued until the next one. Only then does this timeout matter; a sender is
   * otherwise woken by the write itself.
   */
  static final long STUCK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  /**
   * Waits until everything queued on {@code outQueue} has been written to the socket.
   *
   * @param outQueue the connection's outgoing buffers
   * @param timeoutNanos how long to wait
   * @param rearm asks the library to write again when the queue is not empty but the connection is
   *     not waiting to write (see {@link #STUCK_NANOS}); called without this channel's lock
   * @return false when the timeout passed first
   * @throws InterruptedException when the waiting thread is interrupted (the session ended)
   */
  boolean awaitDrained(Queue<ByteBuffer> outQueue, long timeoutNanos, Runnable rearm)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeoutNanos;
    while (true) {
      lock.lock();
      try {
        long finishedBefore = finished;
        while (!drained(outQueue)) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          written.awaitNanos(Math.min(left, STUCK_NANOS));
          if (finished == finishedBefore && !drained(outQueue)) {
            break; // no write finished for a while: re-arm below, without the lock
          }
          finishedBefore = finished;
        }
        if (drained(outQueue)) {
          return true;
        }
      } finally {
        lock.unlock();
      }
      rearm.run();
    }
  }

  /** Call with the lock held. */
  private boolean drained(Queue<ByteBuffer> outQueue) {
    ByteBuffer head = outQueue.peek();
    return head == null || (head == lastFinished && outQueue.size() == 1);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return delegate.read(dst);
  }

  @Override
  public boolean isOpen() {
    return delegate.isOpen();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }

  @Override
  public boolean isNeedWrite() {
    return delegate instanceof WrappedByteChannel w && w.isNeedWrite();
  }

  @Override
  public void writeMore() throws IOException {
    if (delegate instanceof WrappedByteChannel w) {
      w.writeMore();
    }
  }

  @Override
  public boolean isNeedRead() {
    return delegate instanceof WrappedByteChannel w && w.isNeedRead();
  }

  @Override
  public int readMore(ByteBuffer dst) throws IOException {
    return delegate instanceof WrappedByteChannel w ? w.readMore(dst) : 0;
  }

  @Override
  public boolean isBlocking() {
    if (delegate instanceof WrappedByteChannel w) {
      return w.isBlocking();
    }
    return delegate instanceof SocketChannel s && s.isBlocking();
  }

  /** The library's factory (plain or TLS) with every connection's channel wrapped. */
  static final class Factory implements WebSocketServerFactory {
    private final WebSocketServerFactory inner;

    Factory(WebSocketServerFactory inner) {
      this.inner = inner;
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter a, Draft d) {
      return inner.createWebSocket(a, d);
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter a, List<Draft> drafts) {
      return inner.createWebSocket(a, drafts);
    }

    @Override
    public ByteChannel wrapChannel(SocketChannel channel, SelectionKey key) throws IOException {
      return new DrainSignal(inner.wrapChannel(channel, key));
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}

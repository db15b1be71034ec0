package io.gpuwarden.collector.ingest;

import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Chooses each call's executor: {@code IngestService/Preview} calls run on a thread of their own,
 * every other call on the server's workers. A collector that is behind has a queue of batches for
 * its workers, and a preview, which exists so that a fault does not wait behind a backlog, must not
 * wait in that queue either. For that the server's own executor must be direct (gRPC looks the
 * method up on it, before it asks this supplier): the lookup then runs on the transport thread and
 * nothing of a preview waits for a worker. At most {@value #QUEUE} previews wait; past that one
 * runs on the transport thread that received it (the previews slow their own senders' connection,
 * nothing is dropped).
 */
public final class PreviewCalls implements ServerCallExecutorSupplier, AutoCloseable {
  private static final int QUEUE = 10_000;
  private static final String PREVIEW = IngestServiceGrpc.getPreviewMethod().getFullMethodName();

  private final Executor workers;
  private final ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
      new ArrayBlockingQueue<>(QUEUE), r -> {
        Thread t = new Thread(r, "gpuwarden-preview");
        t.setDaemon(true);
        return t;
      }, new ThreadPoolExecutor.CallerRunsPolicy());

  /** Creates the supplier; calls other than previews run on {@code workers}. */
  public PreviewCalls(Executor workers) {
    this.workers = workers;
  }

  @Override
  public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
    return PREVIEW.equals(call.getMethodDescriptor().getFullMethodName()) ? executor : workers;
  }

  /** Stops the thread. */
  @Override
  public void close() {
    executor.shutdownNow();
  }
}

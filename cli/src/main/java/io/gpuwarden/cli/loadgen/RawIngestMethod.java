package io.gpuwarden.cli.loadgen;

import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code IngestService/Ingest} with requests given as their encoded bytes: the same method, the same
 * bytes on the wire as the generated stub sends, without encoding each request again
 * ({@link PatchableBatch} makes them). Responses are decoded as usual.
 */
final class RawIngestMethod {
  /** The ingest call, requests as encoded {@code IngestRequest}s. */
  static final MethodDescriptor<byte[], IngestResponse> INGEST = MethodDescriptor.<byte[], IngestResponse>newBuilder()
      .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
      .setFullMethodName(IngestServiceGrpc.getIngestMethod().getFullMethodName())
      .setRequestMarshaller(new Bytes())
      .setResponseMarshaller(ProtoUtils.marshaller(IngestResponse.getDefaultInstance()))
      .build();

  private RawIngestMethod() {}

  /** Passes bytes through. */
  private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}

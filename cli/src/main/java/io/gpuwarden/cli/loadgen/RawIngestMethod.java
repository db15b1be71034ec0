package io.gpuwarden.cli.loadgen;

import io.gpuwarden.common.RawBytesMarshaller;
import io.gpuwarden.proto.v1.IngestResponse;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

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
      .setRequestMarshaller(RawBytesMarshaller.INSTANCE)
      .setResponseMarshaller(ProtoUtils.marshaller(IngestResponse.getDefaultInstance()))
      .build();

  private RawIngestMethod() {}
}

package io.gpuwarden.common;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.grpc.protobuf.ProtoUtils;
import java.io.ByteArrayInputStream;
import org.junit.jupiter.api.Test;

class RawBytesMarshallerTest {
  @Test
  void theBytesOnTheWireAreTheGeneratedMarshallersAndComeBackUnchanged() throws Exception {
    IngestRequest request = IngestRequest.newBuilder().setBatch(TelemetryBatch.newBuilder().setSequence(42)).build();
    byte[] generated = ProtoUtils.marshaller(IngestRequest.getDefaultInstance()).stream(request).readAllBytes();
    byte[] raw = RawBytesMarshaller.INSTANCE.stream(request.toByteArray()).readAllBytes();
    assertThat(raw).isEqualTo(generated);
    assertThat(IngestRequest.parseFrom(RawBytesMarshaller.INSTANCE.parse(new ByteArrayInputStream(raw)))).isEqualTo(request);
  }
}

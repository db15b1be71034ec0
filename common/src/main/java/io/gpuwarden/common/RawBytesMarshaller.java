package io.gpuwarden.common;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A gRPC marshaller that passes messages through as their encoded bytes: for a method whose
 * requests are already encoded (the load generator's) or are not to be decoded (the transport
 * benchmark's). The bytes on the wire are those of the generated marshaller.
 */
public final class RawBytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
  /** The one instance; it keeps no state. */
  public static final RawBytesMarshaller INSTANCE = new RawBytesMarshaller();

  private RawBytesMarshaller() {}

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

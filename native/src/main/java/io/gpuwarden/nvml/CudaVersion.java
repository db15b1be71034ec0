package io.gpuwarden.nvml;

/**
 * The CUDA version the driver supports, e.g. {@code 12.4}; NVML encodes it as
 * {@code major * 1000 + minor * 10} (12040).
 *
 * @param major e.g. 12
 * @param minor e.g. 4
 */
public record CudaVersion(int major, int minor) {

    /** Decodes NVML's integer form: {@code fromEncoded(12040)} is 12.4. */
    public static CudaVersion fromEncoded(int encoded) {
        return new CudaVersion(encoded / 1000, (encoded % 1000) / 10);
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}

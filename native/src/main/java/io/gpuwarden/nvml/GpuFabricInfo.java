package io.gpuwarden.nvml;

import java.util.Objects;

/**
 * The GPU's place in the NVLink fabric (NVSwitch systems, {@code nvmlDeviceGetGpuFabricInfoV}).
 *
 * @param state how far registration with the fabric got
 * @param status the registration's result; meaningful only when {@code state} is {@link FabricState#COMPLETED}
 * @param cliqueId the fabric clique the GPU belongs to
 * @param clusterUuid the fabric cluster, as {@code xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} (lower-case hex)
 * @param healthMask packed health fields, read with {@link FabricHealthField}; 0 (nothing reported) on
 *     drivers with only the v1 call
 * @param healthSummary the driver's verdict; {@link FabricHealthSummary#NOT_SUPPORTED} before fabric info v3
 */
public record GpuFabricInfo(FabricState state, NvmlReturn status, int cliqueId, String clusterUuid, int healthMask,
        FabricHealthSummary healthSummary) {

    public GpuFabricInfo {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(clusterUuid, "clusterUuid");
        Objects.requireNonNull(healthSummary, "healthSummary");
    }

    /** Registration completed successfully. */
    public boolean isRegistered() {
        return state == FabricState.COMPLETED && status == NvmlReturn.SUCCESS;
    }
}

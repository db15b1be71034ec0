/*
 * Driver profiles of the fake NVML: what one NVIDIA driver branch's libnvidia-ml.so.1 exports and
 * answers. build.sh compiles the library once per profile with -DFAKE_NVML_PROFILE=<branch>
 * (535, 550, 570, 580); without it the library is the newest profile (580). The facts and their
 * sources are in FAKE_NVML.md, "Driver profiles".
 *
 * FAKE_NVML_LEGACY (the legacy/ build) is a synthetic library, not a real driver: the newest
 * profile without nvmlDeviceGetTemperatureV, nvmlDeviceGetMemoryInfo_v2,
 * nvmlDeviceGetCurrentClocksEventReasons, nvmlDeviceGetRetiredPages_v2 and
 * nvmlDeviceGetGpuFabricInfoV, so that every fallback of the bindings has a library to run on.
 */
#ifndef GPUWARDEN_FAKE_PROFILE_H
#define GPUWARDEN_FAKE_PROFILE_H

#ifndef FAKE_NVML_PROFILE
#define FAKE_NVML_PROFILE 580
#endif

/*
 * Per profile:
 *   FAKE_PROFILE_DRIVER_VERSION / _NVML_VERSION / _CUDA_DRIVER_VERSION
 *       what nvmlSystemGetDriverVersion, ...GetNVMLVersion and ...GetCudaDriverVersion[_v2] answer
 *       when the state file does not set them (one release of the branch)
 *   FAKE_PROFILE_HAS_TEMPERATURE_V   nvmlDeviceGetTemperatureV is exported
 *   FAKE_PROFILE_FABRIC_INFO_V       newest nvmlGpuFabricInfo version nvmlDeviceGetGpuFabricInfoV
 *                                    takes; 0: the symbol is not exported at all
 *   FAKE_PROFILE_FI_MAX              NVML_FI_MAX of the branch: field ids at or above it are
 *                                    unknown to the driver (answered INVALID_ARGUMENT per entry)
 *   FAKE_PROFILE_EVENT_TYPES         the event type bits the driver knows (its nvmlEventTypeAll)
 *   FAKE_PROFILE_FABRIC_HEALTH_MASK  the bits of healthMask the driver fills in; the others read 0
 *                                    ("not supported")
 */
#if FAKE_NVML_PROFILE == 535
#define FAKE_PROFILE_DRIVER_VERSION "535.216.03"
#define FAKE_PROFILE_NVML_VERSION "12.535.216.03"
#define FAKE_PROFILE_CUDA_DRIVER_VERSION 12020
#define FAKE_PROFILE_HAS_TEMPERATURE_V 0
#define FAKE_PROFILE_FABRIC_INFO_V 0
#define FAKE_PROFILE_FI_MAX 197u
#define FAKE_PROFILE_EVENT_TYPES 0x19FULL
#define FAKE_PROFILE_FABRIC_HEALTH_MASK 0x0u
#elif FAKE_NVML_PROFILE == 550
#define FAKE_PROFILE_DRIVER_VERSION "550.54.15"
#define FAKE_PROFILE_NVML_VERSION "12.550.54.15"
#define FAKE_PROFILE_CUDA_DRIVER_VERSION 12040
#define FAKE_PROFILE_HAS_TEMPERATURE_V 0
#define FAKE_PROFILE_FABRIC_INFO_V 2
#define FAKE_PROFILE_FI_MAX 200u
#define FAKE_PROFILE_EVENT_TYPES 0x19FULL
#define FAKE_PROFILE_FABRIC_HEALTH_MASK 0x3u
#elif FAKE_NVML_PROFILE == 570
#define FAKE_PROFILE_DRIVER_VERSION "570.172.08"
#define FAKE_PROFILE_NVML_VERSION "12.570.172.08"
#define FAKE_PROFILE_CUDA_DRIVER_VERSION 12080
#define FAKE_PROFILE_HAS_TEMPERATURE_V 1
#define FAKE_PROFILE_FABRIC_INFO_V 2
#define FAKE_PROFILE_FI_MAX 251u /* a lower bound: FEC_HISTORY_15 (250) is a 570 field; the exact value is not pinned */
#define FAKE_PROFILE_EVENT_TYPES 0xFF9FULL
#define FAKE_PROFILE_FABRIC_HEALTH_MASK 0xFFFu
#elif FAKE_NVML_PROFILE == 580
#define FAKE_PROFILE_DRIVER_VERSION "580.65.06"
#define FAKE_PROFILE_NVML_VERSION "13.580.65.06"
#define FAKE_PROFILE_CUDA_DRIVER_VERSION 13000
#define FAKE_PROFILE_HAS_TEMPERATURE_V 1
#define FAKE_PROFILE_FABRIC_INFO_V 3
#define FAKE_PROFILE_FI_MAX 274u /* a lower bound: NVML_FI_MAX of 575; the exact 580 value is not pinned */
#define FAKE_PROFILE_EVENT_TYPES 0xFF9FULL
#define FAKE_PROFILE_FABRIC_HEALTH_MASK 0xFFFu
#else
#error "FAKE_NVML_PROFILE must be 535, 550, 570 or 580"
#endif

/* The calls every profile has (535 and later) but the synthetic legacy build leaves out. */
#ifdef FAKE_NVML_LEGACY
#undef FAKE_PROFILE_HAS_TEMPERATURE_V
#define FAKE_PROFILE_HAS_TEMPERATURE_V 0
#undef FAKE_PROFILE_FABRIC_INFO_V
#define FAKE_PROFILE_FABRIC_INFO_V 0
#define FAKE_PROFILE_HAS_MEMORY_INFO_V2 0
#define FAKE_PROFILE_HAS_CLOCKS_EVENT_REASONS 0
#define FAKE_PROFILE_HAS_RETIRED_PAGES_V2 0
#else
#define FAKE_PROFILE_HAS_MEMORY_INFO_V2 1
#define FAKE_PROFILE_HAS_CLOCKS_EVENT_REASONS 1
#define FAKE_PROFILE_HAS_RETIRED_PAGES_V2 1
#endif

/* NVML_NVLINK_MAX_LINKS is 18 up to R580 (NVML 13.0) and 36 from R590 (NVML 13.1). */
#define FAKE_PROFILE_NVLINK_MAX_LINKS 18

#endif

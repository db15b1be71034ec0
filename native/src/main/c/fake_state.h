/*
 * The fake NVML's model of a node: global values, GPUs and injected faults, as read from the
 * state file named by GPUWARDEN_FAKE_NVML_STATE (format: ../../../FAKE_NVML.md).
 *
 * A state is a plain value: the parser builds a fresh one and the library swaps it in whole.
 */
#ifndef GPUWARDEN_FAKE_STATE_H
#define GPUWARDEN_FAKE_STATE_H

#include "fake_nvml.h"

#define FAKE_STATE_ENV "GPUWARDEN_FAKE_NVML_STATE"
#define FAKE_LOG_ENV "GPUWARDEN_FAKE_NVML_LOG"
#define FAKE_MAX_GPUS 64
#define FAKE_ERROR_TEXT 512

/*
 * Every entry point that fault injection can target (`fail.<name>` / `gpu.<i>.fail.<name>`).
 * Adding a function to the fake means adding it here first.
 */
#define FAKE_FUNCTIONS(X)                   \
    X(nvmlInit_v2)                          \
    X(nvmlInit)                             \
    X(nvmlInitWithFlags)                    \
    X(nvmlShutdown)                         \
    X(nvmlSystemGetDriverVersion)           \
    X(nvmlSystemGetNVMLVersion)             \
    X(nvmlSystemGetCudaDriverVersion)       \
    X(nvmlSystemGetCudaDriverVersion_v2)    \
    X(nvmlDeviceGetCount_v2)                \
    X(nvmlDeviceGetHandleByIndex_v2)        \
    X(nvmlDeviceGetHandleByUUID)            \
    X(nvmlDeviceGetHandleByPciBusId_v2)     \
    X(nvmlDeviceGetIndex)                   \
    X(nvmlDeviceGetName)                    \
    X(nvmlDeviceGetUUID)                    \
    X(nvmlDeviceGetSerial)                  \
    X(nvmlDeviceGetPciInfo_v3)              \
    X(nvmlDeviceGetTemperature)             \
    X(nvmlDeviceGetTemperatureV)            \
    X(nvmlDeviceGetPowerUsage)              \
    X(nvmlDeviceGetEnforcedPowerLimit)      \
    X(nvmlDeviceGetUtilizationRates)        \
    X(nvmlDeviceGetMemoryInfo)              \
    X(nvmlDeviceGetMemoryInfo_v2)           \
    X(nvmlDeviceGetClockInfo)

enum fake_function {
#define FAKE_FUNCTION_ID(name) FAKE_FN_##name,
    FAKE_FUNCTIONS(FAKE_FUNCTION_ID)
#undef FAKE_FUNCTION_ID
    FAKE_FN_COUNT
};

/* NVML_SUCCESS in a fault slot means "no fault". */
typedef nvmlReturn_t fake_faults[FAKE_FN_COUNT];

struct fake_pci_address {
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
};

struct fake_gpu {
    int declared; /* some gpu.<i>.* key named this index */
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    char serial[NVML_DEVICE_SERIAL_BUFFER_SIZE];
    struct fake_pci_address pci;
    unsigned int pci_device_id;
    unsigned int pci_subsystem_id;
    int temperature_c;
    unsigned int power_mw;
    unsigned int power_limit_mw;
    unsigned int utilization_gpu;
    unsigned int utilization_memory;
    unsigned long long memory_total_bytes;
    unsigned long long memory_reserved_bytes;
    unsigned long long memory_used_bytes;
    unsigned int clock_mhz[NVML_CLOCK_COUNT];
    fake_faults faults;
};

/* The node-wide values; small enough to copy out per call. */
struct fake_system {
    char driver_version[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
    char nvml_version[NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE];
    int cuda_driver_version;
    nvmlReturn_t init_error;
    fake_faults faults;
};

struct fake_state {
    struct fake_system system;
    unsigned int gpu_count;
    struct fake_gpu gpus[FAKE_MAX_GPUS];
};

enum fake_load_result {
    FAKE_LOAD_OK,
    FAKE_LOAD_UNREADABLE, /* the file could not be opened or read */
    FAKE_LOAD_INVALID     /* the file was read but does not parse */
};

/*
 * Reads and parses the state file at path into *out. On failure *out is unspecified and error
 * holds "path:line: message" (or "path: message"). Unknown keys only warn, on stderr.
 */
enum fake_load_result fake_state_load(const char *path, struct fake_state *out, char error[FAKE_ERROR_TEXT]);

/* Parses state text; origin names the text in messages. */
int fake_state_parse(const char *origin, const char *text, struct fake_state *out, char error[FAKE_ERROR_TEXT]);

/* Parses "DDDDDDDD:BB:DD.F", "DDDD:BB:DD.F", "BB:DD.F" or any of them without ".F" (hex). */
int fake_pci_address_parse(const char *text, struct fake_pci_address *out, unsigned int *function);

/*
 * Reports a diagnostic ("fake NVML: " + message + newline): appended to the file named by
 * GPUWARDEN_FAKE_NVML_LOG when that is set and writable, otherwise written to stderr.
 */
void fake_log(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* The constant's name without the NVML_ / NVML_ERROR_ prefix, e.g. "GPU_IS_LOST"; NULL if unknown. */
const char *fake_return_name(nvmlReturn_t code);

/* nvmlErrorString's wording for the code. */
const char *fake_return_message(nvmlReturn_t code);

#endif

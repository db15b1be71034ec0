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
#define FAKE_MAX_RETIRED_PAGES 64 /* per cause */
#define FAKE_MAX_EVENTS 1024      /* event.<id> lines in one state file */
#define FAKE_MAX_FIELD_FAULTS 16  /* gpu.<i>.fail_field.<id> lines per GPU */

/*
 * Every entry point that fault and hang injection can target (`fail.<name>`, `hang.<name>` and
 * their `gpu.<i>.` forms).
 * Adding a function to the fake means adding it here first.
 */
#define FAKE_FUNCTIONS(X)                           \
    X(nvmlInit_v2)                                  \
    X(nvmlInit)                                     \
    X(nvmlInitWithFlags)                            \
    X(nvmlShutdown)                                 \
    X(nvmlSystemGetDriverVersion)                   \
    X(nvmlSystemGetNVMLVersion)                     \
    X(nvmlSystemGetCudaDriverVersion)               \
    X(nvmlSystemGetCudaDriverVersion_v2)            \
    X(nvmlDeviceGetCount_v2)                        \
    X(nvmlDeviceGetHandleByIndex_v2)                \
    X(nvmlDeviceGetHandleByUUID)                    \
    X(nvmlDeviceGetHandleByPciBusId_v2)             \
    X(nvmlDeviceGetIndex)                           \
    X(nvmlDeviceGetName)                            \
    X(nvmlDeviceGetUUID)                            \
    X(nvmlDeviceGetSerial)                          \
    X(nvmlDeviceGetPciInfo_v3)                      \
    X(nvmlDeviceGetTemperature)                     \
    X(nvmlDeviceGetTemperatureV)                    \
    X(nvmlDeviceGetPowerUsage)                      \
    X(nvmlDeviceGetEnforcedPowerLimit)              \
    X(nvmlDeviceGetUtilizationRates)                \
    X(nvmlDeviceGetMemoryInfo)                      \
    X(nvmlDeviceGetMemoryInfo_v2)                   \
    X(nvmlDeviceGetClockInfo)                       \
    X(nvmlDeviceGetEccMode)                         \
    X(nvmlDeviceGetTotalEccErrors)                  \
    X(nvmlDeviceGetMemoryErrorCounter)              \
    X(nvmlDeviceGetRetiredPages)                    \
    X(nvmlDeviceGetRetiredPages_v2)                 \
    X(nvmlDeviceGetRetiredPagesPendingStatus)       \
    X(nvmlDeviceGetRemappedRows)                    \
    X(nvmlDeviceGetCurrentClocksEventReasons)       \
    X(nvmlDeviceGetCurrentClocksThrottleReasons)    \
    X(nvmlDeviceGetPcieReplayCounter)               \
    X(nvmlDeviceGetCurrPcieLinkGeneration)          \
    X(nvmlDeviceGetMaxPcieLinkGeneration)           \
    X(nvmlDeviceGetCurrPcieLinkWidth)               \
    X(nvmlDeviceGetMaxPcieLinkWidth)                \
    X(nvmlDeviceGetNvLinkState)                     \
    X(nvmlDeviceGetNvLinkErrorCounter)              \
    X(nvmlDeviceGetFieldValues)                     \
    X(nvmlDeviceGetPersistenceMode)                 \
    X(nvmlDeviceGetPerformanceState)                \
    X(nvmlDeviceGetGpuFabricInfo)                   \
    X(nvmlDeviceGetGpuFabricInfoV)                  \
    X(nvmlEventSetCreate)                           \
    X(nvmlDeviceRegisterEvents)                     \
    X(nvmlDeviceGetSupportedEventTypes)             \
    X(nvmlEventSetWait_v2)                          \
    X(nvmlEventSetFree)

enum fake_function {
#define FAKE_FUNCTION_ID(name) FAKE_FN_##name,
    FAKE_FUNCTIONS(FAKE_FUNCTION_ID)
#undef FAKE_FUNCTION_ID
    FAKE_FN_COUNT
};

/* NVML_SUCCESS in a fault slot means "no fault". */
typedef nvmlReturn_t fake_faults[FAKE_FN_COUNT];

/* Milliseconds a call blocks before answering (`hang.<name>`); 0 means none. */
typedef unsigned int fake_hangs[FAKE_FN_COUNT];

/* A counter that may instead answer an error (`ecc.volatile.corrected.texture_memory = NOT_SUPPORTED`). */
struct fake_counter {
    int set;             /* a key gave it; unset ECC totals are the sum of their locations */
    nvmlReturn_t error;  /* NVML_SUCCESS: answer value */
    unsigned long long value;
};

struct fake_page_list {
    unsigned int count;
    unsigned long long address[FAKE_MAX_RETIRED_PAGES];
    unsigned long long timestamp_us[FAKE_MAX_RETIRED_PAGES]; /* 0 when the file gave none */
};

struct fake_nvlink {
    int declared; /* some nvlink.<link>.* key named it; must then be below nvlink_link_count */
    int active;
    unsigned long long errors[NVML_NVLINK_ERROR_COUNT];
};

/* `gpu.<i>.fail_field.<id> = <error>`: that entry of nvmlDeviceGetFieldValues answers the error. */
struct fake_field_fault {
    unsigned int field_id;
    nvmlReturn_t error;
};

/* Index of the total after the per-location counters in fake_gpu.ecc. */
#define FAKE_ECC_TOTAL NVML_MEMORY_LOCATION_COUNT

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
    int ecc_current;
    int ecc_pending; /* -1 until a key sets it: then it follows ecc_current */
    struct fake_counter ecc[NVML_ECC_COUNTER_TYPE_COUNT][NVML_MEMORY_ERROR_TYPE_COUNT][NVML_MEMORY_LOCATION_COUNT + 1];
    struct fake_page_list retired[NVML_PAGE_RETIREMENT_CAUSE_COUNT];
    int retired_pending;
    unsigned int remapped_corrected;
    unsigned int remapped_uncorrected;
    int remapped_pending;
    int remapped_failure;
    unsigned long long clock_event_reasons;
    unsigned int pcie_replay_counter;
    unsigned int pcie_link_gen;
    unsigned int pcie_link_gen_max;
    unsigned int pcie_link_width;
    unsigned int pcie_link_width_max;
    unsigned int nvlink_count;
    struct fake_nvlink nvlinks[NVML_NVLINK_MAX_LINKS];
    int persistence_mode;
    unsigned int pstate;
    unsigned int fabric_state;
    nvmlReturn_t fabric_status;
    unsigned int fabric_clique_id;
    unsigned char fabric_cluster_uuid[NVML_GPU_FABRIC_UUID_LEN];
    unsigned int fabric_health_mask;
    unsigned int fabric_health_summary;
    unsigned int fabric_info_max_version; /* newest nvmlGpuFabricInfoV version answered (2 or 3) */
    unsigned int recovery_action;
    unsigned long long supported_event_types;
    int lost;              /* every call answers GPU_IS_LOST */
    int vanished;          /* not counted or found; its handles answer GPU_IS_LOST */
    unsigned int hang_ms;  /* every call for this GPU blocks this long first */
    fake_hangs hangs;
    fake_faults faults;
    unsigned int field_fault_count;
    struct fake_field_fault field_faults[FAKE_MAX_FIELD_FAULTS];
};

/* `event.<id> = gpu=<index> type=<name> data=<n> [gi=<n>] [ci=<n>]` */
struct fake_event {
    unsigned int id;
    unsigned int gpu; /* state-file index */
    unsigned long long type;
    unsigned long long data;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
};

/* The node-wide values; small enough to copy out per call. */
struct fake_system {
    char driver_version[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
    char nvml_version[NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE];
    int cuda_driver_version;
    unsigned int driver_profile; /* the branch the state is for; 0: not said (any profile) */
    nvmlReturn_t init_error;
    fake_faults faults;
    fake_hangs hangs;
};

struct fake_state {
    struct fake_system system;
    unsigned int gpu_count;  /* GPUs in the file, vanished ones included */
    struct fake_gpu gpus[FAKE_MAX_GPUS];
    unsigned int event_count;
    struct fake_event events[FAKE_MAX_EVENTS]; /* sorted by id */
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

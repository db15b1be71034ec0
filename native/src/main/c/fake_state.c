/*
 * State file parser of the fake NVML: `key = value` lines, table-driven so that a new key is one
 * row in system_keys, gpu_keys or nvlink_keys (plus a field in fake_state.h and a default below).
 * Keys with a number or a function name in them (`fail.<fn>`, `hang.<fn>`, `event.<id>`,
 * `gpu.<i>.nvlink.<link>.<key>`) are split by apply_line before the table lookup.
 */
#include "fake_state.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A state file is a few kilobytes; anything this large is a mistake, not a node. */
#define MAX_STATE_FILE_BYTES (4 * 1024 * 1024)

#define FAKE_RETURN_CODES(X)                                                                         \
    X(NVML_SUCCESS, "SUCCESS", "Success")                                                            \
    X(NVML_ERROR_UNINITIALIZED, "UNINITIALIZED", "Uninitialized")                                    \
    X(NVML_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", "Invalid Argument")                           \
    X(NVML_ERROR_NOT_SUPPORTED, "NOT_SUPPORTED", "Not Supported")                                    \
    X(NVML_ERROR_NO_PERMISSION, "NO_PERMISSION", "Insufficient Permissions")                         \
    X(NVML_ERROR_ALREADY_INITIALIZED, "ALREADY_INITIALIZED", "Already Initialized")                  \
    X(NVML_ERROR_NOT_FOUND, "NOT_FOUND", "Not Found")                                                \
    X(NVML_ERROR_INSUFFICIENT_SIZE, "INSUFFICIENT_SIZE", "Insufficient Size")                        \
    X(NVML_ERROR_INSUFFICIENT_POWER, "INSUFFICIENT_POWER", "Insufficient External Power")            \
    X(NVML_ERROR_DRIVER_NOT_LOADED, "DRIVER_NOT_LOADED", "Driver Not Loaded")                        \
    X(NVML_ERROR_TIMEOUT, "TIMEOUT", "Timeout")                                                      \
    X(NVML_ERROR_IRQ_ISSUE, "IRQ_ISSUE", "Interrupt Request Issue")                                  \
    X(NVML_ERROR_LIBRARY_NOT_FOUND, "LIBRARY_NOT_FOUND", "NVML Shared Library Not Found")            \
    X(NVML_ERROR_FUNCTION_NOT_FOUND, "FUNCTION_NOT_FOUND", "Function Not Found")                     \
    X(NVML_ERROR_CORRUPTED_INFOROM, "CORRUPTED_INFOROM", "Corrupted infoROM")                        \
    X(NVML_ERROR_GPU_IS_LOST, "GPU_IS_LOST", "GPU is lost")                                          \
    X(NVML_ERROR_RESET_REQUIRED, "RESET_REQUIRED", "GPU requires restart")                           \
    X(NVML_ERROR_OPERATING_SYSTEM, "OPERATING_SYSTEM", "The operating system has blocked the request") \
    X(NVML_ERROR_LIB_RM_VERSION_MISMATCH, "LIB_RM_VERSION_MISMATCH",                                 \
      "RM has detected an NVML/RM version mismatch")                                                 \
    X(NVML_ERROR_IN_USE, "IN_USE", "In use by another client")                                       \
    X(NVML_ERROR_MEMORY, "MEMORY", "Insufficient Memory")                                            \
    X(NVML_ERROR_NO_DATA, "NO_DATA", "No data")                                                      \
    X(NVML_ERROR_VGPU_ECC_NOT_SUPPORTED, "VGPU_ECC_NOT_SUPPORTED",                                   \
      "The requested vgpu operation is not available on target device, because ECC is enabled")     \
    X(NVML_ERROR_INSUFFICIENT_RESOURCES, "INSUFFICIENT_RESOURCES", "Insufficient Resources")         \
    X(NVML_ERROR_FREQ_NOT_SUPPORTED, "FREQ_NOT_SUPPORTED", "Frequency not supported")               \
    X(NVML_ERROR_ARGUMENT_VERSION_MISMATCH, "ARGUMENT_VERSION_MISMATCH", "Argument version mismatch") \
    X(NVML_ERROR_DEPRECATED, "DEPRECATED", "Deprecated")                                             \
    X(NVML_ERROR_NOT_READY, "NOT_READY", "Not Ready")                                                \
    X(NVML_ERROR_GPU_NOT_FOUND, "GPU_NOT_FOUND", "GPU not found")                                    \
    X(NVML_ERROR_INVALID_STATE, "INVALID_STATE", "Invalid state")                                    \
    X(NVML_ERROR_RESET_TYPE_NOT_SUPPORTED, "RESET_TYPE_NOT_SUPPORTED", "Reset type not supported")  \
    X(NVML_ERROR_UNKNOWN, "UNKNOWN", "Unknown Error")

struct return_code {
    nvmlReturn_t code;
    const char *name;
    const char *message;
};

static const struct return_code return_codes[] = {
#define FAKE_RETURN_ROW(code, name, message) {code, name, message},
    FAKE_RETURN_CODES(FAKE_RETURN_ROW)
#undef FAKE_RETURN_ROW
};

static const char *const function_names[FAKE_FN_COUNT] = {
#define FAKE_FUNCTION_NAME(name) #name,
    FAKE_FUNCTIONS(FAKE_FUNCTION_NAME)
#undef FAKE_FUNCTION_NAME
};

enum value_kind {
    KIND_STRING,      /* UTF-8 text; must fit the field with its NUL */
    KIND_INT,         /* signed decimal */
    KIND_UINT,        /* decimal or 0x hex, 32 bits */
    KIND_U64,         /* decimal or 0x hex, 64 bits */
    KIND_RETURN_CODE, /* NVML error name (GPU_IS_LOST, NVML_ERROR_GPU_IS_LOST) or a number */
    KIND_PCI_ADDRESS, /* bus id, see fake_pci_address_parse */
    KIND_BOOL,        /* true/false, on/off, up/down, enabled/disabled, yes/no, 1/0; stored as int */
    KIND_COUNTER,     /* u64, or an NVML error name that the query answers instead (struct fake_counter) */
    KIND_PAGE_LIST,   /* "none" or "address[@timestamp_us], ..." (struct fake_page_list) */
    KIND_ENUM,        /* one of key_spec.names (its index is the value) or a u32 */
    KIND_UUID         /* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx into 16 bytes */
};

struct key_spec {
    const char *name;
    enum value_kind kind;
    size_t offset;
    size_t size;
    const char *const *names; /* KIND_ENUM: NULL-terminated, indexed by value */
};

#define FIELD_SIZE(type, field) sizeof(((type *)0)->field)
#define SYSTEM_KEY(key, kind, field) \
    {key, kind, offsetof(struct fake_system, field), FIELD_SIZE(struct fake_system, field), NULL}
#define GPU_KEY(key, kind, field) {key, kind, offsetof(struct fake_gpu, field), FIELD_SIZE(struct fake_gpu, field), NULL}
#define GPU_ENUM_KEY(key, field, names) \
    {key, KIND_ENUM, offsetof(struct fake_gpu, field), FIELD_SIZE(struct fake_gpu, field), names}
#define NVLINK_KEY(key, kind, field) \
    {key, kind, offsetof(struct fake_nvlink, field), FIELD_SIZE(struct fake_nvlink, field), NULL}

/* `ecc.<volatile|aggregate>.<corrected|uncorrected>.<location|total>` */
#define ECC_KEYS(counter, c, type, t)                                                                   \
    GPU_KEY("ecc." counter "." type ".l1_cache", KIND_COUNTER, ecc[c][t][NVML_MEMORY_LOCATION_L1_CACHE]), \
    GPU_KEY("ecc." counter "." type ".l2_cache", KIND_COUNTER, ecc[c][t][NVML_MEMORY_LOCATION_L2_CACHE]), \
    GPU_KEY("ecc." counter "." type ".dram", KIND_COUNTER, ecc[c][t][NVML_MEMORY_LOCATION_DRAM]),         \
    GPU_KEY("ecc." counter "." type ".register_file", KIND_COUNTER,                                     \
            ecc[c][t][NVML_MEMORY_LOCATION_REGISTER_FILE]),                                             \
    GPU_KEY("ecc." counter "." type ".texture_memory", KIND_COUNTER,                                    \
            ecc[c][t][NVML_MEMORY_LOCATION_TEXTURE_MEMORY]),                                            \
    GPU_KEY("ecc." counter "." type ".texture_shm", KIND_COUNTER,                                       \
            ecc[c][t][NVML_MEMORY_LOCATION_TEXTURE_SHM]),                                               \
    GPU_KEY("ecc." counter "." type ".cbu", KIND_COUNTER, ecc[c][t][NVML_MEMORY_LOCATION_CBU]),           \
    GPU_KEY("ecc." counter "." type ".sram", KIND_COUNTER, ecc[c][t][NVML_MEMORY_LOCATION_SRAM]),         \
    GPU_KEY("ecc." counter "." type ".total", KIND_COUNTER, ecc[c][t][FAKE_ECC_TOTAL])

static const char *const fabric_states[] = {"NOT_SUPPORTED", "NOT_STARTED", "IN_PROGRESS", "COMPLETED", NULL};
static const char *const fabric_health_summaries[] = {"NOT_SUPPORTED", "HEALTHY", "UNHEALTHY", "LIMITED_CAPACITY",
                                                      NULL};
static const char *const recovery_actions[] = {"NONE", "GPU_RESET", "NODE_REBOOT", "DRAIN_P2P", "DRAIN_AND_RESET",
                                               "RECOVER_IMEX_DOMAIN", NULL};

struct event_type_name {
    const char *name;
    unsigned long long bit;
};

static const struct event_type_name event_type_names[] = {
    {"single_bit_ecc", nvmlEventTypeSingleBitEccError},
    {"double_bit_ecc", nvmlEventTypeDoubleBitEccError},
    {"pstate", nvmlEventTypePState},
    {"xid", nvmlEventTypeXidCriticalError},
    {"clock", nvmlEventTypeClock},
    {"power_source_change", nvmlEventTypePowerSourceChange},
    {"mig_config_change", nvmlEventMigConfigChange},
    {"single_bit_ecc_storm", nvmlEventTypeSingleBitEccErrorStorm},
    {"dram_retirement", nvmlEventTypeDramRetirementEvent},
    {"dram_retirement_failure", nvmlEventTypeDramRetirementFailure},
    {"non_fatal_poison", nvmlEventTypeNonFatalPoisonError},
    {"fatal_poison", nvmlEventTypeFatalPoisonError},
    {"gpu_unavailable", nvmlEventTypeGpuUnavailableError},
    {"gpu_recovery_action", nvmlEventTypeGpuRecoveryAction},
};

static const struct key_spec system_keys[] = {
    SYSTEM_KEY("driver_version", KIND_STRING, driver_version),
    SYSTEM_KEY("nvml_version", KIND_STRING, nvml_version),
    SYSTEM_KEY("cuda_driver_version", KIND_INT, cuda_driver_version),
    SYSTEM_KEY("driver_profile", KIND_UINT, driver_profile),
    SYSTEM_KEY("init_error", KIND_RETURN_CODE, init_error),
};

static const struct key_spec gpu_keys[] = {
    GPU_KEY("name", KIND_STRING, name),
    GPU_KEY("uuid", KIND_STRING, uuid),
    GPU_KEY("serial", KIND_STRING, serial),
    GPU_KEY("pci_bus_id", KIND_PCI_ADDRESS, pci),
    GPU_KEY("pci_device_id", KIND_UINT, pci_device_id),
    GPU_KEY("pci_subsystem_id", KIND_UINT, pci_subsystem_id),
    GPU_KEY("temperature_c", KIND_INT, temperature_c),
    GPU_KEY("power_mw", KIND_UINT, power_mw),
    GPU_KEY("power_limit_mw", KIND_UINT, power_limit_mw),
    GPU_KEY("utilization_gpu", KIND_UINT, utilization_gpu),
    GPU_KEY("utilization_memory", KIND_UINT, utilization_memory),
    GPU_KEY("memory_total_bytes", KIND_U64, memory_total_bytes),
    GPU_KEY("memory_reserved_bytes", KIND_U64, memory_reserved_bytes),
    GPU_KEY("memory_used_bytes", KIND_U64, memory_used_bytes),
    GPU_KEY("clock_graphics_mhz", KIND_UINT, clock_mhz[NVML_CLOCK_GRAPHICS]),
    GPU_KEY("clock_sm_mhz", KIND_UINT, clock_mhz[NVML_CLOCK_SM]),
    GPU_KEY("clock_mem_mhz", KIND_UINT, clock_mhz[NVML_CLOCK_MEM]),
    GPU_KEY("clock_video_mhz", KIND_UINT, clock_mhz[NVML_CLOCK_VIDEO]),
    GPU_KEY("ecc_mode", KIND_BOOL, ecc_current),
    GPU_KEY("ecc_mode_pending", KIND_BOOL, ecc_pending),
    ECC_KEYS("volatile", NVML_VOLATILE_ECC, "corrected", NVML_MEMORY_ERROR_TYPE_CORRECTED),
    ECC_KEYS("volatile", NVML_VOLATILE_ECC, "uncorrected", NVML_MEMORY_ERROR_TYPE_UNCORRECTED),
    ECC_KEYS("aggregate", NVML_AGGREGATE_ECC, "corrected", NVML_MEMORY_ERROR_TYPE_CORRECTED),
    ECC_KEYS("aggregate", NVML_AGGREGATE_ECC, "uncorrected", NVML_MEMORY_ERROR_TYPE_UNCORRECTED),
    GPU_KEY("retired_pages_sbe", KIND_PAGE_LIST, retired[NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS]),
    GPU_KEY("retired_pages_dbe", KIND_PAGE_LIST, retired[NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR]),
    GPU_KEY("retired_pages_pending", KIND_BOOL, retired_pending),
    GPU_KEY("remapped_rows_corrected", KIND_UINT, remapped_corrected),
    GPU_KEY("remapped_rows_uncorrected", KIND_UINT, remapped_uncorrected),
    GPU_KEY("remapped_rows_pending", KIND_BOOL, remapped_pending),
    GPU_KEY("remapped_rows_failure", KIND_BOOL, remapped_failure),
    GPU_KEY("clock_event_reasons", KIND_U64, clock_event_reasons),
    GPU_KEY("pcie_replay_counter", KIND_UINT, pcie_replay_counter),
    GPU_KEY("pcie_link_gen", KIND_UINT, pcie_link_gen),
    GPU_KEY("pcie_link_gen_max", KIND_UINT, pcie_link_gen_max),
    GPU_KEY("pcie_link_width", KIND_UINT, pcie_link_width),
    GPU_KEY("pcie_link_width_max", KIND_UINT, pcie_link_width_max),
    GPU_KEY("nvlink_link_count", KIND_UINT, nvlink_count),
    GPU_KEY("persistence_mode", KIND_BOOL, persistence_mode),
    GPU_KEY("pstate", KIND_UINT, pstate),
    GPU_ENUM_KEY("fabric_state", fabric_state, fabric_states),
    GPU_KEY("fabric_status", KIND_RETURN_CODE, fabric_status),
    GPU_KEY("fabric_clique_id", KIND_UINT, fabric_clique_id),
    GPU_KEY("fabric_cluster_uuid", KIND_UUID, fabric_cluster_uuid),
    GPU_KEY("fabric_health_mask", KIND_UINT, fabric_health_mask),
    GPU_ENUM_KEY("fabric_health_summary", fabric_health_summary, fabric_health_summaries),
    GPU_KEY("fabric_info_max_version", KIND_UINT, fabric_info_max_version),
    GPU_ENUM_KEY("recovery_action", recovery_action, recovery_actions),
    GPU_KEY("supported_event_types", KIND_U64, supported_event_types),
    GPU_KEY("lost", KIND_BOOL, lost),
    GPU_KEY("vanished", KIND_BOOL, vanished),
    GPU_KEY("hang_ms", KIND_UINT, hang_ms),
};

/* `gpu.<i>.nvlink.<link>.<key>` */
static const struct key_spec nvlink_keys[] = {
    NVLINK_KEY("state", KIND_BOOL, active),
    NVLINK_KEY("replay", KIND_U64, errors[NVML_NVLINK_ERROR_DL_REPLAY]),
    NVLINK_KEY("recovery", KIND_U64, errors[NVML_NVLINK_ERROR_DL_RECOVERY]),
    NVLINK_KEY("crc_flit", KIND_U64, errors[NVML_NVLINK_ERROR_DL_CRC_FLIT]),
    NVLINK_KEY("crc_data", KIND_U64, errors[NVML_NVLINK_ERROR_DL_CRC_DATA]),
    NVLINK_KEY("ecc_data", KIND_U64, errors[NVML_NVLINK_ERROR_DL_ECC_DATA]),
};

/* Every fabric health field reports "false" (2), incorrect configuration "none" (1), partition
 * assignment "not supported" (0): what a healthy NVSwitch-attached Hopper answers. */
#define HEALTHY_FABRIC_MASK 0x1AAu

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

const char *fake_return_name(nvmlReturn_t code)
{
    for (size_t i = 0; i < COUNT_OF(return_codes); i++) {
        if (return_codes[i].code == code) {
            return return_codes[i].name;
        }
    }
    return NULL;
}

const char *fake_return_message(nvmlReturn_t code)
{
    for (size_t i = 0; i < COUNT_OF(return_codes); i++) {
        if (return_codes[i].code == code) {
            return return_codes[i].message;
        }
    }
    return "Unknown Error";
}

/*
 * Defaults describe an idle H100 SXM on the library's driver profile (its version strings), so that
 * a file only needs the keys a test cares about.
 */
static void set_defaults(struct fake_state *state)
{
    memset(state, 0, sizeof(*state));
    snprintf(state->system.driver_version, sizeof(state->system.driver_version), FAKE_PROFILE_DRIVER_VERSION);
    snprintf(state->system.nvml_version, sizeof(state->system.nvml_version), FAKE_PROFILE_NVML_VERSION);
    state->system.cuda_driver_version = FAKE_PROFILE_CUDA_DRIVER_VERSION;
    for (unsigned int i = 0; i < FAKE_MAX_GPUS; i++) {
        struct fake_gpu *gpu = &state->gpus[i];
        snprintf(gpu->name, sizeof(gpu->name), "NVIDIA H100 80GB HBM3");
        snprintf(gpu->uuid, sizeof(gpu->uuid), "GPU-00000000-0000-0000-0000-%012x", i);
        snprintf(gpu->serial, sizeof(gpu->serial), "16549220%05u", i);
        gpu->pci.bus = i + 1;
        gpu->pci_device_id = 0x233010DE;
        gpu->pci_subsystem_id = 0x16C110DE;
        gpu->temperature_c = 30;
        gpu->power_mw = 70000;
        gpu->power_limit_mw = 700000;
        gpu->memory_total_bytes = 81559ULL * 1024 * 1024;
        gpu->clock_mhz[NVML_CLOCK_GRAPHICS] = 345;
        gpu->clock_mhz[NVML_CLOCK_SM] = 345;
        gpu->clock_mhz[NVML_CLOCK_MEM] = 2619;
        gpu->clock_mhz[NVML_CLOCK_VIDEO] = 765;
        gpu->ecc_current = 1;
        gpu->ecc_pending = -1;
        gpu->clock_event_reasons = nvmlClocksEventReasonGpuIdle;
        gpu->pcie_link_gen = 5;
        gpu->pcie_link_gen_max = 5;
        gpu->pcie_link_width = 16;
        gpu->pcie_link_width_max = 16;
        gpu->nvlink_count = 18;
        for (unsigned int link = 0; link < NVML_NVLINK_MAX_LINKS; link++) {
            gpu->nvlinks[link].active = 1;
        }
        gpu->persistence_mode = 1;
        gpu->pstate = 0;
        gpu->fabric_state = NVML_GPU_FABRIC_STATE_COMPLETED;
        gpu->fabric_status = NVML_SUCCESS;
        gpu->fabric_health_mask = HEALTHY_FABRIC_MASK;
        gpu->fabric_health_summary = NVML_GPU_FABRIC_HEALTH_SUMMARY_HEALTHY;
        gpu->fabric_info_max_version = 3;
        gpu->recovery_action = NVML_GPU_RECOVERY_ACTION_NONE;
        gpu->supported_event_types = nvmlEventTypeAll;
    }
}

void fake_log(const char *format, ...)
{
    char message[2 * FAKE_ERROR_TEXT];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    const char *path = getenv(FAKE_LOG_ENV);
    FILE *log = (path != NULL && *path != '\0') ? fopen(path, "a") : NULL;
    fprintf(log != NULL ? log : stderr, "fake NVML: %s\n", message);
    if (log != NULL) {
        fclose(log);
    }
}

static int fail(char error[FAKE_ERROR_TEXT], const char *format, ...) __attribute__((format(printf, 2, 3)));

static int fail(char error[FAKE_ERROR_TEXT], const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(error, FAKE_ERROR_TEXT, format, args);
    va_end(args);
    return -1;
}

static char *trim(char *text)
{
    while (isspace((unsigned char)*text)) {
        text++;
    }
    size_t length = strlen(text);
    while (length > 0 && isspace((unsigned char)text[length - 1])) {
        text[--length] = '\0';
    }
    return text;
}

static int parse_unsigned(const char *text, unsigned long long max, unsigned long long *out)
{
    if (!isdigit((unsigned char)text[0])) {
        return -1; /* rejects "", "-1" and "+1", which strtoull would accept */
    }
    int base = (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) ? 16 : 10;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, base);
    if (errno != 0 || *end != '\0' || end == text || value > max) {
        return -1;
    }
    *out = value;
    return 0;
}

static int parse_int(const char *text, int *out)
{
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || value < INT_MIN || value > INT_MAX) {
        return -1;
    }
    *out = (int)value;
    return 0;
}

static int parse_return_code(const char *text, nvmlReturn_t *out)
{
    unsigned long long number;
    if (parse_unsigned(text, INT_MAX, &number) == 0) {
        *out = (nvmlReturn_t)number;
        return 0;
    }
    const char *name = text;
    if (strncmp(name, "NVML_ERROR_", 11) == 0) {
        name += 11;
    } else if (strncmp(name, "NVML_", 5) == 0) {
        name += 5;
    }
    for (size_t i = 0; i < COUNT_OF(return_codes); i++) {
        if (strcmp(return_codes[i].name, name) == 0) {
            *out = return_codes[i].code;
            return 0;
        }
    }
    return -1;
}

static int hex_value(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

static int parse_hex_field(const char **cursor, unsigned int max_digits, unsigned int max, unsigned int *out)
{
    const char *p = *cursor;
    unsigned long long value = 0;
    unsigned int digits = 0;
    while (isxdigit((unsigned char)*p)) {
        if (++digits > max_digits) {
            return -1;
        }
        value = value * 16 + (unsigned long long)hex_value(*p++);
    }
    if (digits == 0 || value > max) {
        return -1;
    }
    *cursor = p;
    *out = (unsigned int)value;
    return 0;
}

int fake_pci_address_parse(const char *text, struct fake_pci_address *out, unsigned int *function)
{
    unsigned int colons = 0;
    for (const char *p = text; *p != '\0'; p++) {
        colons += *p == ':';
    }
    struct fake_pci_address address = {0, 0, 0};
    unsigned int fn = 0;
    const char *p = text;
    if (colons == 2) {
        if (parse_hex_field(&p, 8, UINT_MAX, &address.domain) != 0 || *p++ != ':') {
            return -1;
        }
    } else if (colons != 1) {
        return -1;
    }
    if (parse_hex_field(&p, 2, 0xFF, &address.bus) != 0 || *p++ != ':'
        || parse_hex_field(&p, 2, 0x1F, &address.device) != 0) {
        return -1;
    }
    if (*p == '.') {
        p++;
        if (parse_hex_field(&p, 1, 7, &fn) != 0) {
            return -1;
        }
    }
    if (*p != '\0') {
        return -1;
    }
    *out = address;
    if (function != NULL) {
        *function = fn;
    }
    return 0;
}

static int parse_bool(const char *text, int *out)
{
    static const char *const truths[] = {"true", "on", "up", "enabled", "yes", "1"};
    static const char *const falsehoods[] = {"false", "off", "down", "disabled", "no", "0"};
    for (size_t i = 0; i < COUNT_OF(truths); i++) {
        if (strcasecmp(text, truths[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(text, falsehoods[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* A count, or an error name the query answers instead; a plain number is always a count. */
static int parse_counter(const char *text, struct fake_counter *out)
{
    struct fake_counter counter = {1, NVML_SUCCESS, 0};
    if (parse_unsigned(text, ULLONG_MAX, &counter.value) != 0 && parse_return_code(text, &counter.error) != 0) {
        return -1;
    }
    *out = counter;
    return 0;
}

/* "none", or comma-separated "address" / "address@timestamp_us" (u64 each). */
static int parse_page_list(const char *text, struct fake_page_list *out, const char *where, const char *name,
                           char error[FAKE_ERROR_TEXT])
{
    struct fake_page_list list;
    list.count = 0;
    if (strcasecmp(text, "none") == 0) {
        *out = list;
        return 0;
    }
    char *copy = strdup(text);
    if (copy == NULL) {
        return fail(error, "%s: out of memory", where);
    }
    int result = 0;
    char *cursor = NULL;
    for (char *item = strtok_r(copy, ",", &cursor); item != NULL && result == 0; item = strtok_r(NULL, ",", &cursor)) {
        item = trim(item);
        char *at = strchr(item, '@');
        unsigned long long timestamp = 0;
        if (at != NULL) {
            *at = '\0';
            if (parse_unsigned(trim(at + 1), ULLONG_MAX, &timestamp) != 0) {
                result = -1;
                break;
            }
        }
        if (list.count == FAKE_MAX_RETIRED_PAGES) {
            free(copy);
            return fail(error, "%s: %s lists more than %d pages", where, name, FAKE_MAX_RETIRED_PAGES);
        }
        if (parse_unsigned(trim(item), ULLONG_MAX, &list.address[list.count]) != 0) {
            result = -1;
            break;
        }
        list.timestamp_us[list.count++] = timestamp;
    }
    free(copy);
    if (result != 0 || list.count == 0) {
        return fail(error, "%s: %s must be 'none' or addresses like 0x3c2a1000@1714560000000000, not '%s'", where,
                    name, text);
    }
    *out = list;
    return 0;
}

static int parse_enum(const char *text, const char *const *names, unsigned int *out)
{
    unsigned long long number;
    if (parse_unsigned(text, UINT_MAX, &number) == 0) {
        *out = (unsigned int)number;
        return 0;
    }
    for (unsigned int i = 0; names[i] != NULL; i++) {
        if (strcasecmp(names[i], text) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

static int parse_uuid(const char *text, unsigned char out[NVML_GPU_FABRIC_UUID_LEN])
{
    unsigned char bytes[NVML_GPU_FABRIC_UUID_LEN];
    unsigned int digits = 0;
    for (size_t i = 0; text[i] != '\0'; i++) {
        int dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_here != (text[i] == '-')) {
            return -1;
        }
        if (dash_here) {
            continue;
        }
        if (!isxdigit((unsigned char)text[i]) || digits == 2 * NVML_GPU_FABRIC_UUID_LEN) {
            return -1;
        }
        int nibble = hex_value(text[i]);
        bytes[digits / 2] = (unsigned char)(digits % 2 == 0 ? nibble << 4 : (bytes[digits / 2] | nibble));
        digits++;
    }
    if (digits != 2 * NVML_GPU_FABRIC_UUID_LEN) {
        return -1;
    }
    memcpy(out, bytes, sizeof(bytes));
    return 0;
}

static void list_names(const char *const *names, char *out, size_t size)
{
    out[0] = '\0';
    for (unsigned int i = 0; names[i] != NULL; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i == 0 ? "" : ", ", names[i]);
    }
}

/* Stores value into the field key describes; `label` names the key in messages. */
static int store_value(const struct key_spec *key, const char *label, void *base, const char *value,
                       const char *where, char error[FAKE_ERROR_TEXT])
{
    char *field = (char *)base + key->offset;
    unsigned long long number;
    switch (key->kind) {
    case KIND_STRING:
        if (strlen(value) >= key->size) {
            return fail(error, "%s: %s is %zu bytes long; NVML's buffer holds at most %zu", where, label,
                        strlen(value), key->size - 1);
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case KIND_INT:
        if (parse_int(value, (int *)(void *)field) != 0) {
            return fail(error, "%s: %s must be a decimal integer, not '%s'", where, label, value);
        }
        return 0;
    case KIND_UINT:
        if (parse_unsigned(value, UINT_MAX, &number) != 0) {
            return fail(error, "%s: %s must be an unsigned 32-bit number (decimal or 0x hex), not '%s'", where,
                        label, value);
        }
        *(unsigned int *)(void *)field = (unsigned int)number;
        return 0;
    case KIND_U64:
        if (parse_unsigned(value, ULLONG_MAX, &number) != 0) {
            return fail(error, "%s: %s must be an unsigned 64-bit number (decimal or 0x hex), not '%s'", where,
                        label, value);
        }
        *(unsigned long long *)(void *)field = number;
        return 0;
    case KIND_RETURN_CODE:
        if (parse_return_code(value, (nvmlReturn_t *)(void *)field) != 0) {
            return fail(error, "%s: %s must be an NVML error name such as GPU_IS_LOST, not '%s'", where,
                        label, value);
        }
        return 0;
    case KIND_PCI_ADDRESS: {
        unsigned int function;
        if (fake_pci_address_parse(value, (struct fake_pci_address *)(void *)field, &function) != 0
            || function != 0) {
            return fail(error, "%s: %s must look like 00000000:18:00.0, not '%s'", where, label, value);
        }
        return 0;
    }
    case KIND_BOOL:
        if (parse_bool(value, (int *)(void *)field) != 0) {
            return fail(error, "%s: %s must be true or false (on/off, up/down), not '%s'", where, label, value);
        }
        return 0;
    case KIND_COUNTER:
        if (parse_counter(value, (struct fake_counter *)(void *)field) != 0) {
            return fail(error, "%s: %s must be a count or an NVML error name such as NOT_SUPPORTED, not '%s'",
                        where, label, value);
        }
        return 0;
    case KIND_PAGE_LIST:
        return parse_page_list(value, (struct fake_page_list *)(void *)field, where, label, error);
    case KIND_ENUM:
        if (parse_enum(value, key->names, (unsigned int *)(void *)field) != 0) {
            char names[256];
            list_names(key->names, names, sizeof(names));
            return fail(error, "%s: %s must be one of %s or a number, not '%s'", where, label, names, value);
        }
        return 0;
    case KIND_UUID:
        if (parse_uuid(value, (unsigned char *)field) != 0) {
            return fail(error, "%s: %s must look like 4a0a2c5e-6d55-4bd4-9a3c-0f1e2d3c4b5a, not '%s'", where, label,
                        value);
        }
        return 0;
    }
    return fail(error, "%s: %s has no parser", where, label);
}

static const struct key_spec *find_key(const struct key_spec *keys, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(keys[i].name, name) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

static int find_function(const char *name)
{
    for (int i = 0; i < FAKE_FN_COUNT; i++) {
        if (strcmp(function_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

/* `fail.<function> = <ERROR>`; an unknown function warns like an unknown key. */
static int store_fault(fake_faults faults, const char *function, const char *key, const char *value,
                       const char *where, char error[FAKE_ERROR_TEXT])
{
    int id = find_function(function);
    if (id < 0) {
        fake_log("%s: warning: unknown NVML function '%s' in key '%s' (ignored)", where,
                function, key);
        return 0;
    }
    if (parse_return_code(value, &faults[id]) != 0) {
        return fail(error, "%s: %s must be an NVML error name such as GPU_IS_LOST, not '%s'", where, key, value);
    }
    return 0;
}

/* `hang.<function> = <ms>`; an unknown function warns like an unknown key. */
static int store_hang(fake_hangs hangs, const char *function, const char *key, const char *value, const char *where,
                      char error[FAKE_ERROR_TEXT])
{
    int id = find_function(function);
    if (id < 0) {
        fake_log("%s: warning: unknown NVML function '%s' in key '%s' (ignored)", where, function, key);
        return 0;
    }
    unsigned long long ms;
    if (parse_unsigned(value, UINT_MAX, &ms) != 0) {
        return fail(error, "%s: %s must be milliseconds (an unsigned 32-bit number), not '%s'", where, key, value);
    }
    hangs[id] = (unsigned int)ms;
    return 0;
}

/* Reads a decimal number of at most max_digits digits without leading zeros; advances *cursor. */
static int parse_index(const char **cursor, unsigned int max_digits, unsigned long long *out)
{
    const char *p = *cursor;
    unsigned long long value = 0;
    unsigned int digits = 0;
    while (isdigit((unsigned char)*p)) {
        if (++digits > max_digits) {
            return -1;
        }
        value = value * 10 + (unsigned long long)(*p++ - '0');
    }
    if (digits == 0 || (digits > 1 && **cursor == '0')) {
        return -1;
    }
    *cursor = p;
    *out = value;
    return 0;
}

/* `nvlink.<link>.<key>` of one GPU: 0 stored, 1 not an NVLink key, -1 error. */
static int store_nvlink(struct fake_gpu *gpu, const char *rest, const char *key, const char *value,
                        const char *where, char error[FAKE_ERROR_TEXT])
{
    const char *p = rest + 7;
    unsigned long long link;
    if (parse_index(&p, 2, &link) != 0 || *p != '.' || link >= NVML_NVLINK_MAX_LINKS) {
        return fail(error, "%s: '%s' is not gpu.<index>.nvlink.<link 0..%d>.<key>", where, key,
                    NVML_NVLINK_MAX_LINKS - 1);
    }
    const struct key_spec *spec = find_key(nvlink_keys, COUNT_OF(nvlink_keys), p + 1);
    if (spec == NULL) {
        return 1;
    }
    gpu->nvlinks[link].declared = 1;
    return store_value(spec, key, &gpu->nvlinks[link], value, where, error);
}

static int parse_event_type(const char *text, unsigned long long *out)
{
    for (size_t i = 0; i < COUNT_OF(event_type_names); i++) {
        if (strcasecmp(event_type_names[i].name, text) == 0) {
            *out = event_type_names[i].bit;
            return 0;
        }
    }
    return parse_unsigned(text, ULLONG_MAX, out) == 0 && *out != 0 ? 0 : -1;
}

/* `event.<id> = gpu=<index> type=<name> [data=<n>] [gi=<n>] [ci=<n>]` */
static int store_event(struct fake_state *state, const char *id_text, const char *key, const char *value,
                       const char *where, char error[FAKE_ERROR_TEXT])
{
    const char *p = id_text;
    unsigned long long id;
    if (parse_index(&p, 10, &id) != 0 || *p != '\0' || id > UINT_MAX) {
        return fail(error, "%s: '%s' is not event.<id> with an id of 0..%u", where, key, UINT_MAX);
    }
    if (state->event_count == FAKE_MAX_EVENTS) {
        return fail(error, "%s: more than %d events in one state file", where, FAKE_MAX_EVENTS);
    }
    struct fake_event event = {(unsigned int)id, 0, 0, 0, 0xFFFFFFFFu, 0xFFFFFFFFu};
    int have_gpu = 0;
    char *copy = strdup(value);
    if (copy == NULL) {
        return fail(error, "%s: out of memory", where);
    }
    const char *bad = NULL;
    char *cursor = NULL;
    for (char *token = strtok_r(copy, " \t", &cursor); token != NULL && bad == NULL;
         token = strtok_r(NULL, " \t", &cursor)) {
        char *equals = strchr(token, '=');
        unsigned long long number = 0;
        if (equals == NULL) {
            bad = "a word that is not name=value";
            break;
        }
        *equals = '\0';
        const char *field = token;
        const char *text = equals + 1;
        if (strcmp(field, "type") == 0) {
            if (parse_event_type(text, &event.type) != 0) {
                bad = "type=<xid, double_bit_ecc, ... or a bit mask>";
            }
        } else if (strcmp(field, "gpu") == 0 || strcmp(field, "gi") == 0 || strcmp(field, "ci") == 0) {
            if (parse_unsigned(text, UINT_MAX, &number) != 0) {
                bad = "gpu=, gi= and ci= take an unsigned 32-bit number";
            } else if (field[0] == 'g' && field[1] == 'p') {
                event.gpu = (unsigned int)number;
                have_gpu = 1;
            } else if (field[0] == 'g') {
                event.gpu_instance_id = (unsigned int)number;
            } else {
                event.compute_instance_id = (unsigned int)number;
            }
        } else if (strcmp(field, "data") == 0) {
            if (parse_unsigned(text, ULLONG_MAX, &event.data) != 0) {
                bad = "data=<unsigned 64-bit number>";
            }
        } else {
            bad = "a name other than gpu, type, data, gi, ci";
        }
    }
    free(copy);
    if (bad == NULL && (!have_gpu || event.type == 0)) {
        bad = "no gpu= or no type=";
    }
    if (bad != NULL) {
        return fail(error, "%s: %s must look like 'gpu=3 type=xid data=79 [gi=1 ci=0]' (%s): '%s'", where, key, bad,
                    value);
    }
    state->events[state->event_count++] = event;
    return 0;
}

/* `gpu.<i>.fail_field.<id> = <error>` */
static int store_field_fault(struct fake_gpu *gpu, const char *id_text, const char *key, const char *value,
                             const char *where, char error[FAKE_ERROR_TEXT])
{
    const char *p = id_text;
    unsigned long long id;
    if (parse_index(&p, 10, &id) != 0 || *p != '\0' || id > UINT_MAX) {
        return fail(error, "%s: '%s' is not gpu.<index>.fail_field.<field id>", where, key);
    }
    if (gpu->field_fault_count == FAKE_MAX_FIELD_FAULTS) {
        return fail(error, "%s: more than %d fail_field keys for one GPU", where, FAKE_MAX_FIELD_FAULTS);
    }
    struct fake_field_fault *fault = &gpu->field_faults[gpu->field_fault_count];
    if (parse_return_code(value, &fault->error) != 0) {
        return fail(error, "%s: %s must be an NVML error name such as GPU_IS_LOST, not '%s'", where, key, value);
    }
    fault->field_id = (unsigned int)id;
    gpu->field_fault_count++;
    return 0;
}

/* Splits "gpu.<index>.<rest>"; returns -1 (with error set) for a malformed or out-of-range index. */
static int split_gpu_key(const char *key, unsigned int *index, const char **rest, const char *where,
                         char error[FAKE_ERROR_TEXT])
{
    const char *p = key + 4;
    unsigned int value = 0;
    unsigned int digits = 0;
    while (isdigit((unsigned char)*p)) {
        value = value * 10 + (unsigned int)(*p++ - '0');
        if (++digits > 3) {
            break;
        }
    }
    if (digits == 0 || *p != '.' || p[1] == '\0') {
        return fail(error, "%s: '%s' is not gpu.<index>.<key>", where, key);
    }
    if (value >= FAKE_MAX_GPUS || (digits > 1 && key[4] == '0')) {
        return fail(error, "%s: GPU index in '%s' must be 0..%d without leading zeros", where, key,
                    FAKE_MAX_GPUS - 1);
    }
    *index = value;
    *rest = p + 1;
    return 0;
}

static int apply_line(struct fake_state *state, char *key, const char *value, const char *where,
                      char error[FAKE_ERROR_TEXT])
{
    if (strncmp(key, "gpu.", 4) == 0) {
        unsigned int index = 0;
        const char *rest = "";
        if (split_gpu_key(key, &index, &rest, where, error) != 0) {
            return -1;
        }
        struct fake_gpu *gpu = &state->gpus[index];
        gpu->declared = 1;
        if (strncmp(rest, "fail.", 5) == 0) {
            return store_fault(gpu->faults, rest + 5, key, value, where, error);
        }
        if (strncmp(rest, "hang.", 5) == 0) {
            return store_hang(gpu->hangs, rest + 5, key, value, where, error);
        }
        if (strncmp(rest, "fail_field.", 11) == 0) {
            return store_field_fault(gpu, rest + 11, key, value, where, error);
        }
        if (strncmp(rest, "nvlink.", 7) == 0) {
            int stored = store_nvlink(gpu, rest, key, value, where, error);
            if (stored <= 0) {
                return stored;
            }
        } else {
            const struct key_spec *spec = find_key(gpu_keys, COUNT_OF(gpu_keys), rest);
            if (spec != NULL) {
                return store_value(spec, spec->name, gpu, value, where, error);
            }
        }
    } else if (strncmp(key, "fail.", 5) == 0) {
        return store_fault(state->system.faults, key + 5, key, value, where, error);
    } else if (strncmp(key, "hang.", 5) == 0) {
        return store_hang(state->system.hangs, key + 5, key, value, where, error);
    } else if (strncmp(key, "event.", 6) == 0) {
        return store_event(state, key + 6, key, value, where, error);
    } else {
        const struct key_spec *spec = find_key(system_keys, COUNT_OF(system_keys), key);
        if (spec != NULL) {
            return store_value(spec, spec->name, &state->system, value, where, error);
        }
    }
    fake_log("%s: warning: unknown key '%s' (ignored)", where, key);
    return 0;
}

static int same_pci_address(const struct fake_pci_address *a, const struct fake_pci_address *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->device == b->device;
}

static int compare_events(const void *a, const void *b)
{
    unsigned int left = ((const struct fake_event *)a)->id;
    unsigned int right = ((const struct fake_event *)b)->id;
    return (left > right) - (left < right);
}

/* One GPU's cross-key rules, and the values that default to other values. */
static int validate_gpu(struct fake_gpu *gpu, unsigned int index, const char *origin, char error[FAKE_ERROR_TEXT])
{
    if (gpu->ecc_pending < 0) {
        gpu->ecc_pending = gpu->ecc_current;
    }
    for (unsigned int c = 0; c < NVML_ECC_COUNTER_TYPE_COUNT; c++) {
        for (unsigned int t = 0; t < NVML_MEMORY_ERROR_TYPE_COUNT; t++) {
            struct fake_counter *total = &gpu->ecc[c][t][FAKE_ECC_TOTAL];
            if (!total->set) {
                total->value = 0;
                for (unsigned int location = 0; location < NVML_MEMORY_LOCATION_COUNT; location++) {
                    const struct fake_counter *counter = &gpu->ecc[c][t][location];
                    total->value += counter->error == NVML_SUCCESS ? counter->value : 0;
                }
            }
        }
    }
    if (gpu->pstate > 15 && gpu->pstate != NVML_PSTATE_UNKNOWN) {
        return fail(error, "%s: gpu.%u: pstate must be 0..15 or 32 (unknown), not %u", origin, index, gpu->pstate);
    }
    if (gpu->fabric_state > 0xFF || gpu->fabric_health_summary > 0xFF) {
        return fail(error, "%s: gpu.%u: fabric_state and fabric_health_summary are one byte in NVML", origin, index);
    }
    if (gpu->fabric_info_max_version < 2 || gpu->fabric_info_max_version > 3) {
        return fail(error, "%s: gpu.%u: fabric_info_max_version must be 2 or 3", origin, index);
    }
    if (gpu->nvlink_count > NVML_NVLINK_MAX_LINKS) {
        return fail(error, "%s: gpu.%u: nvlink_link_count must be 0..%d", origin, index, NVML_NVLINK_MAX_LINKS);
    }
    for (unsigned int link = gpu->nvlink_count; link < NVML_NVLINK_MAX_LINKS; link++) {
        if (gpu->nvlinks[link].declared) {
            return fail(error, "%s: gpu.%u.nvlink.%u.* is set, but nvlink_link_count is %u", origin, index, link,
                        gpu->nvlink_count);
        }
    }
    return 0;
}

/* Whole-state rules that no single line can check. */
static int validate(struct fake_state *state, const char *origin, char error[FAKE_ERROR_TEXT])
{
    unsigned int count = 0;
    for (unsigned int i = 0; i < FAKE_MAX_GPUS; i++) {
        if (state->gpus[i].declared) {
            count = i + 1;
        }
    }
    for (unsigned int i = 0; i < count; i++) {
        const struct fake_gpu *gpu = &state->gpus[i];
        if (!gpu->declared) {
            return fail(error, "%s: GPU indexes must run from 0 without gaps, but gpu.%u has no keys while gpu.%u has",
                        origin, i, count - 1);
        }
        if (gpu->memory_reserved_bytes > gpu->memory_total_bytes
            || gpu->memory_used_bytes > gpu->memory_total_bytes - gpu->memory_reserved_bytes) {
            return fail(error, "%s: gpu.%u: memory_reserved_bytes + memory_used_bytes exceed memory_total_bytes",
                        origin, i);
        }
        if (validate_gpu(&state->gpus[i], i, origin, error) != 0) {
            return -1;
        }
        for (unsigned int j = 0; j < i; j++) {
            if (strcmp(gpu->uuid, state->gpus[j].uuid) == 0) {
                return fail(error, "%s: gpu.%u and gpu.%u share the uuid %s", origin, j, i, gpu->uuid);
            }
            if (same_pci_address(&gpu->pci, &state->gpus[j].pci)) {
                return fail(error, "%s: gpu.%u and gpu.%u share a pci_bus_id", origin, j, i);
            }
        }
    }
    state->gpu_count = count;
    qsort(state->events, state->event_count, sizeof(state->events[0]), compare_events);
    for (unsigned int i = 0; i < state->event_count; i++) {
        const struct fake_event *event = &state->events[i];
        if (i > 0 && event->id == state->events[i - 1].id) {
            return fail(error, "%s: event.%u is set twice", origin, event->id);
        }
        if (event->gpu >= count) {
            return fail(error, "%s: event.%u names gpu=%u, but the state has %u GPUs", origin, event->id, event->gpu,
                        count);
        }
    }
    return 0;
}

struct seen_keys {
    char **keys;
    size_t count;
    size_t capacity;
};

/* Returns 1 if key was already seen, 0 after remembering it, -1 when out of memory. */
static int remember_key(struct seen_keys *seen, char *key)
{
    for (size_t i = 0; i < seen->count; i++) {
        if (strcmp(seen->keys[i], key) == 0) {
            return 1;
        }
    }
    if (seen->count == seen->capacity) {
        size_t capacity = seen->capacity == 0 ? 64 : seen->capacity * 2;
        char **grown = realloc(seen->keys, capacity * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        seen->keys = grown;
        seen->capacity = capacity;
    }
    seen->keys[seen->count++] = key;
    return 0;
}

int fake_state_parse(const char *origin, const char *text, struct fake_state *out, char error[FAKE_ERROR_TEXT])
{
    char *copy = strdup(text);
    if (copy == NULL) {
        return fail(error, "%s: out of memory", origin);
    }
    set_defaults(out);
    struct seen_keys seen = {NULL, 0, 0};
    int result = 0;
    char *line = copy;
    if (strncmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3; /* a UTF-8 byte order mark some editors write */
    }
    for (unsigned int number = 1; line != NULL && result == 0; number++) {
        char *next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        char where[FAKE_ERROR_TEXT / 2];
        snprintf(where, sizeof(where), "%s:%u", origin, number);
        char *content = trim(line);
        line = next;
        if (*content == '\0' || *content == '#') {
            continue;
        }
        char *equals = strchr(content, '=');
        if (equals == NULL) {
            result = fail(error, "%s: expected 'key = value', got '%s'", where, content);
            break;
        }
        *equals = '\0';
        char *key = trim(content);
        char *value = trim(equals + 1);
        if (*key == '\0') {
            result = fail(error, "%s: missing key before '='", where);
            break;
        }
        int duplicate = remember_key(&seen, key);
        if (duplicate != 0) {
            result = duplicate < 0 ? fail(error, "%s: out of memory", where)
                                   : fail(error, "%s: key '%s' is set twice", where, key);
            break;
        }
        result = apply_line(out, key, value, where, error);
    }
    if (result == 0) {
        result = validate(out, origin, error);
    }
    free(seen.keys);
    free(copy);
    return result;
}

enum fake_load_result fake_state_load(const char *path, struct fake_state *out, char error[FAKE_ERROR_TEXT])
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fail(error, "%s: cannot open: %s", path, strerror(errno));
        return FAKE_LOAD_UNREADABLE;
    }
    struct stat info;
    if (fstat(fileno(file), &info) != 0 || !S_ISREG(info.st_mode)) {
        fclose(file);
        fail(error, "%s: not a regular file", path);
        return FAKE_LOAD_UNREADABLE;
    }
    if (info.st_size > MAX_STATE_FILE_BYTES) {
        fclose(file);
        fail(error, "%s: larger than %d bytes", path, MAX_STATE_FILE_BYTES);
        return FAKE_LOAD_INVALID;
    }
    size_t capacity = (size_t)info.st_size + 1;
    char *text = malloc(capacity);
    if (text == NULL) {
        fclose(file);
        fail(error, "%s: out of memory", path);
        return FAKE_LOAD_UNREADABLE;
    }
    /* One byte of slack tells a file that grew after fstat from one read whole. */
    size_t length = fread(text, 1, capacity, file);
    int read_error = ferror(file);
    fclose(file);
    enum fake_load_result result = FAKE_LOAD_OK;
    if (read_error) {
        fail(error, "%s: cannot read", path);
        result = FAKE_LOAD_UNREADABLE;
    } else if (length == capacity) {
        fail(error, "%s: changed while being read; write it to a temporary file and rename it into place", path);
        result = FAKE_LOAD_INVALID;
    } else {
        text[length] = '\0';
        if (strlen(text) != length) {
            fail(error, "%s: contains a NUL byte; a state file is UTF-8 text", path);
            result = FAKE_LOAD_INVALID;
        } else if (fake_state_parse(path, text, out, error) != 0) {
            result = FAKE_LOAD_INVALID;
        }
    }
    free(text);
    return result;
}

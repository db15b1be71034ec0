/*
 * State file parser of the fake NVML: `key = value` lines, table-driven so that a new key is one
 * row in system_keys or gpu_keys (plus a field in fake_state.h and a default below).
 */
#include "fake_state.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    KIND_PCI_ADDRESS  /* bus id, see fake_pci_address_parse */
};

struct key_spec {
    const char *name;
    enum value_kind kind;
    size_t offset;
    size_t size;
};

#define FIELD_SIZE(type, field) sizeof(((type *)0)->field)
#define SYSTEM_KEY(key, kind, field) {key, kind, offsetof(struct fake_system, field), FIELD_SIZE(struct fake_system, field)}
#define GPU_KEY(key, kind, field) {key, kind, offsetof(struct fake_gpu, field), FIELD_SIZE(struct fake_gpu, field)}

static const struct key_spec system_keys[] = {
    SYSTEM_KEY("driver_version", KIND_STRING, driver_version),
    SYSTEM_KEY("nvml_version", KIND_STRING, nvml_version),
    SYSTEM_KEY("cuda_driver_version", KIND_INT, cuda_driver_version),
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
};

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

/* Defaults describe an idle H100 SXM so that a file only needs the keys a test cares about. */
static void set_defaults(struct fake_state *state)
{
    memset(state, 0, sizeof(*state));
    snprintf(state->system.driver_version, sizeof(state->system.driver_version), "550.54.15");
    snprintf(state->system.nvml_version, sizeof(state->system.nvml_version), "12.550.54.15");
    state->system.cuda_driver_version = 12040;
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

static int store_value(const struct key_spec *key, void *base, const char *value, const char *where,
                       char error[FAKE_ERROR_TEXT])
{
    char *field = (char *)base + key->offset;
    unsigned long long number;
    switch (key->kind) {
    case KIND_STRING:
        if (strlen(value) >= key->size) {
            return fail(error, "%s: %s is %zu bytes long; NVML's buffer holds at most %zu", where, key->name,
                        strlen(value), key->size - 1);
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case KIND_INT:
        if (parse_int(value, (int *)(void *)field) != 0) {
            return fail(error, "%s: %s must be a decimal integer, not '%s'", where, key->name, value);
        }
        return 0;
    case KIND_UINT:
        if (parse_unsigned(value, UINT_MAX, &number) != 0) {
            return fail(error, "%s: %s must be an unsigned 32-bit number (decimal or 0x hex), not '%s'", where,
                        key->name, value);
        }
        *(unsigned int *)(void *)field = (unsigned int)number;
        return 0;
    case KIND_U64:
        if (parse_unsigned(value, ULLONG_MAX, &number) != 0) {
            return fail(error, "%s: %s must be an unsigned 64-bit number (decimal or 0x hex), not '%s'", where,
                        key->name, value);
        }
        *(unsigned long long *)(void *)field = number;
        return 0;
    case KIND_RETURN_CODE:
        if (parse_return_code(value, (nvmlReturn_t *)(void *)field) != 0) {
            return fail(error, "%s: %s must be an NVML error name such as GPU_IS_LOST, not '%s'", where,
                        key->name, value);
        }
        return 0;
    case KIND_PCI_ADDRESS: {
        unsigned int function;
        if (fake_pci_address_parse(value, (struct fake_pci_address *)(void *)field, &function) != 0
            || function != 0) {
            return fail(error, "%s: %s must look like 00000000:18:00.0, not '%s'", where, key->name, value);
        }
        return 0;
    }
    }
    return fail(error, "%s: %s has no parser", where, key->name);
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
        const struct key_spec *spec = find_key(gpu_keys, COUNT_OF(gpu_keys), rest);
        if (spec != NULL) {
            return store_value(spec, gpu, value, where, error);
        }
    } else if (strncmp(key, "fail.", 5) == 0) {
        return store_fault(state->system.faults, key + 5, key, value, where, error);
    } else {
        const struct key_spec *spec = find_key(system_keys, COUNT_OF(system_keys), key);
        if (spec != NULL) {
            return store_value(spec, &state->system, value, where, error);
        }
    }
    fake_log("%s: warning: unknown key '%s' (ignored)", where, key);
    return 0;
}

static int same_pci_address(const struct fake_pci_address *a, const struct fake_pci_address *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->device == b->device;
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

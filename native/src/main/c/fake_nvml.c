/*
 * A fake libnvidia-ml.so.1: the real NVML entry points, answering from a state file that is
 * re-read whenever it changes (FAKE_NVML.md). Tests and the demo load it through the same FFI
 * path as the real library.
 *
 * Every entry point takes state_lock only long enough to refresh the state and copy out what it
 * needs, then works on the copy, so a slow call never holds up the others.
 */
#include "fake_state.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Only the address matters: a handle is &device_slots[index] and stays valid across reloads. */
struct nvmlDevice_st {
    unsigned char unused;
};

static struct nvmlDevice_st device_slots[FAKE_MAX_GPUS];

/* What identifies one version of the state file; writers replace it by rename. */
struct file_identity {
    dev_t device;
    ino_t inode;
    off_t size;
    struct timespec mtime;
};

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int init_count;         /* nvmlInit* successes minus nvmlShutdown successes */
static struct fake_state *current;      /* NULL until a state file parsed */
static struct file_identity last_seen;  /* the file version last parsed, successfully or not */
static int have_seen;
static int missing_reported;

static struct file_identity identity_of(const struct stat *info)
{
    struct file_identity identity = {info->st_dev, info->st_ino, info->st_size, info->st_mtim};
    return identity;
}

static int same_identity(const struct file_identity *a, const struct file_identity *b)
{
    return a->device == b->device && a->inode == b->inode && a->size == b->size
           && a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Parses path into a fresh state and swaps it in; on failure the previous state stays. */
static enum fake_load_result load_locked(const char *path, const char *on_failure)
{
    struct fake_state *fresh = malloc(sizeof(*fresh));
    if (fresh == NULL) {
        fake_log("out of memory while reading %s%s", path, on_failure);
        return FAKE_LOAD_UNREADABLE;
    }
    char error[FAKE_ERROR_TEXT];
    enum fake_load_result result = fake_state_load(path, fresh, error);
    if (result == FAKE_LOAD_OK) {
        free(current);
        current = fresh;
    } else {
        free(fresh);
        fake_log("%s%s", error, on_failure);
    }
    return result;
}

/*
 * Re-reads the state file if it is a different version from the one last seen. A file version
 * that failed to parse is not retried, so its error prints once.
 */
static void refresh_locked(void)
{
    const char *path = getenv(FAKE_STATE_ENV);
    struct stat info;
    if (path == NULL || *path == '\0') {
        return;
    }
    if (stat(path, &info) != 0) {
        if (!missing_reported) {
            fake_log("%s: %s; keeping the previous state", path, strerror(errno));
            missing_reported = 1;
        }
        return;
    }
    missing_reported = 0;
    struct file_identity identity = identity_of(&info);
    if (have_seen && same_identity(&identity, &last_seen)) {
        return;
    }
    last_seen = identity;
    have_seen = 1;
    load_locked(path, "; keeping the previous state");
}

static nvmlReturn_t fault_for(const struct fake_gpu *gpu, const struct fake_system *system,
                              enum fake_function function)
{
    if (gpu != NULL && gpu->faults[function] != NVML_SUCCESS) {
        return gpu->faults[function];
    }
    return system->faults[function];
}

/* nvmlInit* always re-reads the state file: a missing, unreadable or invalid file is a driver that is not loaded. */
static nvmlReturn_t initialize(enum fake_function function)
{
    nvmlReturn_t result = NVML_SUCCESS;
    pthread_mutex_lock(&state_lock);
    const char *path = getenv(FAKE_STATE_ENV);
    struct stat info;
    if (path == NULL || *path == '\0') {
        fake_log("%s is not set; point it at a state file (see FAKE_NVML.md)", FAKE_STATE_ENV);
        result = NVML_ERROR_DRIVER_NOT_LOADED;
    } else if (stat(path, &info) != 0) {
        fake_log("%s=%s: %s", FAKE_STATE_ENV, path, strerror(errno));
        result = NVML_ERROR_DRIVER_NOT_LOADED;
    } else {
        last_seen = identity_of(&info);
        have_seen = 1;
        missing_reported = 0;
        if (load_locked(path, "") != FAKE_LOAD_OK) {
            result = NVML_ERROR_DRIVER_NOT_LOADED;
        } else if (current->system.init_error != NVML_SUCCESS) {
            result = current->system.init_error;
        } else if (current->system.faults[function] != NVML_SUCCESS) {
            result = current->system.faults[function];
        } else {
            init_count++;
        }
    }
    pthread_mutex_unlock(&state_lock);
    return result;
}

/* Checks initialisation and injected faults, and copies the node-wide values out. */
static nvmlReturn_t begin_system(enum fake_function function, struct fake_system *system, unsigned int *gpu_count)
{
    nvmlReturn_t result = NVML_ERROR_UNINITIALIZED;
    pthread_mutex_lock(&state_lock);
    if (init_count > 0) {
        refresh_locked();
        *system = current->system;
        *gpu_count = current->gpu_count;
        result = fault_for(NULL, system, function);
    }
    pthread_mutex_unlock(&state_lock);
    return result;
}

static int slot_index(nvmlDevice_t device, unsigned int *index)
{
    uintptr_t base = (uintptr_t)device_slots;
    uintptr_t address = (uintptr_t)device;
    if (address < base || address >= base + sizeof(device_slots)
        || (address - base) % sizeof(device_slots[0]) != 0) {
        return -1;
    }
    *index = (unsigned int)((address - base) / sizeof(device_slots[0]));
    return 0;
}

/* Checks initialisation, the handle and injected faults, and copies the GPU's values out. */
static nvmlReturn_t begin_device(enum fake_function function, nvmlDevice_t device, struct fake_gpu *gpu,
                                 unsigned int *index)
{
    nvmlReturn_t result = NVML_ERROR_UNINITIALIZED;
    pthread_mutex_lock(&state_lock);
    if (init_count > 0) {
        refresh_locked();
        if (slot_index(device, index) != 0 || *index >= current->gpu_count) {
            result = NVML_ERROR_INVALID_ARGUMENT;
        } else {
            *gpu = current->gpus[*index];
            result = fault_for(gpu, &current->system, function);
        }
    }
    pthread_mutex_unlock(&state_lock);
    return result;
}

typedef int (*gpu_matcher)(const struct fake_gpu *gpu, unsigned int index, const void *wanted);

/* Finds the GPU a lookup names; `missing` is what a lookup that matches nothing returns. */
static nvmlReturn_t find_device(enum fake_function function, gpu_matcher matches, const void *wanted,
                                nvmlReturn_t missing, nvmlDevice_t *device)
{
    nvmlReturn_t result = NVML_ERROR_UNINITIALIZED;
    pthread_mutex_lock(&state_lock);
    if (init_count > 0) {
        refresh_locked();
        result = missing;
        for (unsigned int i = 0; i < current->gpu_count; i++) {
            if (matches(&current->gpus[i], i, wanted)) {
                result = fault_for(&current->gpus[i], &current->system, function);
                if (result == NVML_SUCCESS) {
                    *device = &device_slots[i];
                }
                break;
            }
        }
    }
    pthread_mutex_unlock(&state_lock);
    return result;
}

static int is_initialized(void)
{
    pthread_mutex_lock(&state_lock);
    int initialized = init_count > 0;
    pthread_mutex_unlock(&state_lock);
    return initialized;
}

static nvmlReturn_t copy_string(const char *value, char *buffer, unsigned int length)
{
    if (buffer == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    size_t needed = strlen(value) + 1;
    if (length < needed) {
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    memcpy(buffer, value, needed);
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlInit_v2(void)
{
    return initialize(FAKE_FN_nvmlInit_v2);
}

NVML_API nvmlReturn_t nvmlInit(void)
{
    return initialize(FAKE_FN_nvmlInit);
}

/* The flags change nothing here: a state with no GPUs initialises either way. */
NVML_API nvmlReturn_t nvmlInitWithFlags(unsigned int flags)
{
    (void)flags;
    return initialize(FAKE_FN_nvmlInitWithFlags);
}

NVML_API nvmlReturn_t nvmlShutdown(void)
{
    nvmlReturn_t result = NVML_ERROR_UNINITIALIZED;
    pthread_mutex_lock(&state_lock);
    if (init_count > 0) {
        refresh_locked();
        result = current->system.faults[FAKE_FN_nvmlShutdown];
        if (result == NVML_SUCCESS) {
            init_count--;
        }
    }
    pthread_mutex_unlock(&state_lock);
    return result;
}

NVML_API const char *nvmlErrorString(nvmlReturn_t result)
{
    return fake_return_message(result);
}

NVML_API nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    struct fake_system system;
    unsigned int count;
    nvmlReturn_t result = begin_system(FAKE_FN_nvmlSystemGetDriverVersion, &system, &count);
    return result != NVML_SUCCESS ? result : copy_string(system.driver_version, version, length);
}

NVML_API nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{
    struct fake_system system;
    unsigned int count;
    nvmlReturn_t result = begin_system(FAKE_FN_nvmlSystemGetNVMLVersion, &system, &count);
    return result != NVML_SUCCESS ? result : copy_string(system.nvml_version, version, length);
}

static nvmlReturn_t cuda_driver_version(enum fake_function function, int *version)
{
    struct fake_system system;
    unsigned int count;
    nvmlReturn_t result = begin_system(function, &system, &count);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (version == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *version = system.cuda_driver_version;
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *cudaDriverVersion)
{
    return cuda_driver_version(FAKE_FN_nvmlSystemGetCudaDriverVersion, cudaDriverVersion);
}

NVML_API nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion)
{
    return cuda_driver_version(FAKE_FN_nvmlSystemGetCudaDriverVersion_v2, cudaDriverVersion);
}

NVML_API nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount)
{
    struct fake_system system;
    unsigned int count;
    nvmlReturn_t result = begin_system(FAKE_FN_nvmlDeviceGetCount_v2, &system, &count);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (deviceCount == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *deviceCount = count;
    return NVML_SUCCESS;
}

static int has_index(const struct fake_gpu *gpu, unsigned int index, const void *wanted)
{
    (void)gpu;
    return index == *(const unsigned int *)wanted;
}

static int has_uuid(const struct fake_gpu *gpu, unsigned int index, const void *wanted)
{
    (void)index;
    return strcmp(gpu->uuid, (const char *)wanted) == 0;
}

static int has_pci_address(const struct fake_gpu *gpu, unsigned int index, const void *wanted)
{
    const struct fake_pci_address *address = wanted;
    (void)index;
    return gpu->pci.domain == address->domain && gpu->pci.bus == address->bus && gpu->pci.device == address->device;
}

NVML_API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    if (device == NULL) {
        return is_initialized() ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    }
    return find_device(FAKE_FN_nvmlDeviceGetHandleByIndex_v2, has_index, &index, NVML_ERROR_INVALID_ARGUMENT,
                       device);
}

NVML_API nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device)
{
    if (uuid == NULL || device == NULL) {
        return is_initialized() ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    }
    return find_device(FAKE_FN_nvmlDeviceGetHandleByUUID, has_uuid, uuid, NVML_ERROR_NOT_FOUND, device);
}

NVML_API nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *pciBusId, nvmlDevice_t *device)
{
    struct fake_pci_address address;
    if (pciBusId == NULL || device == NULL || fake_pci_address_parse(pciBusId, &address, NULL) != 0) {
        return is_initialized() ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    }
    return find_device(FAKE_FN_nvmlDeviceGetHandleByPciBusId_v2, has_pci_address, &address, NVML_ERROR_NOT_FOUND,
                       device);
}

NVML_API nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int *index)
{
    struct fake_gpu gpu;
    unsigned int slot;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetIndex, device, &gpu, &slot);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (index == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *index = slot;
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetName, device, &gpu, &index);
    return result != NVML_SUCCESS ? result : copy_string(gpu.name, name, length);
}

NVML_API nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetUUID, device, &gpu, &index);
    return result != NVML_SUCCESS ? result : copy_string(gpu.uuid, uuid, length);
}

NVML_API nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned int length)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetSerial, device, &gpu, &index);
    return result != NVML_SUCCESS ? result : copy_string(gpu.serial, serial, length);
}

NVML_API nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetPciInfo_v3, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (pci == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    memset(pci, 0, sizeof(*pci));
    /* The legacy field keeps only the low 16 bits of the domain, as its four-digit format implies. */
    snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), NVML_DEVICE_PCI_BUS_ID_LEGACY_FMT,
             gpu.pci.domain & 0xFFFFu, gpu.pci.bus & 0xFFu, gpu.pci.device & 0xFFu);
    snprintf(pci->busId, sizeof(pci->busId), NVML_DEVICE_PCI_BUS_ID_FMT, gpu.pci.domain, gpu.pci.bus & 0xFFu,
             gpu.pci.device & 0xFFu);
    pci->domain = gpu.pci.domain;
    pci->bus = gpu.pci.bus;
    pci->device = gpu.pci.device;
    pci->pciDeviceId = gpu.pci_device_id;
    pci->pciSubSystemId = gpu.pci_subsystem_id;
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensorType,
                                               unsigned int *temp)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetTemperature, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (temp == NULL || sensorType != NVML_TEMPERATURE_GPU) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *temp = (unsigned int)gpu.temperature_c;
    return NVML_SUCCESS;
}

/* The legacy build imitates a driver from before these versioned calls existed. */
#ifndef FAKE_NVML_LEGACY
NVML_API nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device, nvmlTemperature_t *temperature)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetTemperatureV, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (temperature == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (temperature->version != nvmlTemperature_v1) {
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    }
    if (temperature->sensorType != NVML_TEMPERATURE_GPU) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    temperature->temperature = gpu.temperature_c;
    return NVML_SUCCESS;
}
#endif

static nvmlReturn_t unsigned_value(enum fake_function function, nvmlDevice_t device, size_t offset,
                                   unsigned int *out)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(function, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (out == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    memcpy(out, (const char *)&gpu + offset, sizeof(*out));
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power)
{
    return unsigned_value(FAKE_FN_nvmlDeviceGetPowerUsage, device, offsetof(struct fake_gpu, power_mw), power);
}

NVML_API nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit)
{
    return unsigned_value(FAKE_FN_nvmlDeviceGetEnforcedPowerLimit, device, offsetof(struct fake_gpu, power_limit_mw),
                          limit);
}

NVML_API nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetUtilizationRates, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (utilization == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    utilization->gpu = gpu.utilization_gpu;
    utilization->memory = gpu.utilization_memory;
    return NVML_SUCCESS;
}

/* v1 predates the reserved figure: its `used` counts reserved memory too. */
NVML_API nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetMemoryInfo, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (memory == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    memory->total = gpu.memory_total_bytes;
    memory->used = gpu.memory_reserved_bytes + gpu.memory_used_bytes;
    memory->free = gpu.memory_total_bytes - memory->used;
    return NVML_SUCCESS;
}

#ifndef FAKE_NVML_LEGACY
NVML_API nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetMemoryInfo_v2, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (memory == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (memory->version != nvmlMemory_v2) {
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    }
    memory->total = gpu.memory_total_bytes;
    memory->reserved = gpu.memory_reserved_bytes;
    memory->used = gpu.memory_used_bytes;
    memory->free = gpu.memory_total_bytes - gpu.memory_reserved_bytes - gpu.memory_used_bytes;
    return NVML_SUCCESS;
}
#endif

NVML_API nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *clock)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetClockInfo, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (clock == NULL || (unsigned int)type >= NVML_CLOCK_COUNT) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *clock = gpu.clock_mhz[type];
    return NVML_SUCCESS;
}

/*
 * A fake libnvidia-ml.so.1: the real NVML entry points, answering from a state file that is
 * re-read whenever it changes (FAKE_NVML.md). Tests and the demo load it through the same FFI
 * path as the real library.
 *
 * Every entry point takes state_lock only long enough to refresh the state and copy out what it
 * needs, then works on the copy, so a slow call never holds up the others. Injected hangs sleep
 * with the lock released and re-read the state every FAKE_POLL_NS, so a hang ends early when its
 * key goes. nvmlEventSetWait_v2 blocks, like the real driver's, until the state file's directory
 * changes (inotify, one watch per event set), re-checking at least every FAKE_EVENT_RECHECK_MS; where inotify is not
 * available it falls back to polling every FAKE_POLL_NS.
 */
#include "fake_state.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAKE_POLL_NS (5 * 1000 * 1000LL)
/* A waiting event set re-reads the state at least this often even when inotify reports nothing. */
#define FAKE_EVENT_RECHECK_MS 1000

/* Only the address matters: a handle is &device_slots[index] and stays valid across reloads. */
struct nvmlDevice_st {
    unsigned char unused;
};

static struct nvmlDevice_st device_slots[FAKE_MAX_GPUS];

/*
 * An event set: the event types registered per state-file GPU index, and where its delivery
 * stands. Live sets are kept in a list so that a stale or foreign handle is refused, not followed.
 */
struct nvmlEventSet_st {
    struct nvmlEventSet_st *next;
    unsigned long long registered[FAKE_MAX_GPUS];
    int delivered_any;              /* or the file held events when the set was created */
    unsigned int last_delivered_id; /* only larger ids are delivered; starts at the largest id present at creation */
    int watch;                      /* inotify on the state file's directory, or -1: waits then poll */
};

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
static struct nvmlEventSet_st *event_sets;      /* live sets */

static long long monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static long long realtime_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000;
}

/* Sleeps one poll interval, or less if the deadline is nearer; returns 0 once the deadline has passed. */
static int sleep_until(long long deadline_ns)
{
    long long remaining = deadline_ns - monotonic_ns();
    if (remaining <= 0) {
        return 0;
    }
    long long slice = remaining < FAKE_POLL_NS ? remaining : FAKE_POLL_NS;
    struct timespec pause = {(time_t)(slice / 1000000000LL), (long)(slice % 1000000000LL)};
    nanosleep(&pause, NULL); /* an EINTR just means an earlier re-check */
    return 1;
}

/*
 * Watches the directory of the state file for the changes a writer makes (in place or by rename).
 * Returns an inotify descriptor, or -1 when inotify cannot be used (the caller then polls).
 */
static int watch_state_directory(void)
{
    const char *path = getenv(FAKE_STATE_ENV);
    if (path == NULL || *path == '\0') {
        return -1;
    }
    char directory[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(directory, ".");
    } else if (slash == path) {
        strcpy(directory, "/");
    } else {
        size_t length = (size_t)(slash - path);
        if (length >= sizeof(directory)) {
            return -1;
        }
        memcpy(directory, path, length);
        directory[length] = '\0';
    }
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    uint32_t mask = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;
    if (inotify_add_watch(fd, directory, mask) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Blocks until the watched directory changes, FAKE_EVENT_RECHECK_MS pass or the deadline comes,
 * whichever is first (without a watch, one poll interval); returns 0 once the deadline has passed.
 */
static int wait_for_change(int watch, long long deadline_ns)
{
    if (watch < 0) {
        return sleep_until(deadline_ns);
    }
    long long remaining = deadline_ns - monotonic_ns();
    if (remaining <= 0) {
        return 0;
    }
    long long slice_ms = (remaining + 999999LL) / 1000000LL;
    struct pollfd ready = {watch, POLLIN, 0};
    if (poll(&ready, 1, (int)(slice_ms < FAKE_EVENT_RECHECK_MS ? slice_ms : FAKE_EVENT_RECHECK_MS)) > 0) {
        char drained[4096];
        while (read(watch, drained, sizeof(drained)) > 0) {
        }
    }
    return 1;
}

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

/* The number text starts with ("550" of "550.54.15"); 0 when it does not start with a digit. */
static unsigned long leading_number(const char *text)
{
    unsigned long number = 0;
    for (; *text >= '0' && *text <= '9' && number < 100000; text++) {
        number = number * 10 + (unsigned long)(*text - '0');
    }
    return number;
}

/*
 * The state file describes the kernel driver; this library is one profile's user-space part. A
 * state for another branch (driver_profile, or the branch in driver_version or nvml_version) is
 * what a driver upgraded without a reboot looks like, and the real nvmlInit answers that with
 * LIB_RM_VERSION_MISMATCH. Returns 1, after saying why, on a mismatch.
 */
static int profile_mismatch_locked(const char *path)
{
    const struct fake_system *system = &current->system;
    const char *dot = strchr(system->nvml_version, '.');
    unsigned long claimed = system->driver_profile;
    const char *what = "driver_profile";
    if (claimed == 0 || claimed == FAKE_NVML_PROFILE) {
        claimed = leading_number(system->driver_version);
        what = "driver_version";
    }
    if (claimed == 0 || claimed == FAKE_NVML_PROFILE) {
        claimed = dot != NULL ? leading_number(dot + 1) : 0;
        what = "nvml_version";
    }
    if (claimed == 0 || claimed == FAKE_NVML_PROFILE) {
        return 0;
    }
    fake_log("%s: %s is driver %lu, but this library is the driver %d profile (load driver-%lu/libnvidia-ml.so.1); "
             "nvmlInit returns LIB_RM_VERSION_MISMATCH", path, what, claimed, FAKE_NVML_PROFILE, claimed);
    return 1;
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
        } else if (profile_mismatch_locked(path)) {
            result = NVML_ERROR_LIB_RM_VERSION_MISMATCH;
        } else if (current->system.faults[function] != NVML_SUCCESS) {
            result = current->system.faults[function];
        } else {
            init_count++;
        }
    }
    pthread_mutex_unlock(&state_lock);
    return result;
}

/* The longest injected hang for this call: whole GPU, this function on this GPU, or node-wide. */
static unsigned int hang_for(const struct fake_gpu *gpu, const struct fake_system *system, enum fake_function function)
{
    unsigned int hang = system->hangs[function];
    if (gpu != NULL) {
        hang = gpu->hang_ms > hang ? gpu->hang_ms : hang;
        hang = gpu->hangs[function] > hang ? gpu->hangs[function] : hang;
    }
    return hang;
}

/* How many GPUs NVML shows: those that have not vanished. */
static unsigned int visible_count_locked(void)
{
    unsigned int count = 0;
    for (unsigned int slot = 0; slot < current->gpu_count; slot++) {
        count += !current->gpus[slot].vanished;
    }
    return count;
}

/* The NVML index of a GPU that has not vanished: the GPUs before it that have not vanished either. */
static unsigned int visible_index_locked(unsigned int slot)
{
    unsigned int index = 0;
    for (unsigned int before = 0; before < slot; before++) {
        index += !current->gpus[before].vanished;
    }
    return index;
}

/*
 * Checks initialisation, node-wide hangs and faults, and copies the node-wide values out.
 * gpu_count is the number of GPUs that have not vanished.
 */
static nvmlReturn_t begin_system(enum fake_function function, struct fake_system *system, unsigned int *gpu_count)
{
    long long start = monotonic_ns();
    for (;;) {
        nvmlReturn_t result = NVML_ERROR_UNINITIALIZED;
        unsigned int hang_ms = 0;
        pthread_mutex_lock(&state_lock);
        if (init_count > 0) {
            refresh_locked();
            *system = current->system;
            *gpu_count = visible_count_locked();
            hang_ms = hang_for(NULL, system, function);
            result = fault_for(NULL, system, function);
        }
        pthread_mutex_unlock(&state_lock);
        if (!sleep_until(start + hang_ms * 1000000LL)) {
            return result;
        }
    }
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

/*
 * Checks initialisation and the handle, blocks for any injected hang (re-reading the state, so
 * that the hang ends early when its key is removed), then checks lost GPUs and injected faults,
 * and copies the GPU's values out. index is the GPU's NVML index.
 */
static nvmlReturn_t begin_device(enum fake_function function, nvmlDevice_t device, struct fake_gpu *gpu,
                                 unsigned int *index)
{
    long long start = monotonic_ns();
    for (;;) {
        nvmlReturn_t result = NVML_ERROR_UNINITIALIZED;
        unsigned int hang_ms = 0;
        unsigned int slot;
        pthread_mutex_lock(&state_lock);
        if (init_count > 0) {
            refresh_locked();
            if (slot_index(device, &slot) != 0 || slot >= current->gpu_count) {
                result = NVML_ERROR_INVALID_ARGUMENT;
            } else if (current->gpus[slot].vanished) {
                result = NVML_ERROR_GPU_IS_LOST;
            } else {
                *gpu = current->gpus[slot];
                *index = visible_index_locked(slot);
                hang_ms = hang_for(gpu, &current->system, function);
                result = gpu->lost ? NVML_ERROR_GPU_IS_LOST : fault_for(gpu, &current->system, function);
            }
        }
        pthread_mutex_unlock(&state_lock);
        if (!sleep_until(start + hang_ms * 1000000LL)) {
            return result;
        }
    }
}

typedef int (*gpu_matcher)(const struct fake_gpu *gpu, unsigned int index, const void *wanted);

/*
 * Finds the GPU a lookup names among those that have not vanished (index is the NVML index);
 * `missing` is what a lookup that matches nothing returns. The found GPU's hangs, loss and faults apply.
 */
static nvmlReturn_t find_device(enum fake_function function, gpu_matcher matches, const void *wanted,
                                nvmlReturn_t missing, nvmlDevice_t *device)
{
    long long start = monotonic_ns();
    for (;;) {
        nvmlReturn_t result = NVML_ERROR_UNINITIALIZED;
        unsigned int hang_ms = 0;
        nvmlDevice_t found = NULL;
        pthread_mutex_lock(&state_lock);
        if (init_count > 0) {
            refresh_locked();
            result = missing;
            unsigned int index = 0;
            for (unsigned int slot = 0; slot < current->gpu_count; slot++) {
                const struct fake_gpu *gpu = &current->gpus[slot];
                if (gpu->vanished) {
                    continue;
                }
                if (matches(gpu, index++, wanted)) {
                    hang_ms = hang_for(gpu, &current->system, function);
                    result = gpu->lost ? NVML_ERROR_GPU_IS_LOST : fault_for(gpu, &current->system, function);
                    found = &device_slots[slot];
                    break;
                }
            }
        }
        pthread_mutex_unlock(&state_lock);
        if (!sleep_until(start + hang_ms * 1000000LL)) {
            if (result == NVML_SUCCESS) {
                *device = found;
            }
            return result;
        }
    }
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
    unsigned int nvml_index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetIndex, device, &gpu, &nvml_index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (index == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *index = nvml_index;
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

/* Exported from R565/R570 on (fake_profile.h); older drivers only have nvmlDeviceGetTemperature. */
#if FAKE_PROFILE_HAS_TEMPERATURE_V
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

#if FAKE_PROFILE_HAS_MEMORY_INFO_V2
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

static nvmlReturn_t u64_value(enum fake_function function, nvmlDevice_t device, size_t offset,
                              unsigned long long *out)
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

/* A boolean of the state (an int) as nvmlEnableState_t. */
static nvmlReturn_t enable_state_value(enum fake_function function, nvmlDevice_t device, size_t offset,
                                       nvmlEnableState_t *out)
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
    int enabled;
    memcpy(&enabled, (const char *)&gpu + offset, sizeof(enabled));
    *out = enabled ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, nvmlEnableState_t *current_mode,
                                           nvmlEnableState_t *pending)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetEccMode, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (current_mode == NULL || pending == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *current_mode = gpu.ecc_current ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    *pending = gpu.ecc_pending ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    return NVML_SUCCESS;
}

/* With ECC off the counters do not exist: NOT_SUPPORTED, as on a real board. */
static nvmlReturn_t ecc_counter(enum fake_function function, nvmlDevice_t device, nvmlMemoryErrorType_t error_type,
                                nvmlEccCounterType_t counter_type, unsigned int location, unsigned long long *count)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(function, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (count == NULL || (unsigned int)error_type >= NVML_MEMORY_ERROR_TYPE_COUNT
        || (unsigned int)counter_type >= NVML_ECC_COUNTER_TYPE_COUNT || location > FAKE_ECC_TOTAL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (!gpu.ecc_current) {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    const struct fake_counter *counter = &gpu.ecc[counter_type][error_type][location];
    if (counter->error != NVML_SUCCESS) {
        return counter->error;
    }
    *count = counter->value;
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, nvmlMemoryErrorType_t errorType,
                                                  nvmlEccCounterType_t counterType, unsigned long long *eccCounts)
{
    return ecc_counter(FAKE_FN_nvmlDeviceGetTotalEccErrors, device, errorType, counterType, FAKE_ECC_TOTAL, eccCounts);
}

NVML_API nvmlReturn_t nvmlDeviceGetMemoryErrorCounter(nvmlDevice_t device, nvmlMemoryErrorType_t errorType,
                                                      nvmlEccCounterType_t counterType,
                                                      nvmlMemoryLocation_t locationType, unsigned long long *count)
{
    if ((unsigned int)locationType >= NVML_MEMORY_LOCATION_COUNT) {
        locationType = (nvmlMemoryLocation_t)(FAKE_ECC_TOTAL + 1); /* refused as an argument after the other checks */
    }
    return ecc_counter(FAKE_FN_nvmlDeviceGetMemoryErrorCounter, device, errorType, counterType,
                       (unsigned int)locationType, count);
}

/*
 * The size-query protocol of both retired-pages calls: a *pageCount smaller than the list gets
 * the list's length back with INSUFFICIENT_SIZE (so 0 asks for the size without buffers).
 */
static nvmlReturn_t retired_pages(enum fake_function function, nvmlDevice_t device, nvmlPageRetirementCause_t cause,
                                  unsigned int *pageCount, unsigned long long *addresses,
                                  unsigned long long *timestamps, int with_timestamps)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(function, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (pageCount == NULL || (unsigned int)cause >= NVML_PAGE_RETIREMENT_CAUSE_COUNT) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    const struct fake_page_list *list = &gpu.retired[cause];
    if (*pageCount < list->count) {
        *pageCount = list->count;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    if (list->count > 0 && (addresses == NULL || (with_timestamps && timestamps == NULL))) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    for (unsigned int i = 0; i < list->count; i++) {
        addresses[i] = list->address[i];
        if (with_timestamps) {
            timestamps[i] = list->timestamp_us[i];
        }
    }
    *pageCount = list->count;
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device, nvmlPageRetirementCause_t cause,
                                                unsigned int *pageCount, unsigned long long *addresses)
{
    return retired_pages(FAKE_FN_nvmlDeviceGetRetiredPages, device, cause, pageCount, addresses, NULL, 0);
}

#if FAKE_PROFILE_HAS_RETIRED_PAGES_V2
NVML_API nvmlReturn_t nvmlDeviceGetRetiredPages_v2(nvmlDevice_t device, nvmlPageRetirementCause_t cause,
                                                   unsigned int *pageCount, unsigned long long *addresses,
                                                   unsigned long long *timestamps)
{
    return retired_pages(FAKE_FN_nvmlDeviceGetRetiredPages_v2, device, cause, pageCount, addresses, timestamps, 1);
}
#endif

NVML_API nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device, nvmlEnableState_t *isPending)
{
    return enable_state_value(FAKE_FN_nvmlDeviceGetRetiredPagesPendingStatus, device,
                              offsetof(struct fake_gpu, retired_pending), isPending);
}

NVML_API nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrRows, unsigned int *uncRows,
                                                unsigned int *isPending, unsigned int *failureOccurred)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetRemappedRows, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (corrRows == NULL || uncRows == NULL || isPending == NULL || failureOccurred == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *corrRows = gpu.remapped_corrected;
    *uncRows = gpu.remapped_uncorrected;
    *isPending = gpu.remapped_pending ? 1 : 0;
    *failureOccurred = gpu.remapped_failure ? 1 : 0;
    return NVML_SUCCESS;
}

#if FAKE_PROFILE_HAS_CLOCKS_EVENT_REASONS
NVML_API nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                             unsigned long long *clocksEventReasons)
{
    return u64_value(FAKE_FN_nvmlDeviceGetCurrentClocksEventReasons, device,
                     offsetof(struct fake_gpu, clock_event_reasons), clocksEventReasons);
}
#endif

NVML_API nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                                unsigned long long *clocksThrottleReasons)
{
    return u64_value(FAKE_FN_nvmlDeviceGetCurrentClocksThrottleReasons, device,
                     offsetof(struct fake_gpu, clock_event_reasons), clocksThrottleReasons);
}

NVML_API nvmlReturn_t nvmlDeviceGetPcieReplayCounter(nvmlDevice_t device, unsigned int *value)
{
    return unsigned_value(FAKE_FN_nvmlDeviceGetPcieReplayCounter, device,
                          offsetof(struct fake_gpu, pcie_replay_counter), value);
}

NVML_API nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned int *currLinkGen)
{
    return unsigned_value(FAKE_FN_nvmlDeviceGetCurrPcieLinkGeneration, device, offsetof(struct fake_gpu, pcie_link_gen),
                          currLinkGen);
}

NVML_API nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned int *maxLinkGen)
{
    return unsigned_value(FAKE_FN_nvmlDeviceGetMaxPcieLinkGeneration, device,
                          offsetof(struct fake_gpu, pcie_link_gen_max), maxLinkGen);
}

NVML_API nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned int *currLinkWidth)
{
    return unsigned_value(FAKE_FN_nvmlDeviceGetCurrPcieLinkWidth, device, offsetof(struct fake_gpu, pcie_link_width),
                          currLinkWidth);
}

NVML_API nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned int *maxLinkWidth)
{
    return unsigned_value(FAKE_FN_nvmlDeviceGetMaxPcieLinkWidth, device,
                          offsetof(struct fake_gpu, pcie_link_width_max), maxLinkWidth);
}

/* A link number NVML could never have is an invalid argument; one this GPU lacks is not supported. */
static nvmlReturn_t check_link(const struct fake_gpu *gpu, unsigned int link)
{
    if (link >= NVML_NVLINK_MAX_LINKS) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    return link < gpu->nvlink_count ? NVML_SUCCESS : NVML_ERROR_NOT_SUPPORTED;
}

NVML_API nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link, nvmlEnableState_t *isActive)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetNvLinkState, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (isActive == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    result = check_link(&gpu, link);
    if (result == NVML_SUCCESS) {
        *isActive = gpu.nvlinks[link].active ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    }
    return result;
}

NVML_API nvmlReturn_t nvmlDeviceGetNvLinkErrorCounter(nvmlDevice_t device, unsigned int link,
                                                      nvmlNvLinkErrorCounter_t counter, unsigned long long *counterValue)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetNvLinkErrorCounter, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (counterValue == NULL || (unsigned int)counter >= NVML_NVLINK_ERROR_COUNT) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    result = check_link(&gpu, link);
    if (result == NVML_SUCCESS) {
        *counterValue = gpu.nvlinks[link].errors[counter];
    }
    return result;
}

static void set_unsigned_field(nvmlFieldValue_t *value, unsigned int number)
{
    value->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
    value->value.uiVal = number;
}

static void set_u64_field(nvmlFieldValue_t *value, unsigned long long number)
{
    value->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
    value->value.ullVal = number;
}

static void ecc_total_field(const struct fake_gpu *gpu, nvmlEccCounterType_t counter_type,
                            nvmlMemoryErrorType_t error_type, nvmlFieldValue_t *value)
{
    const struct fake_counter *total = &gpu->ecc[counter_type][error_type][FAKE_ECC_TOTAL];
    if (!gpu->ecc_current) {
        value->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
    } else if (total->error != NVML_SUCCESS) {
        value->nvmlReturn = total->error;
    } else {
        set_u64_field(value, total->value);
    }
}

static void nvlink_total_field(const struct fake_gpu *gpu, nvmlNvLinkErrorCounter_t counter, nvmlFieldValue_t *value)
{
    if (gpu->nvlink_count == 0) {
        value->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        return;
    }
    unsigned long long total = 0;
    for (unsigned int link = 0; link < gpu->nvlink_count; link++) {
        total += gpu->nvlinks[link].errors[counter];
    }
    set_u64_field(value, total);
}

/*
 * Fills one entry from the GPU's values (or its fail_field fault). An id at or above the profile's
 * NVML_FI_MAX is unknown to that driver: INVALID_ARGUMENT, whatever the state says. A known id the
 * fake does not model is NOT_SUPPORTED.
 */
static void field_value(const struct fake_gpu *gpu, nvmlFieldValue_t *value, long long now_us)
{
    value->timestamp = now_us;
    value->latencyUsec = 0;
    value->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
    value->nvmlReturn = NVML_SUCCESS;
    memset(&value->value, 0, sizeof(value->value));
    if (value->fieldId >= FAKE_PROFILE_FI_MAX) {
        value->nvmlReturn = NVML_ERROR_INVALID_ARGUMENT;
        return;
    }
    for (unsigned int i = 0; i < gpu->field_fault_count; i++) {
        if (gpu->field_faults[i].field_id == value->fieldId) {
            value->nvmlReturn = gpu->field_faults[i].error;
            return;
        }
    }
    switch (value->fieldId) {
    case NVML_FI_DEV_ECC_SBE_VOL_TOTAL:
        ecc_total_field(gpu, NVML_VOLATILE_ECC, NVML_MEMORY_ERROR_TYPE_CORRECTED, value);
        break;
    case NVML_FI_DEV_ECC_DBE_VOL_TOTAL:
        ecc_total_field(gpu, NVML_VOLATILE_ECC, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, value);
        break;
    case NVML_FI_DEV_ECC_SBE_AGG_TOTAL:
        ecc_total_field(gpu, NVML_AGGREGATE_ECC, NVML_MEMORY_ERROR_TYPE_CORRECTED, value);
        break;
    case NVML_FI_DEV_ECC_DBE_AGG_TOTAL:
        ecc_total_field(gpu, NVML_AGGREGATE_ECC, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, value);
        break;
    case NVML_FI_DEV_RETIRED_SBE:
        set_u64_field(value, gpu->retired[NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS].count);
        break;
    case NVML_FI_DEV_RETIRED_DBE:
        set_u64_field(value, gpu->retired[NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR].count);
        break;
    case NVML_FI_DEV_RETIRED_PENDING:
        set_unsigned_field(value, gpu->retired_pending ? 1 : 0);
        break;
    case NVML_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL:
        nvlink_total_field(gpu, NVML_NVLINK_ERROR_DL_CRC_FLIT, value);
        break;
    case NVML_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL:
        nvlink_total_field(gpu, NVML_NVLINK_ERROR_DL_CRC_DATA, value);
        break;
    case NVML_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL:
        nvlink_total_field(gpu, NVML_NVLINK_ERROR_DL_REPLAY, value);
        break;
    case NVML_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL:
        nvlink_total_field(gpu, NVML_NVLINK_ERROR_DL_RECOVERY, value);
        break;
    case NVML_FI_DEV_NVLINK_ECC_DATA_ERROR_COUNT_TOTAL:
        nvlink_total_field(gpu, NVML_NVLINK_ERROR_DL_ECC_DATA, value);
        break;
    case NVML_FI_DEV_NVLINK_LINK_COUNT:
        if (gpu->nvlink_count == 0) {
            value->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        } else {
            set_unsigned_field(value, gpu->nvlink_count);
        }
        break;
    case NVML_FI_DEV_NVLINK_GET_STATE:
        value->nvmlReturn = check_link(gpu, value->scopeId);
        if (value->nvmlReturn == NVML_SUCCESS) {
            set_unsigned_field(value, gpu->nvlinks[value->scopeId].active ? 1 : 0);
        }
        break;
    case NVML_FI_DEV_PCIE_REPLAY_COUNTER:
        set_unsigned_field(value, gpu->pcie_replay_counter);
        break;
    case NVML_FI_DEV_REMAPPED_COR:
        set_unsigned_field(value, gpu->remapped_corrected);
        break;
    case NVML_FI_DEV_REMAPPED_UNC:
        set_unsigned_field(value, gpu->remapped_uncorrected);
        break;
    case NVML_FI_DEV_REMAPPED_PENDING:
        set_unsigned_field(value, gpu->remapped_pending ? 1 : 0);
        break;
    case NVML_FI_DEV_REMAPPED_FAILURE:
        set_unsigned_field(value, gpu->remapped_failure ? 1 : 0);
        break;
    case NVML_FI_DEV_GET_GPU_RECOVERY_ACTION:
        set_unsigned_field(value, gpu->recovery_action);
        break;
    default:
        value->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        break;
    }
}

NVML_API nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount, nvmlFieldValue_t *values)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetFieldValues, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (values == NULL || valuesCount <= 0) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    long long now = realtime_us();
    for (int i = 0; i < valuesCount; i++) {
        field_value(&gpu, &values[i], now);
    }
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t device, nvmlEnableState_t *mode)
{
    return enable_state_value(FAKE_FN_nvmlDeviceGetPersistenceMode, device, offsetof(struct fake_gpu, persistence_mode),
                              mode);
}

NVML_API nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, nvmlPstates_t *pState)
{
    unsigned int pstate;
    nvmlReturn_t result = unsigned_value(FAKE_FN_nvmlDeviceGetPerformanceState, device,
                                         offsetof(struct fake_gpu, pstate), pState == NULL ? NULL : &pstate);
    if (result == NVML_SUCCESS) {
        *pState = (nvmlPstates_t)pstate;
    }
    return result;
}

NVML_API nvmlReturn_t nvmlDeviceGetGpuFabricInfo(nvmlDevice_t device, nvmlGpuFabricInfo_t *gpuFabricInfo)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetGpuFabricInfo, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (gpuFabricInfo == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    nvmlGpuFabricInfo_t info;
    memset(&info, 0, sizeof(info));
    memcpy(info.clusterUuid, gpu.fabric_cluster_uuid, sizeof(info.clusterUuid));
    info.status = gpu.fabric_status;
    info.cliqueId = gpu.fabric_clique_id;
    info.state = (nvmlGpuFabricState_t)gpu.fabric_state;
    *gpuFabricInfo = info;
    return NVML_SUCCESS;
}

#if FAKE_PROFILE_FABRIC_INFO_V
/*
 * Answers the version the caller asked for, writing only that version's bytes: a v2 caller's
 * buffer is 36 bytes. A version newer than the profile's driver knows (v3 before R580) or than
 * fabric_info_max_version is ARGUMENT_VERSION_MISMATCH. The health mask carries only the fields
 * the profile's driver fills in.
 */
NVML_API nvmlReturn_t nvmlDeviceGetGpuFabricInfoV(nvmlDevice_t device, nvmlGpuFabricInfoV_t *gpuFabricInfo)
{
    struct fake_gpu gpu;
    unsigned int index;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceGetGpuFabricInfoV, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (gpuFabricInfo == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    unsigned int version = gpuFabricInfo->version;
    unsigned int health_mask = gpu.fabric_health_mask & FAKE_PROFILE_FABRIC_HEALTH_MASK;
    if (version == nvmlGpuFabricInfo_v3 && gpu.fabric_info_max_version >= 3 && FAKE_PROFILE_FABRIC_INFO_V >= 3) {
        nvmlGpuFabricInfo_v3_t info;
        memset(&info, 0, sizeof(info));
        info.version = version;
        memcpy(info.clusterUuid, gpu.fabric_cluster_uuid, sizeof(info.clusterUuid));
        info.status = gpu.fabric_status;
        info.cliqueId = gpu.fabric_clique_id;
        info.state = (nvmlGpuFabricState_t)gpu.fabric_state;
        info.healthMask = health_mask;
        info.healthSummary = (unsigned char)gpu.fabric_health_summary;
        memcpy(gpuFabricInfo, &info, sizeof(info));
        return NVML_SUCCESS;
    }
    if (version == nvmlGpuFabricInfo_v2) {
        nvmlGpuFabricInfo_v2_t info;
        memset(&info, 0, sizeof(info));
        info.version = version;
        memcpy(info.clusterUuid, gpu.fabric_cluster_uuid, sizeof(info.clusterUuid));
        info.status = gpu.fabric_status;
        info.cliqueId = gpu.fabric_clique_id;
        info.state = (nvmlGpuFabricState_t)gpu.fabric_state;
        info.healthMask = health_mask;
        memcpy(gpuFabricInfo, &info, sizeof(info));
        return NVML_SUCCESS;
    }
    return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
}
#endif

static int is_live_set_locked(nvmlEventSet_t set)
{
    for (struct nvmlEventSet_st *live = event_sets; live != NULL; live = live->next) {
        if (live == set) {
            return 1;
        }
    }
    return 0;
}

/*
 * The next event this set may deliver: the smallest id above the last one it delivered (or the
 * largest present when it was created), on a GPU that has not vanished, of a type registered there.
 */
static int next_event_locked(struct nvmlEventSet_st *set, struct fake_event *out)
{
    for (unsigned int i = 0; i < current->event_count; i++) {
        const struct fake_event *event = &current->events[i];
        if (set->delivered_any && event->id <= set->last_delivered_id) {
            continue;
        }
        if (event->gpu >= current->gpu_count || current->gpus[event->gpu].vanished
            || (set->registered[event->gpu] & event->type) == 0) {
            continue;
        }
        set->delivered_any = 1;
        set->last_delivered_id = event->id;
        *out = *event;
        return 1;
    }
    return 0;
}

NVML_API nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set)
{
    struct fake_system system;
    unsigned int count;
    nvmlReturn_t result = begin_system(FAKE_FN_nvmlEventSetCreate, &system, &count);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (set == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    struct nvmlEventSet_st *created = calloc(1, sizeof(*created));
    if (created == NULL) {
        return NVML_ERROR_MEMORY;
    }
    created->watch = watch_state_directory(); /* before the first look, so no later change is missed */
    pthread_mutex_lock(&state_lock);
    refresh_locked(); /* the events the file holds now are history to this set */
    if (current->event_count > 0) {
        created->delivered_any = 1;
        created->last_delivered_id = current->events[current->event_count - 1].id;
    }
    created->next = event_sets;
    event_sets = created;
    pthread_mutex_unlock(&state_lock);
    *set = created;
    return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long eventTypes, nvmlEventSet_t set)
{
    struct fake_gpu gpu;
    unsigned int index;
    unsigned int slot;
    nvmlReturn_t result = begin_device(FAKE_FN_nvmlDeviceRegisterEvents, device, &gpu, &index);
    if (result != NVML_SUCCESS) {
        return result;
    }
    if (eventTypes == 0 || slot_index(device, &slot) != 0) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if ((eventTypes & ~(gpu.supported_event_types & FAKE_PROFILE_EVENT_TYPES)) != 0) {
        return NVML_ERROR_NOT_SUPPORTED; /* nothing registered; the set stays usable */
    }
    pthread_mutex_lock(&state_lock);
    if (!is_live_set_locked(set)) {
        result = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        set->registered[slot] |= eventTypes;
    }
    pthread_mutex_unlock(&state_lock);
    return result;
}

/* The state's types, less those the profile's driver does not know (it cannot report them). */
NVML_API nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t device, unsigned long long *eventTypes)
{
    nvmlReturn_t result = u64_value(FAKE_FN_nvmlDeviceGetSupportedEventTypes, device,
                                    offsetof(struct fake_gpu, supported_event_types), eventTypes);
    if (result == NVML_SUCCESS) {
        *eventTypes &= FAKE_PROFILE_EVENT_TYPES;
    }
    return result;
}

/* Polls the state file until an event for this set appears or timeoutms pass. */
/* Waits for the next event, blocking on the set's watch between looks. */
NVML_API nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms)
{
    long long deadline = monotonic_ns() + (long long)timeoutms * 1000000LL;
    nvmlReturn_t result;
    for (;;) {
        struct fake_event event;
        int found = 0;
        int watch = -1;
        result = NVML_ERROR_UNINITIALIZED;
        pthread_mutex_lock(&state_lock);
        if (init_count > 0) {
            refresh_locked();
            result = current->system.faults[FAKE_FN_nvmlEventSetWait_v2];
            if (result == NVML_SUCCESS) {
                if (data == NULL || !is_live_set_locked(set)) {
                    result = NVML_ERROR_INVALID_ARGUMENT;
                } else {
                    watch = set->watch;
                    found = next_event_locked(set, &event);
                }
            }
        }
        pthread_mutex_unlock(&state_lock);
        if (result != NVML_SUCCESS) {
            break;
        }
        if (found) {
            data->device = &device_slots[event.gpu];
            data->eventType = event.type;
            data->eventData = event.data;
            data->gpuInstanceId = event.gpu_instance_id;
            data->computeInstanceId = event.compute_instance_id;
            break;
        }
        if (!wait_for_change(watch, deadline)) {
            result = NVML_ERROR_TIMEOUT;
            break;
        }
    }
    return result;
}

NVML_API nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set)
{
    struct fake_system system;
    unsigned int count;
    nvmlReturn_t result = begin_system(FAKE_FN_nvmlEventSetFree, &system, &count);
    if (result != NVML_SUCCESS) {
        return result;
    }
    result = NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&state_lock);
    for (struct nvmlEventSet_st **link = &event_sets; *link != NULL; link = &(*link)->next) {
        if (*link == set) {
            *link = set->next;
            if (set->watch >= 0) {
                close(set->watch);
            }
            free(set);
            result = NVML_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&state_lock);
    return result;
}

#!/usr/bin/env bash
# Builds the fake NVML into OUTDIR:
#   OUTDIR/libnvidia-ml.so.1         the fake (soname libnvidia-ml.so.1, no unversioned symlink,
#                                    like a driver install without the -dev package)
#   OUTDIR/legacy/libnvidia-ml.so.1  the same without nvmlDeviceGetTemperatureV,
#                                    nvmlDeviceGetMemoryInfo_v2, nvmlDeviceGetCurrentClocksEventReasons,
#                                    nvmlDeviceGetRetiredPages_v2 and nvmlDeviceGetGpuFabricInfoV,
#                                    like an older driver
#   OUTDIR/nvml_layout               prints the C struct sizes/offsets the Java structs must match
# Run by exec-maven-plugin in generate-resources; usable by hand: build.sh target/fake-nvml
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
test_src=$(cd "$src/../../test/c" && pwd)
cc=${CC:-gcc}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "ERROR: building the fake NVML needs a C compiler, but '$cc' is not on PATH." >&2
    echo "       Install gcc (Debian/Ubuntu: apt-get install gcc) or set CC to one." >&2
    exit 1
fi

if ! command -v nm >/dev/null 2>&1; then
    echo "ERROR: nm (binutils, which gcc also needs to link) is not on PATH; it checks the fake's exported symbols." >&2
    exit 1
fi

cflags=(-std=gnu11 -Wall -Wextra -Werror -O2 -fPIC -pthread -fvisibility=hidden)
library_sources=("$src/fake_nvml.c" "$src/fake_state.c")

mkdir -p "$out/legacy"

build_library() {
    local target=$1
    shift
    "$cc" "${cflags[@]}" "$@" -shared -Wl,-soname,libnvidia-ml.so.1 -Wl,--no-undefined \
        -o "$target.tmp" "${library_sources[@]}"
    # Only the NVML API may be visible; anything else would collide with the host's symbols.
    local stray
    stray=$(nm -D --defined-only "$target.tmp" | awk '{print $3}' | grep -v '^nvml' || true)
    if [[ -n "$stray" ]]; then
        echo "ERROR: $target exports non-NVML symbols:" >&2
        echo "$stray" >&2
        rm -f "$target.tmp"
        exit 1
    fi
    mv -f "$target.tmp" "$target"
}

build_library "$out/libnvidia-ml.so.1"
build_library "$out/legacy/libnvidia-ml.so.1" -DFAKE_NVML_LEGACY
"$cc" -std=gnu11 -Wall -Wextra -Werror -O2 -I"$src" -o "$out/nvml_layout" "$test_src/nvml_layout.c"

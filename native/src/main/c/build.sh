#!/usr/bin/env bash
# Builds the fake NVML into OUTDIR:
#   OUTDIR/libnvidia-ml.so.1             the fake as the newest driver profile (580); soname
#                                        libnvidia-ml.so.1, no unversioned symlink, like a driver
#                                        install without the -dev package
#   OUTDIR/driver-<B>/libnvidia-ml.so.1  the fake as driver branch B (535, 550, 570, 580): only the
#                                        symbols, struct versions, field ids, event types and version
#                                        strings that branch has (fake_profile.h, FAKE_NVML.md)
#   OUTDIR/legacy/libnvidia-ml.so.1      synthetic: the newest profile without nvmlDeviceGetTemperatureV,
#                                        nvmlDeviceGetMemoryInfo_v2, nvmlDeviceGetCurrentClocksEventReasons,
#                                        nvmlDeviceGetRetiredPages_v2 and nvmlDeviceGetGpuFabricInfoV,
#                                        to exercise every fallback at once
#   OUTDIR/nvml_layout                   prints the C struct sizes/offsets the Java structs must match
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

profiles=(535 550 570 580)
newest=580

mkdir -p "$out/legacy"
for profile in "${profiles[@]}"; do
    mkdir -p "$out/driver-$profile"
done

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

# A profile must not export what its driver lacks: jnr-ffi (like dlsym) then reports the symbol
# missing, exactly as with that driver's real library.
check_absent() {
    local target=$1
    shift
    local symbol
    for symbol in "$@"; do
        if nm -D --defined-only "$target" | awk '{print $3}' | grep -qx "$symbol"; then
            echo "ERROR: $target exports $symbol, which its driver profile does not have" >&2
            exit 1
        fi
    done
}

for profile in "${profiles[@]}"; do
    build_library "$out/driver-$profile/libnvidia-ml.so.1" -DFAKE_NVML_PROFILE="$profile"
done
# The default library is the newest profile: a copy, not a link, so that loading both gives two libraries.
cp -f "$out/driver-$newest/libnvidia-ml.so.1" "$out/libnvidia-ml.so.1.tmp"
mv -f "$out/libnvidia-ml.so.1.tmp" "$out/libnvidia-ml.so.1"
build_library "$out/legacy/libnvidia-ml.so.1" -DFAKE_NVML_PROFILE=$newest -DFAKE_NVML_LEGACY
check_absent "$out/driver-535/libnvidia-ml.so.1" nvmlDeviceGetTemperatureV nvmlDeviceGetGpuFabricInfoV
check_absent "$out/driver-550/libnvidia-ml.so.1" nvmlDeviceGetTemperatureV
check_absent "$out/legacy/libnvidia-ml.so.1" nvmlDeviceGetTemperatureV nvmlDeviceGetMemoryInfo_v2 \
    nvmlDeviceGetCurrentClocksEventReasons nvmlDeviceGetRetiredPages_v2 nvmlDeviceGetGpuFabricInfoV
"$cc" -std=gnu11 -Wall -Wextra -Werror -O2 -I"$src" -o "$out/nvml_layout" "$test_src/nvml_layout.c"

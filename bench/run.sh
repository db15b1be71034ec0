#!/usr/bin/env bash
# Runs the JMH microbenchmarks (bench/target/benchmarks.jar) from the repository root; extra
# arguments go to JMH (e.g. a benchmark name regex, -prof gc). Figures go to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f bench/target/benchmarks.jar && -f native/target/fake-nvml/libnvidia-ml.so.1 ]] || mvn -B -q -ntp -DskipTests package
state_dir=$(mktemp -d)
trap 'rm -rf "$state_dir"' EXIT
# The fake NVML reads its state file from the environment (the benchmarks write it).
export GPUWARDEN_FAKE_NVML_STATE="$state_dir/fake.state"
exec java -Dgpuwarden.home="$PWD" -jar bench/target/benchmarks.jar -jvmArgsAppend "-Dgpuwarden.home=$PWD" "$@"

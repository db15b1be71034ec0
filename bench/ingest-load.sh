#!/usr/bin/env bash
# Ingest under load, reproducibly: starts a collector on its own data dir (pinned to CPUs with
# taskset when COLLECTOR_CPUS is set), runs `gpuwarden loadgen` beside it with the arguments given,
# samples the collector's CPU, RSS and thread count every 5 s into collector-stats.tsv, and stops the
# collector. Figures go to BENCHMARKS.md ("Ingest under load").
#
#   COLLECTOR_CPUS=0 LOADGEN_CPUS=1 bench/ingest-load.sh --nodes 1000 --rate 8000 --duration 60s
#
# Environment: COLLECTOR_CPUS, LOADGEN_CPUS (taskset lists; unset: not pinned), COLLECTOR_OPTS (JVM
# options of the collector), COLLECTOR_ARGS (more collector options), LOADGENS (load generator
# processes, default 1: --nodes and --rate are split evenly between them, for more connections
# than one process may open), WARMUP (seconds of a first load generator run at WARMUP_RATE, default
# 0: none; it warms the collector's JIT so that the measured run is not its cold start), WARMUP_RATE
# (default 6000), RATES (several --rate values, run one after another against the same warm
# collector and the same nodes: a step test; --rate is then ignored), PORT (default
# 17700), OUT (results dir, default a new temp dir), SERVER (collector, the default; or floor /
# floor-parse: bench's TransportFloor, the ingest transport alone with the collector's settings,
# acknowledging each batch without (floor) or after (floor-parse) decoding it: what gRPC and Netty
# cost on this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f cli/target/gpuwarden-collector.jar && -f native/target/fake-nvml/libnvidia-ml.so.1 ]] || ./gpuwarden build
PORT="${PORT:-17700}"
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/gpuwarden-ingest-load.XXXXXX")}"
LOADGENS="${LOADGENS:-1}"
mkdir -p "$OUT"
pin() { if [[ -n "${1:-}" ]]; then echo "taskset -c $1"; fi; }

nodes=""; rate=""; rest=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --nodes=*) nodes="${1#*=}"; shift ;;
    --rate) rate="$2"; shift 2 ;;
    --rate=*) rate="${1#*=}"; shift ;;
    *) rest+=("$1"); shift ;;
  esac
done
[[ -n "$nodes" && -n "$rate" ]] || { echo "usage: $0 --nodes N --rate R [loadgen options]" >&2; exit 2; }

ready="listening on port $PORT"
case "${SERVER:-collector}" in
  collector)
    # shellcheck disable=SC2086
    $(pin "${COLLECTOR_CPUS:-}") java ${COLLECTOR_OPTS:-} -jar cli/target/gpuwarden-collector.jar collector \
      --listen "127.0.0.1:$PORT" --data-dir "$OUT/collector-data" --metrics-listen none ${COLLECTOR_ARGS:-} \
      > "$OUT/collector.log" 2>&1 & ;;
  floor|floor-parse)
    [[ -f bench/target/benchmarks.jar ]] || mvn -B -q -ntp -DskipTests package
    ready="transport floor on 127.0.0.1:$PORT"
    # shellcheck disable=SC2046,SC2086
    $(pin "${COLLECTOR_CPUS:-}") java ${COLLECTOR_OPTS:-} -cp bench/target/benchmarks.jar io.gpuwarden.bench.TransportFloor \
      "$PORT" $([[ "$SERVER" == floor-parse ]] && echo --parse) > "$OUT/collector.log" 2>&1 & ;;
  *) echo "SERVER must be collector, floor or floor-parse, not '$SERVER'" >&2; exit 2 ;;
esac
collector=$!
stats=""
cleanup() {
  [[ -n "$stats" ]] && kill "$stats" 2>/dev/null || true
  kill "$collector" 2>/dev/null || true
  wait "$collector" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  grep -q "$ready" "$OUT/collector.log" 2>/dev/null && break
  sleep 0.3
done
grep -q "$ready" "$OUT/collector.log" || { echo "collector did not start, see $OUT/collector.log" >&2; exit 1; }

# Collector CPU (share of one core over the last 5 s), RSS and threads, every 5 s.
(
  tick=$(getconf CLK_TCK); last=""
  printf 'time\tcpu_percent\trss_mib\tthreads\n'
  while kill -0 "$collector" 2>/dev/null; do
    read -r -a f < "/proc/$collector/stat" || break
    cpu=$(( f[13] + f[14] ))
    rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$collector/status")
    thr=$(awk '/Threads/ {print $2}' "/proc/$collector/status")
    if [[ -n "$last" ]]; then printf '%s\t%d\t%s\t%s\n' "$(date +%T)" $(( (cpu - last) * 100 / tick / 5 )) "$rss" "$thr"; fi
    last=$cpu
    sleep 5
  done
) > "$OUT/collector-stats.tsv" &
stats=$!

if [[ "${WARMUP:-0}" != 0 ]]; then
  $(pin "${LOADGEN_CPUS:-}") ./gpuwarden loadgen --collector "127.0.0.1:$PORT" --nodes "$(( nodes < 1000 ? nodes : 1000 ))" \
    --rate "${WARMUP_RATE:-6000}" --duration "${WARMUP}s" --drain 60s --report 30s \
    > "$OUT/warmup.log" 2>&1 || { echo "warm-up lost batches, see $OUT/warmup.log" >&2; exit 1; }
  echo "== warm-up: $(tail -1 "$OUT/warmup.log")"
fi
rc=0
run_rate() { # $1 rate, $2 log suffix, $3 node prefix option
  local per_nodes=$(( nodes / LOADGENS )) pids=() i per_rate
  for i in $(seq 0 $(( LOADGENS - 1 ))); do
    per_rate=$(awk -v r="$1" -v n="$LOADGENS" 'BEGIN { printf "%.3f", r / n }')
    # shellcheck disable=SC2046,SC2086
    $(pin "${LOADGEN_CPUS:-}") ./gpuwarden loadgen --collector "127.0.0.1:$PORT" --nodes "$per_nodes" \
      --first-node $(( i * per_nodes )) --rate "$per_rate" $3 "${rest[@]}" > "$OUT/loadgen$2-$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  for i in $(seq 0 $(( LOADGENS - 1 ))); do echo "== loadgen$2 $i"; cat "$OUT/loadgen$2-$i.log"; done
}
if [[ -n "${RATES:-}" ]]; then
  for r in $RATES; do run_rate "$r" "-$r" ""; done
else
  run_rate "$rate" "" ""
fi
echo "== collector (cpu % of one core, RSS MiB, threads)"; cat "$OUT/collector-stats.tsv"
echo "results in $OUT"
exit $rc

#!/usr/bin/env bash
# Footprint of the agent on an 8-GPU, 8-port host sampling every second: RSS and CPU (% of one core)
# over a measured period, with the agent JVM options a host runs it with.
#
#   agent/bench/footprint.sh [SECONDS] [WARMUP_SECONDS]      (defaults: 300 and 30)
#
# The host is simulated with the project's fake libnvidia-ml.so.1 (8 H100s, healthy) and the
# healthy 8x NDR InfiniBand sysfs fixture. The kernel log is the real /dev/kmsg when this user can
# write to it (root): a warning record is written into it every second, and the agent reads it as on
# a host. Otherwise (KMSG=file, or not root) it is a file in the /dev/kmsg format, which the agent
# has to poll, a cost a host does not have. A collector runs on loopback. Requires built jars
# (./gpuwarden build). Prints the CPU per agent thread too.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_MEASURED="${1:-300}"
WARMUP="${2:-30}"
# The JVM options of the systemd unit, unless AGENT_JAVA_OPTS says otherwise.
AGENT_JAVA_OPTS="${AGENT_JAVA_OPTS:-$(sed -n 's/^Environment="JAVA_OPTS=\(.*\)"$/\1/p' packaging/systemd/gpuwarden-agent.service)}"
# ... and its malloc arena limit.
MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-$(sed -n 's/^Environment=MALLOC_ARENA_MAX=\([0-9]*\)$/\1/p' packaging/systemd/gpuwarden-agent.service)}"
[ -n "$MALLOC_ARENA_MAX" ] && export MALLOC_ARENA_MAX
work=$(mktemp -d)
trap 'kill $agent $collector $logger 2>/dev/null || true; rm -rf "$work"' EXIT

port=$(( 20000 + RANDOM % 20000 ))
java -XX:+UseSerialGC -jar cli/target/gpuwarden-collector.jar collector --listen "127.0.0.1:$port" \
  --data-dir "$work/collector" --metrics-listen none > "$work/collector.log" 2>&1 &
collector=$!
echo "boot-footprint" > "$work/boot_id"
if [ "${KMSG:-device}" = device ] && [ -w /dev/kmsg ]; then
  kmsg=/dev/kmsg
  ( seq=1; while true; do echo "<4>gpuwarden footprint: periodic warning $seq" > /dev/kmsg; seq=$((seq + 1)); sleep 1; done ) &
else
  kmsg="$work/kmsg"
  : > "$kmsg"
  ( seq=1; while true; do echo "4,$seq,$((seq * 1000000)),-;footprint: periodic warning $seq" >> "$kmsg"; seq=$((seq + 1)); sleep 1; done ) &
fi
logger=$!
sleep 3
# shellcheck disable=SC2086
GPUWARDEN_FAKE_NVML_STATE="$PWD/native/examples/h100-8gpu-healthy.state" \
java $AGENT_JAVA_OPTS -jar agent/target/gpuwarden-agent.jar --collector "127.0.0.1:$port" --node-id footprint \
  --interval 1s --nvml-lib native/target/fake-nvml/libnvidia-ml.so.1 --boot-id-file "$work/boot_id" \
  --state-dir "$work/state" --sysfs-root agent/src/test/fixtures/sysfs/healthy-8x-ndr --expected-ib-ports 8 \
  --expected-ib-rate 400 --kmsg "$kmsg" > "$work/agent.log" 2>&1 &
agent=$!
sleep "$WARMUP"
tck=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
# Nanoseconds on CPU of every live thread (the scheduler's own accounting): exact, where the tick
# counts above are charged a whole 1/CLK_TCK s when a tick lands while the thread runs, which for
# an agent that runs a few milliseconds a second is a sampling error of about 15% a minute.
cpu_ns() { cat /proc/"$agent"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s }'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$agent/status"; }
thread_ticks() { for t in /proc/"$agent"/task/*; do
  echo "$(basename "$t") $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0) $(tr ' ' '_' < "$t/comm" 2>/dev/null || echo gone)"; done | sort; }
thread_ticks > "$work/threads0"
t0=$(date +%s.%N); c0=$(ticks); n0=$(cpu_ns); max=0; sum=0; n=0
end=$(( $(date +%s) + SECONDS_MEASURED ))
minute_ns=$n0; minute_t=$(date +%s%N); minute=0
while [ "$(date +%s)" -lt "$end" ]; do
  r=$(rss_kib); sum=$((sum + r)); n=$((n + 1)); [ "$r" -gt "$max" ] && max=$r
  sleep 5
  if [ $(( $(date +%s%N) - minute_t )) -ge 60000000000 ]; then
    now_ns=$(cpu_ns); now_t=$(date +%s%N); minute=$((minute + 1))
    awk -v m="$minute" -v a="$minute_ns" -v b="$now_ns" -v t0="$minute_t" -v t1="$now_t" -v rss="$(rss_kib)" \
      'BEGIN { printf "  minute %2d: CPU %.3f%% of one core, RSS %.1f MiB\n", m, (b - a) / (t1 - t0) * 100, rss / 1024 }'
    minute_ns=$now_ns; minute_t=$now_t
  fi
done
t1=$(date +%s.%N); c1=$(ticks); n1=$(cpu_ns); r=$(rss_kib)
thread_ticks > "$work/threads1"
awk -v c0="$c0" -v c1="$c1" -v n0="$n0" -v n1="$n1" -v t0="$t0" -v t1="$t1" -v tck="$tck" -v max="$max" -v avg="$((sum / n))" -v last="$r" \
  -v opts="$AGENT_JAVA_OPTS" -v s="$SECONDS_MEASURED" 'BEGIN {
  cpu = (c1 - c0) / tck / (t1 - t0) * 100;
  exact = (n1 - n0) / 1e9 / (t1 - t0) * 100;
  printf "agent footprint over %d s (after warm-up), JVM options: %s, MALLOC_ARENA_MAX=%s\n", s, opts, ENVIRON["MALLOC_ARENA_MAX"];
  printf "  CPU: %.3f%% of one core (scheduler ns of the live threads; %.3f%% from clock ticks)\n", exact, cpu;
  printf "  RSS: average %.1f MiB, max %.1f MiB, at end %.1f MiB\n", avg / 1024, max / 1024, last / 1024 }'
echo "  kernel log: $kmsg"
echo "  CPU by thread (% of one core; threads named alike are summed; per-thread ticks round down):"
join "$work/threads0" "$work/threads1" | awk -v t="$tck" -v s="$SECONDS_MEASURED" '{ sub(/[0-9]+(-[0-9]+)?$/, "", $3); cpu[$3] += ($4 - $2) / t / s * 100 }
  END { for (n in cpu) if (cpu[n] > 0) printf "    %6.3f%%  %s\n", cpu[n], n }' | sort -rn | head -12
grep -c "sampling cycle failed" "$work/agent.log" | sed 's/^/  failed cycles: /'

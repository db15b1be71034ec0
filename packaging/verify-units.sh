#!/usr/bin/env bash
# Checks the systemd unit files under packaging/systemd with `systemd-analyze verify`; fails on
# any complaint about them (unknown keys, bad values, missing executable), not only on its exit
# status, which ignores unknown keys. The units run /usr/bin/java; where this machine has none,
# the copies verified here point at a stub in a temporary directory instead.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "verify-units: systemd-analyze not found (Debian/Ubuntu: apt-get install systemd)" >&2
  exit 2
fi
systemd-analyze --version | head -1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exec_java=/usr/bin/java
if [[ ! -x "$exec_java" ]]; then
  mkdir -p "$tmp/bin"
  printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/java"
  chmod +x "$tmp/bin/java"
  echo "verify-units: no $exec_java here; verifying with ExecStart pointing at a stub"
  exec_java="$tmp/bin/java"
fi
units=()
for unit in systemd/*.service; do
  copy="$tmp/$(basename "$unit")"
  sed "s|/usr/bin/java |$exec_java |" "$unit" >"$copy"
  units+=("$copy")
done

status=0
output=$(systemd-analyze verify --man=no "${units[@]}" 2>&1) || status=$?
[[ -n "$output" ]] && echo "$output"
if [[ $status -ne 0 ]] || grep -q -e "$tmp" -e 'gpuwarden-' <<<"$output"; then
  echo "verify-units: FAILED (exit $status)" >&2
  exit 1
fi
echo "verify-units: ok: ${units[*]##*/}"

# The agent unit's JVM options must be ones the JDKs here accept: an unknown -XX flag stops the JVM
# before the agent starts. Every JDK found (the default java, and those under /usr/lib/jvm) is asked.
java_opts=$(sed -n 's/^Environment="JAVA_OPTS=\(.*\)"$/\1/p' systemd/gpuwarden-agent.service)
[[ -n "$java_opts" ]] || { echo "verify-units: no JAVA_OPTS in gpuwarden-agent.service" >&2; exit 1; }
javas=()
command -v java >/dev/null 2>&1 && javas+=("$(command -v java)")
for j in /usr/lib/jvm/*/bin/java; do [[ -x "$j" ]] && javas+=("$j"); done
for j in "${javas[@]}"; do
  # shellcheck disable=SC2086
  if ! out=$("$j" $java_opts -version 2>&1); then
    echo "$out" >&2
    echo "verify-units: FAILED: $j does not accept the agent unit's JAVA_OPTS" >&2
    exit 1
  fi
  echo "verify-units: JAVA_OPTS accepted by $j ($(head -1 <<<"$out"))"
done

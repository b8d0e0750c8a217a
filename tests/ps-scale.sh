#!/usr/bin/env bash
# How long `rtmon ps` takes with many processes: starts N processes (half a Go test program, half
# sleep), runs `rtmon ps` ROUNDS times, prints the median and the rows it listed, then stops them.
#
#   tests/ps-scale.sh [BUILD_DIR] [N] [ROUNDS]     (default: build 1000 7)
#
# docs/PERFORMANCE.md quotes its output. The Go program waits on stdin (a FIFO this script holds
# open), so it sits idle like sleep.
set -euo pipefail

build=${1:-build}
n=${2:-1000}
rounds=${3:-7}
rtmon=$build/rtmon
goprog=$build/testprog/go/goroutines
for f in "$rtmon" "$goprog"; do
  [ -x "$f" ] || { echo "ps-scale: $f not built: run make $f" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkfifo "$tmp/gate"
exec 3<>"$tmp/gate"
for ((i = 0; i < n; i++)); do
  if ((i % 2)); then
    sleep 600 &
  else
    "$goprog" <&3 >/dev/null &
  fi
  pids+=($!)
done
sleep 1 # every exec done

times=()
for ((r = 0; r < rounds; r++)); do
  t0=$(date +%s%N)
  "$rtmon" ps > "$tmp/out"
  t1=$(date +%s%N)
  times+=($(((t1 - t0) / 1000)))
done
rows=$(grep -c -E '^[* ] +[0-9]+ ' "$tmp/out" || true)
gorows=$(grep -c -E ' go +go1' "$tmp/out" || true)
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p")
echo "rtmon ps: $rows rows ($gorows Go) with $n processes started; median of $rounds runs: $((median / 1000)).$(printf '%03d' $((median % 1000))) ms"
tail -1 "$tmp/out"

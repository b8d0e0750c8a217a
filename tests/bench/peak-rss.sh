#!/usr/bin/env bash
# rtmon's own peak RSS per command, as /usr/bin/time -v reports it ("Maximum resident set size"),
# each command run with -p on a test program that waits at its stdin gate, so that the target is
# not rtmon's child and its memory is not counted. As root, after `make testprogs`:
#
#   sudo tests/bench/peak-rss.sh build [ROUNDS]
#
# Prints one line per configuration: the median and the range over ROUNDS (default 3), in MiB.
# docs/PERFORMANCE.md ("rtmon's own memory") holds the figures.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
rounds=${2:-3}
rtmon=$build/rtmon
tp=$build/testprog
java=${JAVA:-java}
py=${PYTHON:-/usr/bin/python3.11}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One run: start the target held (its stdin a fifo), trace it with -p under /usr/bin/time -v, wait
# for rtmon's Tracing line, release the target, let rtmon end with it. Prints the peak in KiB.
one() {
	local cmd=$1
	shift
	local fifo=$tmp/gate
	rm -f "$fifo"
	mkfifo "$fifo"
	"$@" <"$fifo" >/dev/null 2>&1 &
	local pid=$!
	exec 3>"$fifo"
	sleep "${SETTLE:-0.5}" # let a JVM or an interpreter reach its gate
	rm -f "$tmp/err" # the last run's Tracing line must not release this target early
	/usr/bin/time -v -o "$tmp/time" "$rtmon" $cmd -p "$pid" >/dev/null 2>"$tmp/err" &
	local tracer=$!
	for _ in $(seq 200); do
		grep -qs '^Tracing' "$tmp/err" && break
		sleep 0.05
	done
	echo >&3
	exec 3>&-
	wait "$pid" || true
	wait "$tracer" || { cat "$tmp/err" >&2; return 1; }
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time"
}

# Runs ROUNDS times and prints: NAME median min..max MiB.
measure() {
	local name=$1
	shift
	local v=()
	for _ in $(seq "$rounds"); do
		v+=("$("$@")")
	done
	printf '%s\n' "${v[@]}" | sort -n | awk -v n="$name" '{ a[NR] = $1 }
		END { printf "%-34s %6.1f  (%.1f..%.1f) MiB\n", n, a[int((NR + 1) / 2)] / 1024,
		      a[1] / 1024, a[NR] / 1024 }'
}

# ps, tree and info attach nothing: their peak is the command itself.
plain() {
	/usr/bin/time -v -o "$tmp/time" "$rtmon" "$@" >/dev/null
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time"
}

measure "malloc (C, testprog/alloc)" one malloc "$tp/alloc"
measure "malloc (Go, testprog/go/gomalloc)" one malloc "$tp/go/gomalloc"
measure "thr (C, testprog/churn)" one thr "$tp/churn"
measure "thr (Go, testprog/go/goroutines)" one thr "$tp/go/goroutines"
measure "lat (C, testprog/churn)" one lat "$tp/churn"
measure "lat (Go, testprog/go/goroutines)" one lat "$tp/go/goroutines"
measure "gc (Go, testprog/go/gcprog)" one gc "$tp/go/gcprog"
measure "gc (Boehm, testprog/gc_boehm)" one gc "$tp/gc_boehm"
if [ -x "$py" ]; then
	measure "gc (CPython, testprog/pygc.py)" one gc "$py" "$(dirname "$build")/testprog/pygc.py"
fi
if command -v "$java" >/dev/null; then
	measure "gc (HotSpot, GcProg)" one gc "$java" -XX:+UseSerialGC -Xmx64m \
		-cp "$tp/java" GcProg
	measure "thr (HotSpot, ThreadsProg)" one thr "$java" -cp "$tp/java" ThreadsProg
fi
measure "ps" plain ps
measure "tree" plain tree
measure "info PID" plain info $$

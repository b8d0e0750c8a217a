#!/usr/bin/env bash
# rtmon's JSON writer against libjansson and json-c on a million thread events (tests/bench/json_writer.c).
# Usage: tests/bench/json-writer.sh [BUILD]   (needs libjansson-dev and libjson-c-dev)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build}/bench
mkdir -p "$out"
libs=("" "" "-ljansson" "-ljson-c" "")
for w in 1 4 2 3; do
	cc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -DWRITER=$w -Iuser -Ibpf tests/bench/json_writer.c \
		user/output/escape.c user/output/json.c user/output/hist.c -o "$out/json_writer$w" ${libs[$w]}
done
for w in 1 4 2 3; do "$out/json_writer$w"; done

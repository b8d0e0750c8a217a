#!/usr/bin/env bash
# `make demo`: runs rtmon against the bundled demo program (testprog/demo.c) and shows what it prints.
set -euo pipefail
build=${1:-build}
rtmon=$build/rtmon
demo=$build/testprog/demo

run() {
	echo
	echo "\$ sudo rtmon $*"
	"$rtmon" "$@"
}

run malloc -- "$demo"
if "$rtmon" --help | grep -q '^  thr '; then
	run thr -- "$demo"
	run lat -- "$demo"
fi

#!/usr/bin/env bash
# Runs the fuzz harnesses (docs/fuzzing.md):
#
#   tests/fuzz/run.sh FUZZ_DIR SECONDS HARNESS...
#
# For each harness: its regression seeds (tests/fuzz/regress/HARNESS/*), each run once, then
# SECONDS of fuzzing from the corpus kept in FUZZ_DIR/corpus/HARNESS, the seeds made by
# mkseeds.py and the regression seeds. Fails on any crash, sanitizer report, leak, timeout (10 s
# for one input) or out-of-memory: the input is in FUZZ_DIR/artifacts/HARNESS/ and the log in
# FUZZ_DIR/logs/HARNESS.log. Every harness runs, then the script exits non-zero if one failed.
set -uo pipefail

dir=${1:?usage: $0 FUZZ_DIR SECONDS HARNESS...}
seconds=${2:?usage: $0 FUZZ_DIR SECONDS HARNESS...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)

# The longest input of each harness: its largest seed with room to grow (mkseeds.py keeps the ELF
# seeds small); the maps harness takes a whole maps file.
declare -A max_len=([objfile]=131072 [buildinfo]=32768 [gosymtab]=163840 [runtime_id]=131072
                    [maps]=65536 [perfdata]=65536)
# ASan reports leaks at exit and after each input; UBSan stops at its first report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

opts=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
failed=()
mkdir -p "$dir/logs"
for h in "$@"; do
  bin=$dir/fuzz_$h
  regress=$here/regress/$h
  corpus=$dir/corpus/$h
  artifacts=$dir/artifacts/$h/
  log=$dir/logs/$h.log
  mkdir -p "$corpus" "$artifacts"
  : >"$log"
  ok=1
  shopt -s nullglob
  seeds=("$regress"/*)
  shopt -u nullglob
  dirs=("$corpus" "$dir/seeds/$h")
  [ ${#seeds[@]} -gt 0 ] && dirs+=("$regress")
  if [ ${#seeds[@]} -gt 0 ] &&
     ! "$bin" "${opts[@]}" -artifact_prefix="$artifacts" "${seeds[@]}" \
       </dev/null >>"$log" 2>&1; then
    echo "fuzz $h: a regression seed fails again (tests/fuzz/regress/$h/):" >&2
    ok=0
  fi
  if [ $ok = 1 ] &&
     ! "$bin" "${opts[@]}" -max_len="${max_len[$h]:-65536}" -max_total_time="$seconds" \
       -artifact_prefix="$artifacts" "${dirs[@]}" </dev/null >>"$log" 2>&1; then
    ok=0
  fi
  # The last status line: "#N DONE cov: C ft: F corp: ... exec/s: E ..."
  status=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  if [ $ok = 1 ]; then
    echo "fuzz $h: ${seconds}s, no finding: $status"
  else
    failed+=("$h")
    grep -E 'ERROR: |SUMMARY: |runtime error: |Assertion|Test unit written to' "$log" |
      head -n 20 >&2
    echo "fuzz $h: FAILED (log: $log; input: $artifacts). Reproduce with $bin INPUT;" \
         "after the fix, keep INPUT as tests/fuzz/regress/$h/NAME." >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi

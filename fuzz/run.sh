#!/usr/bin/env bash
# Runs every fuzzing harness built in BUILD_DIR for SECONDS each, one after the other
# (fuzz/README.md): seeds from make_corpus.sh, the format's dictionary, a 10 s per-input
# timeout and libFuzzer's 2 GB memory limit. Inputs that add coverage accumulate in
# BUILD_DIR/fuzz-corpus/<what> (kept between runs); a crash, leak, sanitizer report, timeout or
# over-limit allocation leaves its input in BUILD_DIR/fuzz-artifacts/ and fails the run after
# the remaining harnesses have had their turn. Cost: SECONDS x harnesses, on one core.
# Usage: fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
build=$(realpath "$1")
secs=$2
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/fuzz/make_corpus.sh" "$build/hetcomp" "$build/fuzz-seeds" 2>/dev/null
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
# one thread: the harnesses are single-input programs, and the machine is shared
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for bin in "$build"/fuzz_*; do
  what=${bin##*/fuzz_}
  mkdir -p "$build/fuzz-corpus/$what"
  log=$build/fuzz-logs/$what.log
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$root/fuzz/$what.dict" -artifact_prefix="$build/fuzz-artifacts/$what-" \
    "$build/fuzz-corpus/$what" "$build/fuzz-seeds/$what" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$what")
    grep -A 30 -m 1 -E '^==[0-9]+==|runtime error|^SUMMARY' "$log" >&2 || tail -n 30 "$log" >&2
  fi
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  printf 'fuzz %-10s %-6s %10s runs, coverage %s edges, corpus %s inputs\n' "$what" "$status" \
    "${runs:-?}" "${cov:-?}" "$(ls "$build/fuzz-corpus/$what" | wc -l)"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}: see $build/fuzz-logs/ and $build/fuzz-artifacts/" >&2
  exit 1
fi

#!/usr/bin/env bash
# Runs every fuzzing harness built in BUILD_DIR for SECONDS each, FUZZ_JOBS at a time (default:
# the number of cores; fuzz/README.md): seeds from make_corpus.sh, the format's dictionary, a
# per-input timeout (FUZZ_TIMEOUT, 10 s) and libFuzzer's 2 GB memory limit. Inputs that add
# coverage accumulate in BUILD_DIR/fuzz-corpus/<what> (kept between runs); a crash, leak,
# sanitizer report, timeout or over-limit allocation leaves its input in
# BUILD_DIR/fuzz-artifacts/ and fails the run after every harness has had its turn.
# Cost: SECONDS x harnesses / FUZZ_JOBS of wall time, each harness on one core.
# Usage: fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
build=$(realpath "$1")
secs=$2
jobs=${FUZZ_JOBS:-$(nproc)}
timeout=${FUZZ_TIMEOUT:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/fuzz/make_corpus.sh" "$build/hetcomp" "$build/fuzz-seeds" 2>/dev/null
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
# one thread each: the harnesses are single-input programs, and they run side by side
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# fuzz_one WHAT: one harness; its exit status is the run's verdict, its report in its log
fuzz_one() {
  local what=$1
  mkdir -p "$build/fuzz-corpus/$what"
  "$build/fuzz_$what" -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$root/fuzz/$what.dict" \
    -artifact_prefix="$build/fuzz-artifacts/$what-" \
    "$build/fuzz-corpus/$what" "$build/fuzz-seeds/$what" >"$build/fuzz-logs/$what.log" 2>&1
}

harnesses=()
for bin in "$build"/fuzz_*; do harnesses+=("${bin##*/fuzz_}"); done
declare -A pid_of
for what in "${harnesses[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$what" &
  pid_of[$what]=$!
done

# the verdicts and one line each, in harness order
failed=()
for what in "${harnesses[@]}"; do
  log=$build/fuzz-logs/$what.log
  if wait "${pid_of[$what]}"; then
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

# shellcheck shell=bash
# common.sh - helpers shared by the bench/*.sh scripts (sourced, not run).
#
# Locates the shared data and the PyTorch reference, the hetcomp binary and a scratch
# directory; builds the CiteULike-t dataset file from the reference split; runs a command
# under GNU time to record its wall time and peak resident set size; checks that the
# reference's Python stack imports and uses OpenBLAS; prints the machine and the run's
# settings (bench/README.md: every benchmark prints machine, threads, seed and commit).
#
# Environment (all optional):
#   HETCOMP_DATA_DIR  shared data directory (default: ../shared/data beside the checkout)
#   HETCOMP_REF_DIR   PyTorch reference (default: $HETCOMP_DATA_DIR/../reference/torch)
#   HETCOMP           hetcomp binary (default: build/hetcomp in the checkout)
#   BENCH_WORK        scratch directory (default: a fresh mktemp -d, removed on exit)
#   BENCH_THREADS     threads for hetcomp and the reference (default: 2, the reference's)
#   BENCH_KEEP=1      keep the scratch directory
#   PYTHON            interpreter for the reference (default: /usr/bin/python3, Debian's)

BC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BC_THREADS=${BENCH_THREADS:-2}
BC_PY=${PYTHON:-/usr/bin/python3}
BC_TIME=/usr/bin/time

bc_die() {
    echo "bench: error: $*" >&2
    exit 1
}

bc_warn() {
    echo "bench: warning: $*" >&2
}

# Sets BC_DATA (shared data dir) and BC_SPLIT (CiteULike-t reference split) or dies.
bc_locate_data() {
    BC_DATA=${HETCOMP_DATA_DIR:-$BC_ROOT/../shared/data}
    [ -d "$BC_DATA" ] || bc_die "shared data not found at $BC_DATA" \
        "(put ../shared beside the checkout or set HETCOMP_DATA_DIR to its data/ directory)"
    BC_DATA=$(cd "$BC_DATA" && pwd)
    BC_SPLIT=$BC_DATA/citeulike-t/split
    for f in train.tsv valid.tsv test.tsv; do
        [ -r "$BC_SPLIT/$f" ] || bc_die "missing $BC_SPLIT/$f (the CiteULike-t reference split)"
    done
}

# Sets BC_REF (PyTorch reference directory) or dies. Needs bc_locate_data first.
bc_locate_ref() {
    BC_REF=${HETCOMP_REF_DIR:-$BC_DATA/../reference/torch}
    if [ ! -r "$BC_REF/teachers.py" ] || [ ! -r "$BC_REF/common.py" ]; then
        bc_die "PyTorch reference not found at $BC_REF (set HETCOMP_REF_DIR)"
    fi
    BC_REF=$(cd "$BC_REF" && pwd)
    [ -r "$BC_DATA/citeulike-t/users.dat" ] ||
        bc_die "missing $BC_DATA/citeulike-t/users.dat (the reference reads the raw file)"
}

# Sets BC_BIN (hetcomp binary) from $1, $HETCOMP or build/hetcomp, or dies.
bc_locate_bin() {
    BC_BIN=${1:-${HETCOMP:-$BC_ROOT/build/hetcomp}}
    [ -x "$BC_BIN" ] || bc_die "hetcomp binary not found at $BC_BIN" \
        "(run 'make bench' or pass --bin PATH / set HETCOMP)"
    BC_BIN=$(cd "$(dirname "$BC_BIN")" && pwd)/$(basename "$BC_BIN")
}

# Checks GNU time (peak RSS) is there; installs the 'time' package when root, else dies.
bc_need_time() {
    [ -x "$BC_TIME" ] && "$BC_TIME" -v true 2>/dev/null && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "bench: installing GNU time" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1; }
    fi
    "$BC_TIME" -v true 2>/dev/null ||
        bc_die "GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time"
}

# Creates the scratch directory BC_WORK (removed on exit unless BENCH_KEEP=1 or BENCH_WORK set).
bc_make_work() {
    if [ -n "${BENCH_WORK:-}" ]; then
        BC_WORK=$BENCH_WORK
        mkdir -p "$BC_WORK" || bc_die "cannot create $BC_WORK"
    else
        BC_WORK=$(mktemp -d "${TMPDIR:-/tmp}/hetcomp-bench.XXXXXX") ||
            bc_die "cannot create a scratch directory"
        [ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$BC_WORK"' EXIT
    fi
}

# Builds the dataset file of the reference split into BC_DS (needs BC_BIN, BC_SPLIT, BC_WORK).
bc_build_dataset() {
    BC_DS=$BC_WORK/citeulike-t.hcd
    "$BC_BIN" split --import "$BC_SPLIT" --out "$BC_DS" >"$BC_WORK/split.log" 2>&1 ||
        { cat "$BC_WORK/split.log" >&2; bc_die "hetcomp split --import $BC_SPLIT failed"; }
    BC_DS_INFO=$(grep -m 1 "evaluated users" "$BC_WORK/split.log" | sed "s|^[^:]*: ||")
}

# bc_timed PREFIX CMD...: runs CMD with stdout in PREFIX.out, stderr in PREFIX.err and GNU
# time's report in PREFIX.time; returns CMD's status. Read the results with bc_rss_mb and
# bc_wall_s.
bc_timed() {
    local prefix=$1
    shift
    "$BC_TIME" -v -o "$prefix.time" "$@" >"$prefix.out" 2>"$prefix.err"
}

# Peak resident set size in MB from PREFIX.time.
bc_rss_mb() {
    awk -F: '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1.time"
}

# Wall seconds from PREFIX.time ("h:mm:ss" or "m:ss.ss").
bc_wall_s() {
    awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, a, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + a[i]
        printf "%.2f", s }' "$1.time"
}

# Share of the CPU the command got, from PREFIX.time ("150%": 1.5 cores busy on average).
bc_cpu() {
    awk -F': ' '/Percent of CPU/ {print $2}' "$1.time"
}

# Shows the tail of a failed command's output and dies.
bc_fail_run() {
    local prefix=$1 what=$2
    echo "---- $what: last lines of stderr ($prefix.err)" >&2
    tail -n 15 "$prefix.err" >&2
    tail -n 5 "$prefix.out" >&2
    trap - EXIT # keep the scratch directory for a look
    bc_die "$what failed (output kept in $(dirname "$prefix"))"
}

# Checks that the reference's interpreter imports torch and numpy and that torch runs its
# matrix products on OpenBLAS (Debian's torch falls back to the reference BLAS, about 38x
# slower, when libblas.so.3 points there). Sets BC_TORCH (version) and BC_TORCH_BLAS.
bc_check_torch() {
    [ -x "$BC_PY" ] || bc_die "$BC_PY not found (the reference needs Debian's python3;" \
        "run bench/setup.sh as root)"
    local out
    out=$(OPENBLAS_NUM_THREADS=$BC_THREADS "$BC_PY" - 2>&1 <<'EOF'
import sys
try:
    import numpy, torch
except Exception as e:
    print("IMPORT-FAILED %s" % e)
    sys.exit(0)
a = torch.ones(64, 64); (a @ a).sum().item()
libs = sorted({l.split()[-1] for l in open('/proc/self/maps')
               if 'blas' in l.rsplit('/', 1)[-1] or 'lapack' in l.rsplit('/', 1)[-1]})
print("TORCH %s" % torch.__version__)
print("BLAS %s" % (",".join(libs) or "none"))
EOF
    ) || bc_die "$BC_PY failed: $out"
    case $out in
    *IMPORT-FAILED*)
        bc_die "the reference cannot import torch/numpy with $BC_PY (${out#IMPORT-FAILED }):" \
            "run bench/setup.sh as root (python3-torch python3-numpy libopenblas0-pthread)" ;;
    esac
    BC_TORCH=$(sed -n 's/^TORCH //p' <<<"$out")
    BC_TORCH_BLAS=$(sed -n 's/^BLAS //p' <<<"$out")
    case $BC_TORCH_BLAS in
    *openblas*) ;;
    *)
        if [ "${BENCH_ALLOW_REF_BLAS:-0}" = 1 ]; then
            bc_warn "torch uses $BC_TORCH_BLAS, not OpenBLAS: reference times are inflated"
        else
            bc_die "torch uses '$BC_TORCH_BLAS', not OpenBLAS, so the reference would be" \
                "~38x slower and every ratio meaningless: run bench/setup.sh as root, or" \
                "point the libblas.so.3 alternative at OpenBLAS (see bench/README.md);" \
                "BENCH_ALLOW_REF_BLAS=1 overrides"
        fi ;;
    esac
}

# The 1-minute load average (a busy machine skews every ratio).
bc_load() {
    cut -d' ' -f1 /proc/loadavg
}

# Prints the machine and the run's settings.
bc_machine_info() {
    local cpu commit dirty
    cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
    commit=$(git -C "$BC_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    dirty=$(git -C "$BC_ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -n 1)
    [ -n "$dirty" ] && commit="$commit (+uncommitted changes)"
    echo "# date      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "# machine   $(nproc) cores, ${cpu:-unknown CPU}," \
        "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "# load      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; a busy machine skews ratios)"
    # with autogroup scheduling every session gets a fair share of the cores, so a nice 19 job
    # started elsewhere still takes half of them from a benchmark (bench/README.md)
    [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ] &&
        echo "# sched     autogroup on: other sessions' jobs share the cores whatever their nice"
    echo "# commit    $commit"
    echo "# hetcomp   $BC_BIN ($("$BC_BIN" --version 2>/dev/null | head -n 1 || echo '?'))"
    echo "# threads   $BC_THREADS (hetcomp --threads; reference torch 2 + OPENBLAS_NUM_THREADS)"
    [ -n "${BC_DS_INFO:-}" ] && echo "# data      $BC_DS_INFO"
    [ -n "${BC_TORCH:-}" ] && echo "# reference torch $BC_TORCH, BLAS $BC_TORCH_BLAS"
    return 0
}

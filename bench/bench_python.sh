#!/usr/bin/env bash
# bench_python.sh - the Python package's overhead against the CLI on the same work.
#  1. one HetComp distillation: the same dataset file, the same two teacher trajectories (MF
#     and ML trained by the CLI) and the same flags, run as `hetcomp distill` and as a Python
#     process (import, load the dataset and trajectories, hetcomp.distill, save the model),
#     alternating, --runs times each: process wall seconds, median and min, and their ratio;
#     the students' test R@50 printed as the check (identical: same seed, same code);
#  2. a batch of 10,000 recommendations (top-10 of every user of a 10,000-user dataset):
#     `hetcomp recommend --bench`'s all_users_s (the C loop alone) against
#     the same hc_recommend call timed in a C program, and Model.recommend(np.arange(10000),
#     k=10) timed in Python; min and median over --runs.
# Synthetic data (`hetcomp synth`), no shared data needed. About 3 minutes on 2 cores.
#
# usage: bench/bench_python.sh [--runs N] [--epochs N] [--recommend-only] [--bin PATH]
set -euo pipefail
# shellcheck source=bench/common.sh source-path=SCRIPTDIR/..
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

runs=3 epochs=20 bin= distill=1
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=${2:?--runs needs a value}; shift ;;
    --epochs) epochs=${2:?--epochs needs a value}; shift ;;
    --bin) bin=${2:?--bin needs a value}; shift ;;
    --recommend-only) distill=0 ;;
    -h | --help)
        awk 'NR > 1 && !/^#/ {exit} NR > 1 && !/shellcheck/ {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
        echo "environment: BENCH_THREADS (2), BENCH_WORK, BENCH_KEEP=1, PYTHON"
        exit 0 ;;
    *) bc_die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ && $epochs =~ ^[1-9][0-9]*$ ]] || bc_die "--runs/--epochs want positive integers"
bc_locate_bin "$bin"
BC_PYPATH=$(dirname "$BC_BIN")/python
[ -r "$BC_PYPATH/hetcomp/__init__.py" ] || bc_die "no Python package at $BC_PYPATH (build with HC_PYTHON)"
bc_make_work
cd "$BC_WORK"
B=$BC_BIN T=$BC_THREADS
echo "bench_python: $(git -C "$BC_ROOT" rev-parse --short HEAD), $(nproc) cores, $T threads," \
    "$runs runs, distillation $epochs epochs"

now() { date +%s.%N; }
stats() { sort -g | awk '{v[NR] = $1} END {printf "median %.3f min %.3f", v[int((NR + 1) / 2)], v[1]}'; }

if [ "$distill" = 1 ]; then
echo "- data: synth 3000 x 5000 x 100000 (the demo's), teachers mf and ml (dim 32, 20 epochs)"
$B synth --users 3000 --items 5000 --interactions 100000 --out X.tsv >/dev/null 2>&1
$B split --data X.tsv --out ds.hcd >/dev/null 2>&1
for m in mf ml; do
    $B teacher --model $m --data ds.hcd --out t/$m --dim 32 --epochs 20 --eval-every 5 \
        --threads "$T" --quiet >/dev/null 2>&1
done
cat >distill.py <<EOF
import sys, hetcomp
hetcomp.set_threads($T)
ds = hetcomp.Dataset.load("ds.hcd")
trajs = [hetcomp.Trajectory.load(f"t/{m}/trajectory.hct", ds) for m in ("mf", "ml")]
s = hetcomp.distill(ds, trajs, method="hetcomp", epochs=$epochs, eval_every=10)
s.save(sys.argv[1])
EOF
: >cli.s
: >py.s
for r in $(seq "$runs"); do
    t0=$(now)
    $B distill --method hetcomp --data ds.hcd --teachers t/mf t/ml --out cli$r --epochs "$epochs" \
        --eval-every 10 --threads "$T" --quiet >/dev/null 2>&1
    t1=$(now)
    PYTHONPATH=$BC_PYPATH "$BC_PY" distill.py py$r.hcm
    t2=$(now)
    awk -v a="$t0" -v b="$t1" "BEGIN {print b - a}" >>cli.s
    awk -v a="$t1" -v b="$t2" "BEGIN {print b - a}" >>py.s
    echo "  run $r: cli $(tail -1 cli.s) s, python $(tail -1 py.s) s"
done
r50() { $B eval --data ds.hcd --model "$1" 2>/dev/null | awk '$1 == "test" {print $6}'; }
echo "distill  cli    $(stats <cli.s)  test R@50 $(r50 cli1/model.hcm)"
echo "distill  python $(stats <py.s)  test R@50 $(r50 py1.hcm)"
awk 'NR == FNR {c[FNR] = $1; next} {p[FNR] = $1} END {
    n = FNR; for (i = 1; i <= n; i++) {sc += c[i]; sp += p[i]}
    printf "distill  python overhead: %+.2f %% of the CLI wall time (means %.3f vs %.3f s)\n",
        100 * (sp - sc) / sc, sp / n, sc / n}' cli.s py.s

fi

echo "- batch: top-10 of 10,000 users (synth 10000 x 5000 x 200000, a 6-dim BPR student)"
$B synth --users 10000 --items 5000 --interactions 200000 --out Y.tsv >/dev/null 2>&1
$B split --data Y.tsv --out big.hcd >/dev/null 2>&1
$B distill --method bpr --data big.hcd --out bpr --epochs 5 --eval-every 5 --threads "$T" --quiet \
    >/dev/null 2>&1
: >cli_rec.s
for r in $(seq "$runs"); do
    $B recommend --model bpr/model.hcm --data big.hcd --bench 100 -k 10 --threads "$T" 2>/dev/null |
        awk '$1 == "all_users_s" {print $2}' >>cli_rec.s
done
PYTHONPATH=$BC_PYPATH "$BC_PY" - "$runs" "$T" <<'EOF'
import sys, time
import numpy as np
import hetcomp
runs, threads = int(sys.argv[1]), int(sys.argv[2])
hetcomp.set_threads(threads)
ds = hetcomp.Dataset.load("big.hcd")
m = hetcomp.load("bpr/model.hcm", ds)
users = np.arange(ds.n_users, dtype=np.int32)
best = []
for _ in range(runs):
    t0 = time.perf_counter()
    items, scores = m.recommend(users, k=10)
    best.append(time.perf_counter() - t0)
assert items.shape == (10000, 10)
with open("py_rec.s", "w") as f:
    f.writelines(f"{t:.6f}\n" for t in best)
EOF
# The same call from C: hc_recommend over the 10,000 users, linked with the build's library.
cat >rec.c <<'EOF'
#include <hetcomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv)
{
    hc_dataset ds;
    hc_model *m;
    (void)argc;
    hc_set_threads(atoi(argv[2]));
    if (hc_dataset_load("big.hcd", &ds) || hc_model_load("bpr/model.hcm", &ds, &m))
        return fprintf(stderr, "%s\n", hc_errmsg()), 1;
    int32_t n = ds.n_users, *u = malloc(n * sizeof *u), *it = malloc(n * 10 * sizeof *it);
    float *sc = malloc(n * 10 * sizeof *sc);
    for (int32_t i = 0; i < n; i++)
        u[i] = i;
    for (int r = 0; r < atoi(argv[1]); r++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (hc_recommend(m, &ds, u, n, 10, HC_EXCLUDE_TRAIN, it, sc, NULL))
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec));
    }
    return 0;
}
EOF
cc -O2 -std=c11 rec.c -I"$BC_ROOT/include" "$(dirname "$BC_BIN")/libhetcomp.a" \
    $(pkg-config --libs openblas jansson libxxhash libmicrohttpd) -fopenmp -lm -o rec
./rec "$runs" "$T" >c_rec.s
echo "recommend cli (all_users_s) $(stats <cli_rec.s)"
echo "recommend C hc_recommend    $(stats <c_rec.s)"
echo "recommend python            $(stats <py_rec.s)"
awk 'NR == FNR {if (c == "" || $1 < c) c = $1; next} {if (p == "" || $1 < p) p = $1} END {
    printf "recommend python overhead vs C: %+.2f ms (%+.1f %%) on 10,000 users (mins)\n",
        1000 * (p - c), 100 * (p - c) / c}' c_rec.s py_rec.s

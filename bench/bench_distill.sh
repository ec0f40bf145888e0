#!/usr/bin/env bash
# bench_distill.sh - HetComp distillation speed and memory on the CiteULike-t reference split:
# seconds per training epoch of the d = 6 student (evaluation excluded) and peak RSS, next to
# the authors' PyTorch code on this machine as docs/method.md §11 gives it (44.9 s per
# epoch; target: at most 1/10 of it). The teachers' quality does not change the cost of an
# epoch, only their number and list length do, so by default six short teachers are trained
# first (mf, ml, gnn and the other families 'hetcomp teacher --help' lists, a few epochs
# each); --teachers uses trajectories you already have.
#
# usage: bench/bench_distill.sh [--epochs N] [--bin PATH] [--teachers DIR ...]
set -euo pipefail
# shellcheck source=bench/common.sh source-path=SCRIPTDIR/..
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

epochs=3
bin=
teachers=()
while [ $# -gt 0 ]; do
    case $1 in
    --epochs)
        [ $# -ge 2 ] || bc_die "--epochs needs a value"
        epochs=$2
        shift ;;
    --bin)
        [ $# -ge 2 ] || bc_die "--bin needs a value"
        bin=$2
        shift ;;
    --teachers)
        shift
        while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do
            teachers+=("$1")
            shift
        done
        continue ;;
    -h | --help)
        awk 'NR > 1 && !/^#/ {exit} NR > 1 && !/shellcheck/ {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
        echo "environment: HETCOMP_DATA_DIR, BENCH_THREADS (2), BENCH_WORK, BENCH_KEEP=1"
        exit 0 ;;
    *) bc_die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
[[ $epochs =~ ^[1-9][0-9]*$ ]] || bc_die "--epochs wants a positive integer, not '$epochs'"

bc_locate_data
bc_locate_bin "$bin"
bc_need_time
bc_make_work
bc_build_dataset

echo "# hetcomp distill --method hetcomp: $epochs epochs, student d = 6"
bc_machine_info
if [ ${#teachers[@]} -eq 0 ]; then
    models=$("$BC_BIN" teacher --help | awk '/^models:/{f=1;next} f&&NF==0{exit} f{print $1}')
    for m in $models; do
        p=$BC_WORK/teacher-$m
        "$BC_BIN" teacher --model "$m" --data "$BC_DS" --out "$p" --epochs 4 --eval-every 1 \
            --threads "$BC_THREADS" --quiet >"$p.out" 2>"$p.err" ||
            bc_fail_run "$p" "hetcomp teacher --model $m"
        teachers+=("$p")
    done
fi
echo "# teachers: ${teachers[*]}"
p=$BC_WORK/distill
bc_timed "$p" "$BC_BIN" distill --method hetcomp --data "$BC_DS" --teachers "${teachers[@]}" \
    --out "$p.d" --epochs "$epochs" --eval-every 1000 --threads "$BC_THREADS" --quiet ||
    bc_fail_run "$p" "hetcomp distill"
spe=$(awk '$1 == "s_per_epoch" {print $2}' "$p.out")
[ -n "$spe" ] || bc_fail_run "$p" "reading s_per_epoch"
echo
printf '%-34s %10s\n' "" "s/epoch"
printf '%-34s %10s\n' "authors' code on CPU" "44.9"
printf '%-34s %10s\n' "hetcomp" "$spe"
awk -v h="$spe" 'BEGIN { printf "ratio (authors / hetcomp)          %10.1f   target >= 10\n", 44.9 / h }'
echo "peak RSS                           $(bc_rss_mb "$p") MB (the authors' code keeps dense users x items matrices: 12.6 GB of inputs)"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

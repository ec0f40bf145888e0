#!/usr/bin/env bash
# bench_scale.sh - the pipeline at catalog scale on 'hetcomp synth' data: 48,000 users x
# 82,000 items x 600,000 interactions (the shape of the Amazon-book subsets in the
# literature) and 1,000,000 x 1,000,000 x 10,000,000. For each size it runs split, the
# teachers with their trajectories, the ensemble and HetComp distillation, and prints per
# stage the wall seconds, CPU seconds (user + system) and peak RSS; for the distiller it
# also prints s/epoch of the exact rest sums and of sampled rest sets (--rest exact and
# --rest sampled, the same teachers, in one run) and their ratio, at the bench's thread count
# and, at 48k, at one thread. Training is capped (a few
# epochs per teacher, a few distillation epochs): the costs per epoch are what it measures,
# not converged accuracy (bench/README.md has full runs).
#
# usage: bench/bench_scale.sh [--size 48k|1m|both] [--teachers "mf gnn"] [--teacher-epochs N]
#                             [--exact-epochs N] [--sampled-epochs N] [--no-one-thread]
#                             [--bin PATH]
#   --size            which dataset (48k)
#   --teachers        teacher families to train (mf ml gnn)
#   --teacher-epochs  epochs per teacher (10; trajectories of 2 checkpoints)
#   --exact-epochs    epochs of the exact distiller (2; an epoch takes ~1 min at 48k)
#   --sampled-epochs  epochs of the sampled distiller (10)
#   --no-one-thread   at 48k, skip the second exact/sampled pair at one thread (~1.5 min)
# At 1m the exact distiller is skipped (an epoch would take hours), the teachers use d = 32
# (their trajectory snapshots rank 10^12 pairs) and LightGCN takes batches of 65,536 at
# learning rate 0.01: each of its steps propagates over the whole graph, so the default
# batch of 1,024 (6,700 steps) would take hours an epoch.
set -euo pipefail
# shellcheck source=bench/common.sh source-path=SCRIPTDIR/..
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

size=48k
teachers="mf ml gnn"
t_epochs=10
x_epochs=2
s_epochs=10
one_thread=1
bin=
declare -A ratio
while [ $# -gt 0 ]; do
    case $1 in
    --size | --teachers | --teacher-epochs | --exact-epochs | --sampled-epochs | --bin)
        [ $# -ge 2 ] || bc_die "$1 needs a value"
        case $1 in
        --size) size=$2 ;;
        --teachers) teachers=$2 ;;
        --teacher-epochs) t_epochs=$2 ;;
        --exact-epochs) x_epochs=$2 ;;
        --sampled-epochs) s_epochs=$2 ;;
        --bin) bin=$2 ;;
        esac
        shift ;;
    --no-one-thread) one_thread=0 ;;
    -h | --help)
        awk 'NR > 1 && !/^#/ {exit} NR > 1 && !/shellcheck/ {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
        echo "environment: BENCH_THREADS (2), BENCH_WORK, BENCH_KEEP=1"
        exit 0 ;;
    *) bc_die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
case $size in
48k) sizes=(48k) ;;
1m) sizes=(1m) ;;
both) sizes=(48k 1m) ;;
*) bc_die "--size takes 48k, 1m or both, not '$size'" ;;
esac

bc_locate_bin "$bin"
bc_need_time
bc_make_work
bc_machine_info
T=$BC_THREADS

# CPU seconds (user + system) from PREFIX.time.
cpu_s() {
    awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.1f", u + s}' "$1.time"
}

# stage NAME PREFIX CMD...: runs CMD timed and prints its row.
stage() {
    local name=$1 prefix=$2
    shift 2
    bc_timed "$prefix" "$@" || bc_fail_run "$prefix" "$name"
    printf "%-32s %10s %10s %10s\n" "$name" "$(bc_wall_s "$prefix")" "$(cpu_s "$prefix")" \
        "$(bc_rss_mb "$prefix")"
}

# s/epoch of a distillation run's log.json.
per_epoch() {
    sed -n 's/.*"train_s_per_epoch": *\([0-9.e+-]*\).*/\1/p' "$1/log.json" | head -n 1
}

for sz in "${sizes[@]}"; do
    W=$BC_WORK/$sz
    mkdir -p "$W"
    if [ "$sz" = 48k ]; then
        nu=48000 ni=82000 nx=600000 dim_flag=() gnn_flag=()
    else
        nu=1000000 ni=1000000 nx=10000000 dim_flag=(--dim 32) gnn_flag=(--batch 65536 --lr 0.01)
    fi
    echo
    echo "## $sz: synth --users $nu --items $ni --interactions $nx (threads $T)"
    printf "%-32s %10s %10s %10s\n" stage "wall s" "CPU s" "RSS MB"
    stage synth "$W/synth" "$BC_BIN" synth --users $nu --items $ni --interactions $nx \
        --seed 1 --out "$W/data.tsv"
    stage split "$W/split" "$BC_BIN" split --data "$W/data.tsv" --out "$W/data.hcd"
    tdirs=()
    for m in $teachers; do
        fam_flag=()
        [ "$m" = gnn ] && fam_flag=("${gnn_flag[@]}")
        stage "teacher $m ($t_epochs ep)" "$W/t_$m" "$BC_BIN" teacher --model "$m" \
            --data "$W/data.hcd" --out "$W/t/$m" --epochs "$t_epochs" \
            --eval-every "$t_epochs" --checkpoints 2 "${dim_flag[@]}" "${fam_flag[@]}" \
            --threads "$T" --quiet
        tdirs+=("$W/t/$m")
    done
    stage ensemble "$W/ens" "$BC_BIN" ensemble --data "$W/data.hcd" --teachers "${tdirs[@]}" \
        --threads "$T"
    # the distiller at the bench's thread count and, at 48k, at one thread too (the exact
    # path scales better over threads than the sampled one, whose rows move between cores)
    dthreads=("$T")
    [ "$sz" = 48k ] && [ "$T" != 1 ] && [ "$one_thread" = 1 ] && dthreads+=(1)
    for dt in "${dthreads[@]}"; do
        x_s=
        if [ "$sz" = 48k ]; then
            stage "distill exact ($x_epochs ep, $dt thr)" "$W/dx$dt" "$BC_BIN" distill \
                --method hetcomp --data "$W/data.hcd" --teachers "${tdirs[@]}" --out "$W/sx$dt" \
                --rest exact --epochs "$x_epochs" --threads "$dt" --quiet
            x_s=$(per_epoch "$W/sx$dt")
        fi
        stage "distill sampled ($s_epochs ep, $dt thr)" "$W/ds$dt" "$BC_BIN" distill \
            --method hetcomp --data "$W/data.hcd" --teachers "${tdirs[@]}" --out "$W/ss$dt" \
            --rest sampled --epochs "$s_epochs" --threads "$dt" --quiet
        s_s=$(per_epoch "$W/ss$dt")
        ratio[$dt]=$(awk -v x="$x_s" -v s="$s_s" 'BEGIN {
            if (x == "") printf "exact skipped, sampled %.3f", s
            else printf "exact %.2f, sampled %.3f: %.1fx", x, s, x / s }')
    done
    echo
    echo "distillation s/epoch (evaluation excluded; S = 1000, popularity proposal):"
    for dt in "${dthreads[@]}"; do
        echo "  $dt thread(s): ${ratio[$dt]}"
    done
done

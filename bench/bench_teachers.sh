#!/usr/bin/env bash
# bench_teachers.sh - teacher training speed of hetcomp against the PyTorch reference, run
# side by side on this machine (speed is quoted as a ratio measured in one run), and
# with --full, hetcomp's converged teachers against the accuracy table of docs/method.md §11.
#
# Quick mode (default): for each model, the reference trains a few epochs
# (teachers.py MODEL ... --max_epochs N --eval_every N --record 0) and prints seconds per
# training epoch; then hetcomp trains the same few epochs at the same configuration with
# evaluation effectively off (--eval-every 1000000 --no-trajectory). Both evaluate after
# epoch 1 and the last epoch only, and both exclude evaluation from s/epoch.
# Prints model | ref s/epoch | hetcomp s/epoch | ratio (ref/hetcomp) | target >= 5 | peak RSS,
# the CPU share each side got, and both sides' validation R@50 after the last epoch as a
# sanity check (a fast wrong answer shows; randomness differs, so expect close, not equal).
# With --repeat N the pair runs N times, alternating reference and hetcomp, and each side's
# s/epoch is the median of its N runs (the ratio is of the medians; min-max shown beside):
# on a shared machine one run of each side can be 10% off.
#
# Full mode (--full): hetcomp only, trained to convergence (early stopping, patience 5) at the
# reference configuration; prints test R@10/N@10/R@50/N@50 at the best validation R@50, best
# epoch, s/epoch and peak RSS beside the figures of docs/method.md §11. Takes minutes per model.
#
# usage: bench/bench_teachers.sh [--full] [--epochs N] [--repeat N] [--bin PATH] [model ...]
#        models: mf ml gnn (default), plus dl ae iae when 'hetcomp teacher --help' lists them
# shellcheck disable=SC2059 # the table rows share one printf format, $fmt
set -euo pipefail
# shellcheck source=bench/common.sh source-path=SCRIPTDIR/..
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
    awk 'NR > 1 && !/^#/ {exit} NR > 1 && !/shellcheck/ {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
    cat <<'EOF'
options:
  --full        train hetcomp teachers to convergence and compare accuracy with the
                reference table (docs/method.md section 11)
  --epochs N    epochs per side in quick mode (default 3)
  --repeat N    quick mode: N alternating runs per side, medians compared (default 1)
  --bin PATH    hetcomp binary (default: $HETCOMP or build/hetcomp)
  -h, --help    this help
environment: HETCOMP_DATA_DIR, HETCOMP_REF_DIR, BENCH_THREADS (2), BENCH_WORK, BENCH_KEEP=1,
  BENCH_HC_ARGS_<model> (extra hetcomp teacher flags, e.g. BENCH_HC_ARGS_dl="--layers 3"),
  PYTHON (/usr/bin/python3); see bench/README.md.
EOF
}

# ---- the reference configurations (docs/method.md §11)
# reference teachers.py arguments
ref_args() {
    case $1 in
    mf) echo "MF --dim 128" ;;
    ml) echo "ML --dim 128" ;;
    dl) echo "DL --dim 64" ;;
    gnn) echo "GNN --dim 64 --lr 0.002 --wd 0" ;;
    ae) echo "AE --dim 200" ;;
    iae) echo "IAE --dim 200 --lr 0.005" ;;
    esac
}
# the same configuration spelled for hetcomp teacher (teachers.py defaults: lr 1e-3, reg 1e-5)
hc_args() {
    case $1 in
    mf) echo "--dim 128 --lr 0.001 --wd 1e-5 --batch 1024 --negatives 1" ;;
    ml) echo "--dim 128 --lr 0.001 --wd 1e-5 --margin 1 --batch 1024 --negatives 1" ;;
    dl) echo "--dim 64 --lr 0.001 --wd 1e-5 --batch 1024 --negatives 4" ;;
    gnn) echo "--dim 64 --lr 0.002 --wd 0 --l2 1e-4 --layers 2 --batch 2048 --negatives 1" ;;
    ae) echo "--dim 200 --lr 0.001 --wd 1e-5 --batch 128" ;;
    iae) echo "--dim 200 --lr 0.005 --wd 1e-5 --batch 256" ;;
    esac
    local extra=BENCH_HC_ARGS_$1
    [ -z "${!extra:-}" ] || echo "${!extra}"
}
# the reference's evaluation interval (full mode; patience 5 evaluations on both sides)
eval_every() {
    case $1 in
    dl) echo 3 ;;
    gnn) echo 10 ;;
    *) echo 5 ;;
    esac
}
# the teacher table of docs/method.md §11: R@10 N@10 R@50 N@50 s/epoch epochs best-epoch capped
target_row() {
    case $1 in
    mf) echo "0.1298 0.0975 0.2684 0.1348 1.24 145 120 no" ;;
    ml) echo "0.1200 0.0886 0.2645 0.1257 1.43 158 155 yes" ;;
    dl) echo "0.0981 0.0731 0.2193 0.1052 8.99 23 21 yes" ;;
    gnn) echo "0.1389 0.1023 0.2892 0.1421 2.04 148 130 yes" ;;
    ae) echo "0.1470 0.1101 0.3109 0.1534 8.51 30 30 yes" ;;
    iae) echo "0.0652 0.0561 0.1486 0.0772 10.90 20 20 yes" ;;
    esac
}
SPEED_TARGET=5      # ref s/epoch / hetcomp s/epoch (docs/method.md §11)
SEED_NOISE=0.005    # accuracy target: test R@50 >= reference - 0.005

# ---- options
full=0
epochs=3
repeat=1
bin=
models=()
while [ $# -gt 0 ]; do
    case $1 in
    --full) full=1 ;;
    --epochs)
        [ $# -ge 2 ] || bc_die "--epochs needs a value"
        epochs=$2
        shift ;;
    --epochs=*) epochs=${1#*=} ;;
    --repeat)
        [ $# -ge 2 ] || bc_die "--repeat needs a value"
        repeat=$2
        shift ;;
    --repeat=*) repeat=${1#*=} ;;
    --bin)
        [ $# -ge 2 ] || bc_die "--bin needs a value"
        bin=$2
        shift ;;
    --bin=*) bin=${1#*=} ;;
    -h | --help)
        usage
        exit 0 ;;
    -*) bc_die "unknown option '$1' (see --help)" ;;
    *) models+=("$1") ;;
    esac
    shift
done
[[ $epochs =~ ^[1-9][0-9]*$ ]] || bc_die "--epochs wants a positive integer, not '$epochs'"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || bc_die "--repeat wants a positive integer, not '$repeat'"

bc_locate_data
bc_locate_bin "$bin"
bc_need_time
# families this hetcomp knows: the 'models:' section of 'hetcomp teacher --help'
known=$("$BC_BIN" teacher --help 2>/dev/null | awk '/^models:/ {on = 1; next}
    on && NF == 0 {exit} on {print $1}') || true
[ -n "$known" ] || bc_die "'$BC_BIN teacher --help' lists no models"
if [ ${#models[@]} -eq 0 ]; then
    for m in mf ml gnn dl ae iae; do
        grep -qx "$m" <<<"$known" && models+=("$m")
    done
fi
for m in "${models[@]}"; do
    [ -n "$(ref_args "$m")" ] || bc_die "unknown model '$m' (mf ml dl gnn ae iae)"
    grep -qx "$m" <<<"$known" || bc_die "hetcomp has no teacher family '$m' yet" \
        "(teacher --help lists: ${known//$'\n'/ })"
done
if [ $full -eq 0 ]; then
    bc_locate_ref
    bc_check_torch
fi
bc_make_work
bc_build_dataset

# JSON field from a file: json_get FILE PYTHON-EXPRESSION-ON-d
json_get() {
    "$BC_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null || echo "?"
}

# hetcomp teacher run: run_hetcomp MODEL PREFIX OUTDIR FLAGS...
run_hetcomp() {
    local m=$1 prefix=$2 out=$3
    shift 3
    # shellcheck disable=SC2046
    bc_timed "$prefix" "$BC_BIN" teacher --model "$m" --data "$BC_DS" --out "$out" \
        --threads "$BC_THREADS" --quiet $(hc_args "$m") "$@" ||
        bc_fail_run "$prefix" "hetcomp teacher --model $m"
}

# median, min and max of numbers: stats X... prints "MEDIAN MIN MAX"
stats() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3f %s %s\n", m, v[1], v[NR] }'
}

# key<TAB>value from hetcomp teacher's stdout
hc_field() {
    awk -F'\t' -v k="$2" '$1 == k {print $2}' "$1.out"
}

if [ $full -eq 0 ]; then
    echo "# hetcomp vs PyTorch reference: teacher training seconds per epoch (evaluation excluded)"
    echo "# $epochs epochs per side, reference configuration, seed 0; ratio = ref / hetcomp"
    [ "$repeat" -eq 1 ] || echo "# $repeat alternating runs per side: s/epoch = median (min-max); ratio of the medians"
    bc_machine_info
    fmt='| %-5s | %-21s | %-21s | %-17s | %-11s | %-14s | %-11s | %-14s | %-21s |\n'
    hdr=$(printf "$fmt" model "ref s/epoch" "hetcomp s/epoch" "ratio ref/hetcomp" \
        "target >= $SPEED_TARGET" "hetcomp RSS MB" "ref RSS MB" "CPU % ref/hc" \
        "valid R@50 ref/hc")
    printf '\n%s\n%s\n' "$hdr" "${hdr//[^|]/-}"
    missed=0
    for m in "${models[@]}"; do
        ref_all=() hc_all=()
        for ((k = 1; k <= repeat; k++)); do
            # (a) the reference, in its own scratch directory
            rp=$BC_WORK/ref-$m-$k
            mkdir -p "$BC_WORK/refwork-$m"
            # shellcheck disable=SC2046
            (cd "$BC_REF" && REF_WORK=$BC_WORK/refwork-$m \
                CITEULIKE=$BC_DATA/citeulike-t/users.dat OPENBLAS_NUM_THREADS=$BC_THREADS \
                bc_timed "$rp" "$BC_PY" teachers.py $(ref_args "$m") --max_epochs "$epochs" \
                --eval_every "$epochs" --record 0) || bc_fail_run "$rp" "reference teachers.py $(ref_args "$m")"
            ref_spe=$(sed -n 's/^SUMMARY .* s\/epoch \([0-9.]*\).*/\1/p' "$rp.out" | tail -n 1)
            [ -n "$ref_spe" ] || bc_fail_run "$rp" "reading the reference's SUMMARY line"
            ref_tag=$(ref_args "$m" | cut -d' ' -f1)
            ref_r50=$(json_get "$BC_WORK/refwork-$m/traj/$ref_tag.json" \
                "'%.4f' % d['log'][-1]['valid_R50']")
            rm -f "$BC_WORK/refwork-$m/traj/"*_best.pt
            # (b) hetcomp, same configuration and epochs, evaluation only after epochs 1 and last
            hp=$BC_WORK/hc-$m-$k
            run_hetcomp "$m" "$hp" "$BC_WORK/hc-$m.d" --epochs "$epochs" --eval-every 1000000 \
                --no-trajectory
            hc_spe=$(hc_field "$hp" s_per_epoch)
            [ -n "$hc_spe" ] || bc_fail_run "$hp" "reading hetcomp's s_per_epoch"
            hc_r50=$(json_get "$BC_WORK/hc-$m.d/log.json" \
                "'%.4f' % d['evaluations'][-1]['valid']['recall@50']")
            ref_all+=("$ref_spe") hc_all+=("$hc_spe")
        done
        if [ "$repeat" -gt 1 ]; then
            read -r ref_spe ref_lo ref_hi <<<"$(stats "${ref_all[@]}")"
            read -r hc_spe hc_lo hc_hi <<<"$(stats "${hc_all[@]}")"
            ref_show="$ref_spe ($ref_lo-$ref_hi)" hc_show="$hc_spe ($hc_lo-$hc_hi)"
        else
            ref_show=$ref_spe hc_show=$hc_spe
        fi
        # (c) the row
        ratio=$(awk -v r="$ref_spe" -v h="$hc_spe" 'BEGIN {
            if (h > 0) printf "%.1f", r / h; else print "inf" }')
        met=$(awk -v x="$ratio" -v t=$SPEED_TARGET 'BEGIN {print (x == "inf" || x >= t) ? "yes" : "NO"}')
        [ "$met" = yes ] || missed=$((missed + 1))
        printf "$fmt" "$m" "$ref_show" "$hc_show" "$ratio" "$met" "$(bc_rss_mb "$hp")" \
            "$(bc_rss_mb "$rp")" "$(bc_cpu "$rp")/$(bc_cpu "$hp")" "$ref_r50 / $hc_r50"
    done
    echo
    echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# ${#models[@]} models, $missed below the speed target"
    exit 0
fi

# ---- full mode
echo "# hetcomp teachers trained to convergence at the reference configuration (seed 0)"
echo "# test metrics at the best validation R@50; targets = docs/method.md §11 (reference PyTorch);"
echo "# accuracy target: test R@50 >= target - $SEED_NOISE; ref s/epoch is the reference's (docs/method.md §11), not this run's"
bc_machine_info
fmt='| %-5s | %-6s | %-6s | %-6s | %-6s | %-11s | %-7s | %-4s | %-11s | %-11s | %-13s | %-6s | %-6s |\n'
hdr=$(printf "$fmt" model R@10 N@10 R@50 N@50 "target R@50" delta met "best/epochs" \
    "ref best/ep" "s/epoch (ref)" "RSS MB" "wall s")
printf '\n%s\n%s\n' "$hdr" "${hdr//[^|]/-}"
missed=0
for m in "${models[@]}"; do
    read -r _ _ t50 _ tspe tep tbest tcap <<<"$(target_row "$m")"
    hp=$BC_WORK/full-$m
    run_hetcomp "$m" "$hp" "$BC_WORK/full-$m.d" --eval-every "$(eval_every "$m")"
    r10=$(hc_field "$hp" "test_R@10")
    n10=$(hc_field "$hp" "test_N@10")
    r50=$(hc_field "$hp" "test_R@50")
    n50=$(hc_field "$hp" "test_N@50")
    [ -n "$r50" ] || bc_fail_run "$hp" "reading hetcomp's test metrics"
    delta=$(awk -v a="$r50" -v b="$t50" 'BEGIN {printf "%+.4f", a - b}')
    met=$(awk -v a="$r50" -v b="$t50" -v e=$SEED_NOISE 'BEGIN {print (a >= b - e) ? "yes" : "NO"}')
    [ "$met" = yes ] || missed=$((missed + 1))
    capped=
    [ "$tcap" = yes ] && capped=" cap"
    printf "$fmt" "$m" "$r10" "$n10" "$r50" "$n50" "$t50" "$delta" "$met" \
        "$(hc_field "$hp" best_epoch)/$(hc_field "$hp" epochs)" "$tbest/$tep$capped" \
        "$(hc_field "$hp" s_per_epoch) ($tspe)" "$(bc_rss_mb "$hp")" "$(bc_wall_s "$hp")"
done
echo
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ${#models[@]} models, $missed below the accuracy target" \
    "(\"cap\": the reference stopped at a time limit; its figure is a floor)"

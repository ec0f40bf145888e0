#!/usr/bin/env bash
# bench_eval.sh - full-ranking evaluation speed: times 'hetcomp eval --model pop' (score every
# item for each evaluated user, mask train and the other held-out set, top-50, Recall/NDCG at
# 10/20/50 on valid and test) on the CiteULike-t reference split, several runs, and prints the
# min and median of the evaluation seconds (hetcomp's own timer, loading excluded) and of the
# process wall time, the peak RSS, and the test R@50 as a checksum (identical in every run).
#
# usage: bench/bench_eval.sh [--runs N] [--bin PATH]
set -euo pipefail
# shellcheck source=bench/common.sh source-path=SCRIPTDIR/..
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

runs=5
bin=
while [ $# -gt 0 ]; do
    case $1 in
    --runs)
        [ $# -ge 2 ] || bc_die "--runs needs a value"
        runs=$2
        shift ;;
    --runs=*) runs=${1#*=} ;;
    --bin)
        [ $# -ge 2 ] || bc_die "--bin needs a value"
        bin=$2
        shift ;;
    --bin=*) bin=${1#*=} ;;
    -h | --help)
        awk 'NR > 1 && !/^#/ {exit} NR > 1 && !/shellcheck/ {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
        echo "environment: HETCOMP_DATA_DIR, BENCH_THREADS (2), BENCH_WORK, BENCH_KEEP=1"
        exit 0 ;;
    *) bc_die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || bc_die "--runs wants a positive integer, not '$runs'"

bc_locate_data
bc_locate_bin "$bin"
bc_need_time
bc_make_work
bc_build_dataset

echo "# hetcomp eval --model pop: full ranking of all evaluated users, $runs runs"
bc_machine_info
evals=()
walls=()
rss=0
sum=
for i in $(seq 1 "$runs"); do
    p=$BC_WORK/eval-$i
    bc_timed "$p" "$BC_BIN" eval --model pop --data "$BC_DS" --threads "$BC_THREADS" \
        --json "$p.json" || bc_fail_run "$p" "hetcomp eval"
    # "seconds": the evaluation alone (after loading the dataset and fitting popularity)
    e=$(sed -n 's/^ *"seconds": *\([0-9.eE+-]*\).*/\1/p' "$p.json" | head -n 1)
    [ -n "$e" ] || bc_fail_run "$p" "reading \"seconds\" from $p.json"
    evals+=("$e")
    walls+=("$(bc_wall_s "$p")")
    r=$(bc_rss_mb "$p")
    [ "$r" -gt "$rss" ] && rss=$r
    # checksum: the test row of the printed table (R@10 N@10 R@20 N@20 R@50 N@50 users)
    s=$(awk '$1 == "test" {print $6, $7, $8}' "$p.out")
    [ -z "$sum" ] && sum=$s
    [ "$s" = "$sum" ] || bc_die "run $i printed test R@50/N@50/users '$s', run 1 '$sum'"
done

# min and median of a list of numbers
stats() {
    printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "min %.3f s  median %.3f s", a[1], m }'
}
echo
echo "evaluate      $(stats "${evals[@]}")   (runs: $(printf '%.3f ' "${evals[@]}" | sed 's/ $//'))"
echo "process wall  $(stats "${walls[@]}")   (load + fit + evaluate)"
echo "peak RSS      $rss MB"
echo "checksum      test R@50 N@50 users = $sum"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# test_compare_cli.sh - end-to-end checks of `hetcomp compare` (and the baselines through
# `hetcomp distill`).
# Usage: bash test_compare_cli.sh <hetcomp-binary> <shared-data-dir>
# Covers: a small synthetic dataset and two short teachers (MF and LightGCN); compare with
# two methods (bpr and rrd) x two seeds: the table on stdout (ensemble reference row, one row
# per method with mean ± std), compare.tsv (header, rows, runs = 2), compare.json (options,
# ensemble metrics, two runs per method with distinct seeds, means equal to the runs' means)
# and each run's log.json; resuming (finished runs read back when the inputs, method and
# options match; trained again when --lr or the teachers differ, or with --rerun); a baseline
# through `distill` with a hyperparameter flag (recorded in log.json's options); the help
# listing every method and citing docs/method.md for the baselines' choices; usage errors
# (exit 2, no output directory): an unknown or repeated method, --seeds 0, a bad
# hyperparameter value, an unknown flag, no --out, teachers missing for a distillation
# method; data errors (exit 1): a missing dataset; no temporary files left. About 20 s.
set -euo pipefail
HC=${1:?usage: test_compare_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC") # absolute: the script runs in $T
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_compare_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"

# shellcheck source=lib.sh
. "$LIB" # die, expect, contains, no_tmp

TEACH=(--dim 16 --epochs 20 --eval-every 5 --topk 50 --quiet)

echo "- synth + split + teachers (mf, gnn)"
expect 0 "$HC" synth --users 300 --items 400 --interactions 8000 --out X.tsv
expect 0 "$HC" split --data X.tsv --out ds.hcd
expect 0 "$HC" teacher --model mf "${TEACH[@]}" --data ds.hcd --out A
expect 0 "$HC" teacher --model gnn "${TEACH[@]}" --data ds.hcd --out B

echo "- compare bpr,rrd x 2 seeds: table, compare.tsv, compare.json, run logs"
expect 0 "$HC" compare --data ds.hcd --teachers A B --methods bpr,rrd --seeds 2 --k 50 \
    --epochs 21 --out C
for row in "method " "ensemble " "bpr " "rrd "; do
    grep -q "^$row" "$T/out" || {
        sed 's/^/  | /' "$T/out" >&2
        die "compare table lacks the '$row' row"
    }
done
contains "$T/out" "±"
contains "$T/err" "[rrd seed 1]"
for r in bpr-seed0 bpr-seed1 rrd-seed0 rrd-seed1; do
    [ -s "C/$r/log.json" ] || die "no log.json for run $r"
done
python3 - C <<'EOF2' || die "compare outputs check failed"
import csv, json, sys, statistics
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/compare.tsv"), delimiter="\t"))
assert [r["method"] for r in rows] == ["ensemble", "bpr", "rrd"], rows
for col in ("R@10_mean", "R@10_std", "N@10_mean", "R@50_mean", "N@50_std", "epochs_mean",
            "train_s_mean", "s_per_epoch"):
    assert col in rows[0], col
assert rows[1]["runs"] == "2" and rows[2]["runs"] == "2", rows
assert float(rows[1]["epochs_mean"]) == 21.0, rows[1]
j = json.load(open(d + "/compare.json"))
assert j["teachers"] == ["mf", "gnn"] and j["seeds"] == 2, j
assert j["options"]["k"] == 50 and j["options"]["epochs"] == 21, j["options"]
assert 0 < j["ensemble"]["test"]["recall@50"] <= 1, j["ensemble"]
assert [m["method"] for m in j["methods"]] == ["bpr", "rrd"], j["methods"]
for m, row in zip(j["methods"], rows[1:]):
    runs = m["runs"]
    assert [r["seed"] for r in runs] == [0, 1], runs
    r50 = [r["metrics"]["test"]["recall@50"] for r in runs]
    assert abs(statistics.mean(r50) - m["mean"]["test_R@50"]) < 1e-9, (r50, m["mean"])
    assert abs(statistics.stdev(r50) - m["std"]["test_R@50"]) < 1e-9, (r50, m["std"])
    assert abs(float(row["R@50_mean"]) - m["mean"]["test_R@50"]) < 1e-6, (row, m["mean"])
    for k, r in enumerate(runs):
        log = json.load(open("%s/%s-seed%d/log.json" % (d, m["method"], k)))
        assert log["method"] == m["method"] and log["options"]["seed"] == k, log
        assert log["best"] == r["metrics"], (log["best"], r["metrics"])
        assert log["teachers"] == ([] if m["method"] == "bpr" else ["mf", "gnn"]), log
EOF2
no_tmp

echo "- resuming: finished runs with the same inputs and options are read back"
expect 0 "$HC" compare --data ds.hcd --teachers A B --methods bpr,rrd --seeds 3 --k 50 \
    --epochs 21 --out C
for r in "bpr seed 0" "bpr seed 1" "rrd seed 0" "rrd seed 1"; do
    grep -qF "[$r] 21 epochs" "$T/err" && grep "\[$r\]" "$T/err" | grep -q "read back" ||
        die "compare --seeds 3 trained '$r' again"
done
grep "\[rrd seed 2\]" "$T/err" | grep -qv "read back" || die "rrd seed 2 was not trained"
python3 -c "import json; j = json.load(open('C/compare.json')); assert [len(m['runs']) for m in j['methods']] == [3, 3], j" ||
    die "compare.json lacks the resumed runs"
expect 0 "$HC" compare --data ds.hcd --teachers A B --methods rrd --seed 2 --seeds 1 --k 50 \
    --epochs 21 --out C
grep "\[rrd seed 2\]" "$T/err" | grep -q "read back" || die "--seed 2 --seeds 1 did not read back run 3"
expect 0 "$HC" compare --data ds.hcd --teachers A B --methods rrd --seeds 1 --k 50 --epochs 21 \
    --lr 0.002 --out C
! grep -q "read back" "$T/err" || die "a run with another --lr was read back"
expect 0 "$HC" compare --data ds.hcd --teachers B A --methods rrd --seeds 1 --k 50 --epochs 21 \
    --lr 0.002 --out C
! grep -q "read back" "$T/err" || die "a run with other teachers was read back"
expect 0 "$HC" compare --data ds.hcd --teachers B A --methods rrd --seeds 1 --k 50 --epochs 21 \
    --lr 0.002 --out C --rerun
! grep -q "read back" "$T/err" || die "--rerun read a run back"
expect 0 "$HC" compare --data ds.hcd --teachers B A --methods rrd --seeds 1 --k 50 --epochs 21 \
    --lr 0.002 --out C
contains "$T/err" "read back"
no_tmp

echo "- a baseline through distill, with a hyperparameter flag"
expect 0 "$HC" distill --method dcd --data ds.hcd --teachers A B --k 50 --epochs 11 \
    --dcd-eps 5 --rrd-l 20 --out D --quiet
contains "$T/out" "method	dcd"
python3 - D/log.json <<'EOF2' || die "dcd log.json check failed"
import json, sys
log = json.load(open(sys.argv[1]))
assert log["method"] == "dcd" and log["options"]["dcd-eps"] == 5 and log["options"]["rrd-l"] == 20, log
assert [e["epoch"] for e in log["evaluations"]] == [0, 10], log["evaluations"]
EOF2

echo "- help lists the methods and cites the docs for the baselines' choices"
expect 0 "$HC" compare --help
for m in bpr rd cd rrd mtd cldrd dcd hetcomp; do
    grep -q "^  $m " "$T/out" || die "compare --help does not list $m"
done
contains "$T/out" "--seeds"
contains "$T/out" "--cl-every"
contains "$T/out" "(docs/method.md section 10)"
expect 0 "$HC" distill --help
contains "$T/out" "--rrd-l"
contains "$T/out" "--no-dkc"

echo "- usage errors exit 2 and create nothing"
expect 2 "$HC" compare --data ds.hcd --teachers A B --methods bpr,nosuch --out u1
contains "$T/err" "unknown method 'nosuch'"
expect 2 "$HC" compare --data ds.hcd --teachers A B --methods rrd,rrd --out u1
contains "$T/err" "twice"
expect 2 "$HC" compare --data ds.hcd --teachers A B --methods , --out u1
expect 2 "$HC" compare --data ds.hcd --teachers A B --seeds 0 --out u1
contains "$T/err" "--seeds"
expect 2 "$HC" compare --data ds.hcd --teachers A B --rrd-l x --out u1
contains "$T/err" "--rrd-l"
expect 2 "$HC" compare --data ds.hcd --teachers A B --dcd-samples 0 --out u1
contains "$T/err" "--dcd-samples"
expect 2 "$HC" compare --data ds.hcd --teachers A B --frobnicate --out u1
expect 2 "$HC" compare --data ds.hcd --teachers A B
contains "$T/err" "--out"
expect 2 "$HC" compare --data ds.hcd --methods bpr,rd --out u1
contains "$T/err" "--teachers"
[ ! -e u1 ] || die "a usage error created the output directory"

echo "- data errors exit 1"
expect 1 "$HC" compare --data missing.hcd --teachers A B --out d1 --quiet
contains "$T/err" "missing.hcd"
[ ! -e d1 ] || die "a data error created the output directory"
expect 0 "$HC" compare --data ds.hcd --methods bpr --seeds 1 --epochs 2 --out N --quiet
grep -q "^bpr " "$T/out" || die "bpr alone: no table row"
! grep -q "^ensemble " "$T/out" || die "bpr alone: an ensemble row without teachers"

echo "ok"

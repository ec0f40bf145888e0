#!/usr/bin/env bash
# test_distill_cli.sh - end-to-end checks of `hetcomp ensemble` and `hetcomp distill`.
# Usage: bash test_distill_cli.sh <hetcomp-binary> <shared-data-dir>
# Covers: a small synthetic dataset and two short teachers (MF and LightGCN); the ensemble
# table (each teacher, the first-checkpoint ensemble, the ensemble) and its files
# (ensemble.hct loadable as a one-checkpoint trajectory, ensemble.json; not written over a
# teacher it is given); HetComp distillation writing model.hcm and log.json whose
# evaluations carry the phase and the mean DKC checkpoint per teacher (checked with python3's
# json module: schedule, DKC starting at checkpoint 0 and never going back); progress lines (HetComp's with phase and checkpoints, a baseline's
# without); the BPR student without teachers; the --no-dkc and --no-akt ablations;
# usage errors (exit 2, no output) and data errors (exit 1: a teacher trained on another
# split, named in the message), --out a teacher's directory refused with the teacher's files
# intact, sampled rest sets and sampled-user evaluation said and logged (--rest, --eval-users),
# and no temporary files left. Runs in about half a minute.
set -euo pipefail
HC=${1:?usage: test_distill_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC") # absolute: the script runs in $T
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_distill_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEACH=(--dim 16 --epochs 30 --eval-every 5 --topk 50 --quiet)

echo "- synth + split: a 400 x 600 dataset, and another split of it"
expect 0 "$HC" synth --users 400 --items 600 --interactions 12000 --out X.tsv
expect 0 "$HC" split --data X.tsv --out ds.hcd
expect 0 "$HC" split --data X.tsv --seed 1 --out other.hcd

echo "- teachers: mf and gnn"
expect 0 "$HC" teacher --model mf "${TEACH[@]}" --data ds.hcd --out A
expect 0 "$HC" teacher --model gnn "${TEACH[@]}" --data ds.hcd --out B
for t in A B; do
    [ -s "$t/trajectory.hct" ] || die "teacher $t wrote no trajectory"
done

echo "- ensemble: a table with both teachers and the ensembles; ensemble.hct and .json"
expect 0 "$HC" ensemble --data ds.hcd --teachers A B --out E
for row in "test " "mf " "gnn " "ens-first " "ensemble "; do
    grep -q "^$row" "$T/out" || {
        sed 's/^/  | /' "$T/out" >&2
        die "ensemble table lacks the '$row' row"
    }
done
[ "$(head -c 4 E/ensemble.hct)" = HCTJ ] || die "ensemble.hct lacks the HCTJ magic"
python3 - E/ensemble.json <<'EOF' || die "ensemble.json check failed"
import json, sys
log = json.load(open(sys.argv[1]))
assert log["k"] == 100 and log["temperature"] == 10, log
names = [r["name"] for r in log["rows"]]
assert names == ["mf", "gnn", "ens-first", "ensemble"], names
for r in log["rows"]:
    m = r["metrics"]
    assert "recall@50" in m["test"] and "ndcg@10" in m["valid"], r
    assert 0 < m["test"]["recall@50"] <= 1, r
EOF
expect 0 "$HC" trajectory show --data ds.hcd --traj E/ensemble.hct
contains "$T/out" "model	ensemble"
contains "$T/out" "checkpoints	1"
contains "$T/out" "k	100"
# teachers listed with a repeated flag, and trajectory files instead of directories
expect 0 "$HC" ensemble --data ds.hcd --teachers A/trajectory.hct --teachers B/trajectory.hct \
    --k 20
grep -q "^ensemble " "$T/out" || die "ensemble with repeated --teachers printed no ensemble row"
# the ensemble as a teacher of a new one written over it: refused, the old one kept
cp E/ensemble.hct ens-keep.hct
expect 1 "$HC" ensemble --data ds.hcd --teachers E/ensemble.hct B --out E
contains "$T/err" "E/ensemble.hct: the output is the input E/ensemble.hct"
cmp E/ensemble.hct ens-keep.hct || die "ensemble replaced its teacher"

echo "- distill --method hetcomp: model.hcm and log.json with phase and mean_ckpt"
expect 0 "$HC" distill --method hetcomp --data ds.hcd --teachers A B --k 50 --epochs 40 \
    --out S --quiet
[ "$(head -c 4 S/model.hcm)" = HCMD ] || die "S/model.hcm lacks the HCMD magic"
contains "$T/out" "method	hetcomp"
contains "$T/out" "test_R@50"
python3 - S/log.json A/log.json B/log.json <<'EOF' || die "hetcomp log.json check failed"
import json, sys
log = json.load(open(sys.argv[1]))
C = [len(json.load(open(p))["checkpoints"]) for p in sys.argv[2:]]
for key in ("method", "teachers", "dim", "params", "epochs", "best_epoch",
            "train_s_per_epoch", "best", "evaluations"):
    assert key in log, "missing key " + key
assert log["method"] == "hetcomp" and log["teachers"] == ["mf", "gnn"], log
assert len(log["teacher_checkpoints"]) == 2 and min(log["teacher_checkpoints"]) >= 1, log
assert log["dim"] == 6 and log["params"] == 6 * (400 + 600), log
ev = log["evaluations"]
assert [e["epoch"] for e in ev] == [0, 10, 20, 30, 39], [e["epoch"] for e in ev]
prev = [0.0, 0.0]
for e in ev:
    assert {"phase", "mean_ckpt", "loss", "metrics"} <= set(e), e
    assert e["phase"] in (1, 2), e
    ck = e["mean_ckpt"]
    assert len(ck) == 2, e
    if e["epoch"] <= 10:  # the first DKC call (epoch 10) only records
        assert ck == [0.0, 0.0], e
    assert all(p <= c <= n - 1 for p, c, n in zip(prev, ck, C)), (prev, ck, C)
    all_final = all(c == n - 1 for c, n in zip(ck, C))
    assert e["phase"] == (2 if all_final else 1), e
    prev = ck
    assert e["loss"] > 0 and "recall@50" in e["metrics"]["valid"], e
assert log["best_epoch"] in [e["epoch"] for e in ev], log
EOF

echo "- progress lines: HetComp's show its phase and checkpoints, a baseline's do not"
expect 0 "$HC" distill --method hetcomp --data ds.hcd --teachers A B --k 50 --epochs 2 --out P1
contains "$T/err" "[hetcomp] epoch    0 phase 1 ckpt mf 0.00 gnn 0.00  loss"
expect 0 "$HC" distill --method rd --data ds.hcd --teachers A B --k 50 --epochs 2 --out P2
contains "$T/err" "[rd] epoch    0  loss"
if grep -q "phase" "$T/err"; then die "a baseline's progress line shows a phase"; fi

echo "- distill --method bpr: no teachers needed"
expect 0 "$HC" distill --method bpr --data ds.hcd --epochs 40 --out N --quiet
[ -s N/model.hcm ] || die "bpr wrote no model"
contains "$T/out" "method	bpr"
python3 - N/log.json <<'EOF' || die "bpr log.json check failed"
import json, sys
log = json.load(open(sys.argv[1]))
assert log["method"] == "bpr" and log["teachers"] == [], log
assert all(e["phase"] == 0 and e["mean_ckpt"] == [] for e in log["evaluations"]), log
EOF

echo "- ablations: --no-dkc (last checkpoints throughout), --no-akt (phase 2 throughout)"
expect 0 "$HC" distill --data ds.hcd --teachers A B --k 50 --epochs 21 --no-dkc \
    --switch-epoch 10 --out S1 --quiet
expect 0 "$HC" distill --data ds.hcd --teachers A B --k 50 --epochs 21 --no-akt --out S2 --quiet
python3 - S1/log.json S2/log.json A/log.json B/log.json <<'EOF' || die "ablation logs check failed"
import json, sys
nodkc, noakt = (json.load(open(p))["evaluations"] for p in sys.argv[1:3])
C = [len(json.load(open(p))["checkpoints"]) for p in sys.argv[3:]]
assert [e["epoch"] for e in nodkc] == [0, 10, 20], nodkc
for e in nodkc:
    assert e["mean_ckpt"] == [n - 1.0 for n in C], (e, C)
    assert e["phase"] == (2 if e["epoch"] >= 10 else 1), e
for e in noakt:
    assert e["phase"] == 2, e
assert noakt[0]["mean_ckpt"] == [0.0, 0.0], noakt[0]
EOF
no_tmp

echo "- usage errors exit 2 and create nothing"
expect 2 "$HC" distill --method nosuch --data ds.hcd --teachers A B --out u1
contains "$T/err" "unknown method 'nosuch'"
expect 2 "$HC" distill --data ds.hcd --teachers A B
contains "$T/err" "--out"
expect 2 "$HC" distill --data ds.hcd --teachers A B --out u1 --k 5
contains "$T/err" "--k"
expect 2 "$HC" distill --data ds.hcd --teachers A B --out u1 --k 513
contains "$T/err" "--k"
expect 2 "$HC" distill --data ds.hcd --out u1
contains "$T/err" "--teachers"
expect 2 "$HC" distill --data ds.hcd --teachers A B --out u1 --epochs x
expect 2 "$HC" distill --data ds.hcd --teachers A B --out u1 --frobnicate
expect 2 "$HC" ensemble --data ds.hcd --out u1
contains "$T/err" "--teachers"
expect 2 "$HC" ensemble --teachers A B --out u1
[ ! -e u1 ] || die "a usage error created the output directory"
expect 0 "$HC" distill --help
contains "$T/out" "hetcomp"
contains "$T/out" "bpr"
contains "$T/out" "--no-dkc"

echo "- data errors exit 1: a teacher of another split, a missing dataset"
expect 0 "$HC" teacher --model mf --dim 8 --epochs 5 --eval-every 5 --topk 50 --quiet \
    --data other.hcd --out O
expect 1 "$HC" distill --data ds.hcd --teachers A O --k 50 --epochs 5 --out d1 --quiet
contains "$T/err" "O/trajectory.hct"
contains "$T/err" "another dataset"
[ ! -e d1 ] || die "a refused teacher left an output directory"
expect 1 "$HC" ensemble --data ds.hcd --teachers O/trajectory.hct B --out d2
contains "$T/err" "O/trajectory.hct"
[ ! -e d2 ] || die "a refused teacher left an ensemble directory"
expect 1 "$HC" distill --data missing.hcd --teachers A B --out d3 --quiet
contains "$T/err" "missing.hcd"
expect 1 "$HC" distill --data ds.hcd --teachers A nowhere --out d4 --quiet
contains "$T/err" "nowhere"
echo "- --out a teacher's directory is refused, the teacher's files kept"
sum_before=$(cat A/model.hcm A/log.json | cksum)
expect 1 "$HC" distill --data ds.hcd --teachers A B --epochs 1 --out A --quiet
contains "$T/err" "refusing to replace an input"
expect 1 "$HC" distill --data ds.hcd --teachers A/trajectory.hct B --epochs 1 --out ./A/ --quiet
[ "$(cat A/model.hcm A/log.json | cksum)" = "$sum_before" ] || die "a teacher's files changed"
no_tmp

echo "- catalog scale: --rest sampled and --dkc-rank sampled run, say so, and are logged"
expect 0 "$HC" distill --data ds.hcd --teachers A B --k 50 --epochs 21 --rest sampled \
    --rest-samples 100 --rest-proposal uniform --eval-users 50 --out R1
contains "$T/err" "rest sets sampled (100 draws per 128 users, uniform proposal)"
contains "$T/err" "metrics on a fixed seeded sample of 50 of the"
python3 - R1/log.json <<'EOF' || die "the sampled run's log.json check failed"
import json, sys
log = json.load(open(sys.argv[1]))
o = log["options"]
assert o["rest"] == "sampled" and o["rest-samples"] == 100, o
assert o["rest-proposal"] == "uniform" and o["dkc-rank"] == "auto", o
assert o["patience"] == 10, o  # HetComp's patience with sampled rest sets
for e in log["evaluations"]:
    v = e["metrics"]["valid"]
    assert v["n_users"] == 50 and v["of_users"] > 50, v
EOF
expect 0 "$HC" distill --data ds.hcd --teachers A B --k 50 --epochs 1 --out R2
[ "$(grep -c "rest sets sampled" "$T/err")" = 0 ] || die "the exact default said it sampled"
echo "- patience: 5 exact, 10 sampled (above), as given when given, 5 for the baselines"
patience_is() { # LOG N
    python3 -c 'import json,sys; p = json.load(open(sys.argv[1]))["options"]["patience"]
assert p == int(sys.argv[2]), p' "$1" "$2" || die "$1: patience is not $2"
}
patience_is R2/log.json 5
expect 0 "$HC" distill --data ds.hcd --teachers A B --k 50 --epochs 1 --rest sampled \
    --rest-samples 100 --patience 3 --out R4
patience_is R4/log.json 3
expect 0 "$HC" distill --method rd --data ds.hcd --teachers A B --k 50 --epochs 1 \
    --rest sampled --out R5
patience_is R5/log.json 5
expect 2 "$HC" distill --data ds.hcd --teachers A B --rest approximate --out R3
contains "$T/err" "--rest takes one of auto|exact|sampled, not 'approximate'"
expect 2 "$HC" distill --data ds.hcd --teachers A B --rest-samples 0 --out R3
[ ! -e R3 ] || die "a usage error left an output directory"
no_tmp

echo "ok"

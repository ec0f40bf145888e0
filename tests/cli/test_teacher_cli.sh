#!/usr/bin/env bash
# test_teacher_cli.sh - end-to-end checks of `hetcomp teacher` and `hetcomp trajectory`.
# Usage: bash test_teacher_cli.sh <hetcomp-binary> <shared-data-dir>
# Covers: a small synthetic dataset; a short MF teacher run writing model.hcm, trajectory.hct
# and log.json (keys checked with python3's json module) and printing test metrics; the same
# seed twice (one thread) giving byte-identical files (the second into --out new/t/t2, its
# parents created); a user holding every item (mf, ml, gnn, dl and the BPR student finish,
# the user reported once); a short Mult-DAE run (its own defaults in log.json, --dropout
# recorded and changing the model); --out-samples for ae and iae (trains, recorded in log.json
# with its proposal, refused when negative or not a number, as is an unknown --out-proposal,
# by teacher and run); trajectory show / export / import round trip to a
# byte-identical .hct (show and export given the teacher directory too, as ensemble and
# distill take it; an output that is an input refused); importing 4-column rows of a "teacher
# trained elsewhere"; usage errors (exit 2, --dropout's range among them), help with each
# family's defaults, and data errors (exit 1, clear message, no output left behind, no
# temporary files). Runs in a few seconds.
set -euo pipefail
HC=${1:?usage: test_teacher_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC") # absolute: the script runs in $T
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_teacher_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEACH=(--model mf --dim 8 --epochs 12 --eval-every 3 --checkpoints 3 --topk 20 --quiet)

echo "- synth + split: a 300 x 400 dataset"
expect 0 "$HC" synth --users 300 --items 400 --interactions 8000 --out X.tsv
expect 0 "$HC" split --data X.tsv --out ds.hcd
expect 0 "$HC" split --data X.tsv --seed 1 --out other.hcd

echo "- teacher: writes model.hcm, trajectory.hct, log.json; prints test metrics"
expect 0 "$HC" teacher "${TEACH[@]}" --data ds.hcd --out t1 --threads 1
for f in model.hcm trajectory.hct log.json; do
    [ -s "t1/$f" ] || die "t1/$f missing or empty"
done
contains "$T/out" "test_R@50"
contains "$T/out" "checkpoints"
[ "$(head -c 4 t1/model.hcm)" = HCMD ] || die "model.hcm lacks the HCMD magic"
[ "$(head -c 4 t1/trajectory.hct)" = HCTJ ] || die "trajectory.hct lacks the HCTJ magic"
python3 - t1/log.json <<'EOF' || die "log.json check failed"
import json, sys
log = json.load(open(sys.argv[1]))
for key in ("model", "hparams", "params", "epochs", "best_epoch", "train_s_per_epoch",
            "best", "checkpoints", "evaluations"):
    assert key in log, "missing key " + key
assert log["model"] == "mf" and log["hparams"]["dim"] == 8 and log["epochs"] == 12, log
assert "recall@50" in log["best"]["test"] and log["best"]["valid"]["n_users"] == 300
evals = log["evaluations"]
assert len(evals) == 5, evals  # epochs 1, 3, 6, 9, 12
assert [e["epoch"] for e in evals] == [1, 3, 6, 9, 12]
for e in evals:
    assert {"epoch", "loss", "metrics"} <= set(e), e
    assert "recall@50" in e["metrics"]["valid"] and "ndcg@50" in e["metrics"]["test"], e
ck = log["checkpoints"]
assert 1 <= len(ck) <= 3 and ck[-1]["epoch"] == log["best_epoch"], ck
assert all(a["epoch"] < b["epoch"] for a, b in zip(ck, ck[1:])), ck
EOF

echo "- teacher: the same seed twice gives identical files; --out's parents are created"
expect 0 "$HC" teacher "${TEACH[@]}" --data ds.hcd --out new/t/t2 --threads 1
cmp t1/model.hcm new/t/t2/model.hcm || die "model.hcm differs between two runs with one seed"
cmp t1/trajectory.hct new/t/t2/trajectory.hct || die "trajectory.hct differs between two runs"

echo "- a user holding every train item: the pairwise teachers and the BPR student finish"
printf 'user,item\nu0,i0\nu0,i1\nu1,i0\n' >full.csv
expect 0 "$HC" split --data full.csv --min-user 1 --method loo --out full.hcd
for m in mf ml gnn dl; do # the sampler used to redraw forever for u0
    expect 0 timeout 60 "$HC" teacher --model "$m" --data full.hcd --out "full-$m" --epochs 2 \
        --quiet --threads 1
    contains "$T/err" "1 user holds every item in train"
    [ "$(grep -c 'every item' "$T/err")" = 1 ] || die "$m: the full user was reported more than once"
done
expect 0 timeout 60 "$HC" distill --method bpr --data full.hcd --out full-bpr --epochs 2 \
    --threads 1
contains "$T/err" "1 user holds every item in train"

echo "- teacher --model ae: its own defaults, --dropout recorded and in effect"
AE=(--model ae --dim 16 --epochs 2 --eval-every 1 --checkpoints 2 --topk 20 --quiet --threads 1)
expect 0 "$HC" teacher "${AE[@]}" --dropout 0.3 --data ds.hcd --out ae3
expect 0 "$HC" teacher "${AE[@]}" --dropout 0 --data ds.hcd --out ae0
for f in model.hcm trajectory.hct log.json; do
    [ -s "ae3/$f" ] || die "ae3/$f missing or empty"
done
python3 - ae3/log.json ae0/log.json <<'EOF' || die "the ae log.json check failed"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["model"] == "ae" and a["hparams"]["dim"] == 16, a["hparams"]
assert a["hparams"]["batch"] == 128 and a["hparams"]["layers"] == 1, a["hparams"]  # ae's defaults
assert abs(a["hparams"]["dropout"] - 0.3) < 1e-6 and b["hparams"]["dropout"] == 0, a["hparams"]
EOF
cmp -s ae3/model.hcm ae0/model.hcm && die "--dropout 0.3 and 0 trained the same model"

echo "- teacher --out-samples: ae and iae train with a sampled output layer; bad values refused"
for m in ae iae; do
    expect 0 "$HC" teacher "${AE[@]/ae/$m}" --data ds.hcd --out "s-$m" --out-samples 50 \
        --out-proposal uniform
    [ -s "s-$m/model.hcm" ] || die "s-$m/model.hcm missing"
    contains "$T/out" "test_R@50"
    cmp -s "s-$m/model.hcm" "ae0/model.hcm" && die "$m: --out-samples trained the exact model"
done
expect 0 "$HC" teacher "${AE[@]}" --data ds.hcd --out s-pop --out-samples 50
python3 - s-ae/log.json s-pop/log.json ae0/log.json <<'EOF2' || die "the sampled log.json check failed"
import json, sys
a, b, c = (json.load(open(p))["hparams"] for p in sys.argv[1:])
assert a["out-samples"] == 50 and a["out-proposal"] == "uniform", a
assert b["out-samples"] == 50 and b["out-proposal"] == "pop", b  # pop is the default
assert c["out-samples"] == 0, c  # exact is the default
EOF2
expect 2 "$HC" teacher --model ae --data ds.hcd --out u1 --out-samples -1
contains "$T/err" "--out-samples"
expect 2 "$HC" teacher --model iae --data ds.hcd --out u1 --out-samples lots
contains "$T/err" "--out-samples"
expect 2 "$HC" teacher --model ae --data ds.hcd --out u1 --out-proposal zipf
contains "$T/err" "--out-proposal takes one of uniform|pop, not 'zipf'"
expect 2 "$HC" run --out u1 --out-samples -5
contains "$T/err" "--out-samples"
[ ! -e u1 ] || die "a refused --out-samples created the output directory"

echo "- trajectory show / export / import: a byte-identical round trip"
expect 0 "$HC" trajectory show --data ds.hcd --traj t1/trajectory.hct
contains "$T/out" "model	mf"
contains "$T/out" "k	20"
contains "$T/out" "observed	yes"
expect 0 "$HC" trajectory export --data ds.hcd --traj t1/trajectory.hct --out rows.tsv
contains rows.tsv "# hetcomp trajectory v1"
contains rows.tsv "checkpoint	user	rank	item	list"
expect 0 "$HC" trajectory import --data ds.hcd --in rows.tsv --out back.hct
cmp t1/trajectory.hct back.hct || die "export -> import changed the trajectory"
cp rows.tsv rows-keep.tsv
expect 1 "$HC" trajectory import --data ds.hcd --in rows.tsv --out ./rows.tsv
contains "$T/err" "./rows.tsv: the output is the input rows.tsv"
cmp rows.tsv rows-keep.tsv || die "import replaced its input"
expect 1 "$HC" trajectory export --data ds.hcd --traj t1 --out t1/trajectory.hct
contains "$T/err" "the output is the input t1/trajectory.hct"
cmp t1/trajectory.hct back.hct || die "export replaced its input"

echo "- trajectory show / export: a teacher directory, as ensemble and distill take it"
expect 0 "$HC" trajectory show --data ds.hcd --traj t1
contains "$T/out" "model	mf"
expect 0 "$HC" trajectory export --data ds.hcd --traj t1 --out dir-rows.tsv
cmp rows.tsv dir-rows.tsv || die "export of the directory differs from export of its file"

echo "- trajectory import: 4-column rows of a teacher trained elsewhere"
# top rows only, no header or metadata: what another toolkit's ranking dump looks like
awk -F'\t' '!/^#/ && $5 == "top" { print $1 "\t" $2 "\t" $3 "\t" $4 }' rows.tsv >plain.tsv
expect 0 "$HC" trajectory import --data ds.hcd --in plain.tsv --out plain.hct --name elsewhere
contains "$T/out" "model	elsewhere"
contains "$T/out" "checkpoints	3"
contains "$T/out" "observed	no"
expect 0 "$HC" trajectory show --data ds.hcd --traj plain.hct
contains "$T/out" "epoch	-1"

echo "- usage errors exit 2"
expect 2 "$HC" teacher --model nosuch --data ds.hcd --out u1
contains "$T/err" "unknown model 'nosuch'"
expect 2 "$HC" teacher --model mf --out u1
contains "$T/err" "--data"
expect 2 "$HC" teacher --data ds.hcd --out u1
contains "$T/err" "--model is required"
expect 2 "$HC" teacher --model mf --data ds.hcd --out u1 --dim abc
contains "$T/err" "--dim"
expect 2 "$HC" teacher --model mf --data ds.hcd --out u1 --dim 0
contains "$T/err" "--dim"
expect 2 "$HC" teacher --model mf --data ds.hcd --out u1 --frobnicate
expect 2 "$HC" teacher --model mf --data ds.hcd --out u1 --di 8
contains "$T/err" "unknown option '--di' (options are spelled in full: --dim)"
expect 2 "$HC" distill --data ds.hcd --out u1 --rest-g=8
contains "$T/err" "unknown option '--rest-g' (options are spelled in full: --rest-group)"
expect 2 "$HC" run --out u1 --teacher-e 8
contains "$T/err" "unknown option '--teacher-e' (options are spelled in full: --teacher-epochs)"
expect 2 "$HC" teacher --model mf --data ds.hcd --out u1 --margin 2
contains "$T/err" "--margin is not a hyperparameter of mf (it has: dim lr wd negatives batch"
expect 2 "$HC" teacher --model ae --data ds.hcd --out u1 --dropout 1
contains "$T/err" "--dropout must be in [0, 1), got 1"
expect 2 "$HC" teacher --model ae --data ds.hcd --out u1 --dropout -0.5
contains "$T/err" "--dropout"
expect 2 "$HC" trajectory
expect 2 "$HC" trajectory shuffle --data ds.hcd --traj t1/trajectory.hct
expect 2 "$HC" trajectory import --data ds.hcd --in rows.tsv
expect 2 "$HC" trajectory show --data ds.hcd --traj t1/trajectory.hct --frobnicate
[ ! -e u1 ] || die "a usage error created the output directory"
expect 0 "$HC" teacher --help
contains "$T/out" "--checkpoints"
contains "$T/out" "hyperparameters of mf"
contains "$T/out" "embedding size; hidden width for ae, iae (128)"
expect 0 "$HC" teacher --help --model ae
contains "$T/out" "hyperparameters of ae"
contains "$T/out" "embedding size; hidden width for ae, iae (200)"
grep -q -- "--margin" "$T/out" && die "ae's help lists ml's --margin"
expect 0 "$HC" trajectory --help
contains "$T/out" "checkpoint<TAB>user<TAB>rank<TAB>item"

echo "- data errors exit 1 with a clear message and no output"
expect 1 "$HC" teacher "${TEACH[@]}" --data missing.hcd --out d1
contains "$T/err" "missing.hcd"
[ ! -e d1 ] || die "a missing dataset left an output directory"
# a dataset file with one byte flipped in the middle, and one cut short
python3 - ds.hcd <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
open("short.hcd", "wb").write(b[: len(b) // 2])
b[len(b) // 2] ^= 0x40
open("corrupt.hcd", "wb").write(b)
EOF
expect 1 "$HC" teacher "${TEACH[@]}" --data corrupt.hcd --out d2
contains "$T/err" "corrupt.hcd"
contains "$T/err" "checksum"
[ ! -e d2 ] || die "a corrupt dataset left an output directory"
expect 1 "$HC" teacher "${TEACH[@]}" --data short.hcd --out d3
contains "$T/err" "truncated"
[ ! -e d3 ] || die "a truncated dataset left an output directory"
# a trajectory used with another split of the same interactions
expect 1 "$HC" trajectory show --data other.hcd --traj t1/trajectory.hct
contains "$T/err" "another dataset"
expect 1 "$HC" trajectory export --data other.hcd --traj t1/trajectory.hct --out d4.tsv
[ ! -e d4.tsv ] || die "a failed export left its output"
expect 1 "$HC" trajectory import --data other.hcd --in rows.tsv --out d5.hct
contains "$T/err" "rows.tsv:"
contains "$T/err" "train item"
[ ! -e d5.hct ] || die "a failed import left its output"
# a corrupt trajectory, and a binary file given as text
head -c 1000 t1/trajectory.hct >cut.hct
expect 1 "$HC" trajectory show --data ds.hcd --traj cut.hct
contains "$T/err" "truncated"
expect 1 "$HC" trajectory import --data ds.hcd --in t1/trajectory.hct --out d6.hct
contains "$T/err" "trajectory.hct:1:"
[ ! -e d6.hct ] || die "a failed import left its output"
no_tmp

echo "ok"

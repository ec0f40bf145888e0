#!/usr/bin/env bash
# A seventh family added by its own file and one registry line (tests/toy/toy.c, built into
# hetcomp_toy): teacher --help lists it with its own hyperparameters, teacher trains it and
# its model file loads in eval, run --teachers takes it (the run's default list too), and the
# report shows it beside the shipped families.
set -euo pipefail
HC=${1:?usage: test_toy_family.sh <hetcomp_toy>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC")
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_toy.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

echo "- teacher --help lists the family; --model toy --help its hyperparameters"
expect 0 "$HC" teacher --help
contains "$T/out" "toy    item bias, BPR loss (a test family, not shipped)"
expect 0 "$HC" teacher --model toy --help
contains "$T/out" "hyperparameters of toy"
contains "$T/out" "--lr X              Adam learning rate (0.05)"
grep -q -- "--dim" "$T/out" && die "toy's help lists --dim, which it does not read"
expect 2 "$HC" teacher --model toy --dim 4 --data x --out y
contains "$T/err" "--dim is not a hyperparameter of toy (it has: lr seed)"

echo "- teacher trains it; its model file names lr and loads in eval"
expect 0 "$HC" synth --users 200 --items 150 --interactions 5000 --out X.tsv
expect 0 "$HC" split --data X.tsv --out X.hcd
expect 0 "$HC" teacher --model toy --data X.hcd --out t --epochs 3 --eval-every 1 --lr 0.1 \
    --quiet --threads 2
grep -qa "lr=0.1" t/model.hcm || die "the model file does not name lr=0.1"
expect 0 "$HC" eval --data X.hcd --model t/model.hcm
contains "$T/out" "R@50"

echo "- run --teachers toy,mf: the stages and the report"
expect 0 "$HC" run --data X.tsv --out R --teachers toy,mf --teacher-epochs 2 --eval-every 1 \
    --student-epochs 10 --latency-queries 10 --threads 2
[ -s R/teachers/toy/model.hcm ] || die "run trained no toy teacher"
contains R/report.html "<td>teacher toy</td>"
contains R/report.html "<td>teacher mf</td>"
expect 0 "$HC" run --help
contains "$T/out" "(mf,ml,gnn,dl,ae,iae,toy)"
echo "PASS"

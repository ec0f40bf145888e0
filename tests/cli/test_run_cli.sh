#!/usr/bin/env bash
# test_run_cli.sh - end-to-end checks of `hetcomp run` and `hetcomp report`.
# Usage: bash test_run_cli.sh <hetcomp-binary> <shared-data-dir>
# Covers: the whole pipeline on a tiny synthetic dataset with all six teacher families (short
# runs): every stage's outputs, the report (table rows, three plots when gnuplot is installed,
# no network references), a second run that skips every stage, a changed flag that reruns only
# the stages it reaches, a deleted output that reruns only its stage, an unreadable run record,
# the compare stage and its table, usage errors (exit 2), a missing input file and a failing stage (exit 1, the stage and its
# log named, the report of the finished stages still written), no temporary files left, and,
# when chromium-headless-shell is installed, a screenshot of the report.
set -euo pipefail
HC=${1:?usage: test_run_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC") # absolute: the script runs in $T
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_run_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QUICK=(--teacher-epochs 4 --eval-every 2 --student-epochs 20 --latency-queries 25 --threads 2)

echo "- a tiny dataset; the whole pipeline with the six teachers"
expect 0 "$HC" synth --users 300 --items 500 --interactions 9000 --out X.tsv
expect 0 "$HC" run --data X.tsv --out R "${QUICK[@]}"
for f in data.hcd run.json report.html ensemble/ensemble.json ensemble/ensemble.hct \
    students/bpr/model.hcm students/hetcomp/log.json latency/ensemble.json latency/hetcomp.json; do
    [ -s "R/$f" ] || die "run wrote no $f"
done
for m in mf ml gnn dl ae iae; do
    for f in model.hcm trajectory.hct log.json; do
        [ -s "R/teachers/$m/$f" ] || die "run wrote no teachers/$m/$f"
    done
    [ -s "R/latency/$m.json" ] || die "no latency of teacher $m"
    contains R/report.html "<td>teacher $m</td>"
done
contains R/report.html "HetComp student"
contains R/report.html "student without distillation (BPR)"
contains R/report.html "ensemble of all teachers"
contains R/report.html "popularity (items by their train users)"
contains R/report.html "Dataset: 300 users"
contains "$T/err" "[run] finished in"
if grep -qE 'src="https?:|href="https?:' R/report.html; then die "the report references the network"; fi
if command -v gnuplot >/dev/null; then
    n=$(grep -o 'src="data:image/svg+xml;base64,' R/report.html | wc -l)
    [ "$n" = 4 ] || die "expected 4 plots in the report (students, DKC, cost, teachers), found $n"
else
    contains R/report.html "No plots: gnuplot is not installed"
fi
no_tmp
[ -z "$(find R -maxdepth 1 -name '.report.*')" ] || die "report scratch directory left"

echo "- the same command again: every stage up to date"
expect 0 "$HC" run --data X.tsv --out R "${QUICK[@]}"
if grep -q ' running: ' "$T/err"; then die "a stage ran again: $(grep ' running: ' "$T/err")"; fi
[ "$(grep -c 'up to date' "$T/err")" -ge 15 ] || die "not every stage was skipped"

echo "- the data file moved, same contents: still up to date"
mv X.tsv X2.tsv
expect 0 "$HC" run --data X2.tsv --out R "${QUICK[@]}"
if grep -q ' running: ' "$T/err"; then die "moving the input reran: $(grep ' running: ' "$T/err")"; fi

echo "- another student cap: only the students and their latency run again"
expect 0 "$HC" run --data X2.tsv --out R "${QUICK[@]/20/21}"
ran=$(grep -o '\[run\] [a-z-]* *running' "$T/err" | awk '{print $2}' | sort | tr '\n' ' ')
[ "$ran" = "latency-bpr latency-hetcomp student-bpr student-hetcomp " ] || die "reran: $ran"

echo "- a deleted output: only its stage runs again"
rm R/teachers/dl/trajectory.hct
expect 0 "$HC" run --data X2.tsv --out R "${QUICK[@]/20/21}"
ran=$(grep -o '\[run\] [a-z-]* *running' "$T/err" | awk '{print $2}' | tr '\n' ' ')
# the new trajectory has the same contents (same seed), so nothing after it reruns
[ "$ran" = "teacher-dl " ] || die "reran: $ran"

echo "- an unreadable run record: a warning, then everything runs again (one teacher)"
expect 0 "$HC" run --data X2.tsv --out S --teachers mf "${QUICK[@]}"
echo '{"stages": [' > S/run.json
expect 0 "$HC" run --data X2.tsv --out S --teachers mf "${QUICK[@]}"
contains "$T/err" "unreadable run record"
contains "$T/err" "[run] split            running"

echo "- --compare adds the methods' table (and only the compare stage runs)"
expect 0 "$HC" run --data X2.tsv --out S --teachers mf "${QUICK[@]}" --compare bpr,rd --compare-seeds 1
ran=$(grep -o '\[run\] [a-z-]* *running' "$T/err" | awk '{print $2}' | tr '\n' ' ')
[ "$ran" = "compare " ] || die "reran: $ran"
[ -s S/compare/compare.tsv ] || die "no compare.tsv"
contains S/report.html "Distillation methods compared"

echo "- usage errors: exit 2"
expect 2 "$HC" run --data X2.tsv
contains "$T/err" "--out is required"
expect 2 "$HC" run --out Z --teachers mf,xx
contains "$T/err" "unknown teacher family 'xx'"
expect 2 "$HC" run --out Z --teachers mf,mf
expect 2 "$HC" run --out Z --teacher-epochs 0
expect 2 "$HC" run --out Z extra
expect 2 "$HC" report
[ ! -e Z ] || die "a usage error created the run directory"

echo "- data errors: exit 1, the file or stage named"
expect 1 "$HC" run --data missing.tsv --out Z
contains "$T/err" "missing.tsv"
printf 'user\titem\nu1\n' > bad.tsv
expect 1 "$HC" run --data bad.tsv --out B --teachers mf "${QUICK[@]}"
contains "$T/err" "stage split failed"
contains "$T/err" "bad.tsv:2"
[ -s B/report.html ] || die "no report after a failed stage"
contains B/report.html "No stage has finished yet"

echo "- hetcomp report rewrites the page"
expect 0 "$HC" report --run R --out again.html
contains again.html "HetComp student"

if command -v chromium-headless-shell >/dev/null; then
    echo "- the report renders in headless Chromium"
    timeout 60 chromium-headless-shell --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size=1200,2400 --screenshot="$T/shot.png" "file://$T/R/report.html" \
        >/dev/null 2>&1 || die "chromium-headless-shell failed on the report"
    [ "$(stat -c %s shot.png)" -gt 50000 ] || die "the screenshot looks empty"
else
    echo "- (chromium-headless-shell not installed: screenshot skipped)"
fi
no_tmp
echo "ok"

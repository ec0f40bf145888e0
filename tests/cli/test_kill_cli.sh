#!/usr/bin/env bash
# test_kill_cli.sh - kill -9 at random moments (fixed seed): split and teacher never leave a
# file, or a mix of generations, that a later command accepts (a teacher directory holds only
# files of the killed run, whose earlier outputs were removed before it trained); a killed
# `run` leaves no stage running (stages die with it), and `run` then resumes and leaves no
# temporary file (writers remove those of killed ones).
set -euo pipefail
HC=${1:?usage: test_kill_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC")
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_kill_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RANDOM=7 # the trials' moments

# Runs CMD in the background, kills it with -9 after a random 0-MAXms, waits for it.
kill_at_random() {
    local max=$1
    shift
    "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(printf '0.%03d' $((RANDOM % max)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

expect 0 "$HC" synth --users 400 --items 300 --interactions 12000 --out X.tsv
expect 0 "$HC" split --data X.tsv --out X.hcd

echo "- a writer removes the temporary files of dead writers of its target, not of live ones"
sleep 60 >/dev/null 2>&1 &
live=$!
trap 'kill $live 2>/dev/null || true; rm -rf "$T"' EXIT
echo partial >S.hcd.tmp.999999999
echo partial >"S.hcd.tmp.$live"
expect 0 "$HC" split --data X.tsv --out S.hcd
[ ! -e S.hcd.tmp.999999999 ] || die "a dead writer's temporary file was left"
[ -e "S.hcd.tmp.$live" ] || die "a live writer's temporary file was removed"
kill "$live"
rm -f "S.hcd.tmp.$live"

echo "- split killed: the dataset file is absent or whole"
for trial in $(seq 1 6); do
    rm -f S.hcd
    kill_at_random 400 "$HC" split --data X.tsv --out S.hcd
    if [ -e S.hcd ]; then
        expect 0 "$HC" stats --data S.hcd
    fi
done

echo "- teacher killed: never a file of the earlier generation beside the new one's"
TEACH=(--data X.hcd --epochs 30 --eval-every 2 --dim 16 --threads 2 -q)
expect 0 "$HC" teacher --model mf "${TEACH[@]}" --seed 1 --out A
cp -r A gen1
for trial in $(seq 1 8); do
    kill_at_random 999 "$HC" teacher --model mf "${TEACH[@]}" --seed $((trial + 1)) --out A
    # a subset of one generation: killed before it removed the earlier outputs, the run
    # leaves the earlier generation (or part of it); after, only its own files
    old=0 new=0
    for f in model.hcm trajectory.hct log.json; do
        [ -e "A/$f" ] || continue
        if cmp -s "A/$f" "gen1/$f"; then old=$((old + 1)); else new=$((new + 1)); fi
    done
    [ $old -eq 0 ] || [ $new -eq 0 ] ||
        die "trial $trial: $old file(s) of the earlier run beside $new of the killed run's"
    [ ! -e A/log.json ] || [ -e A/trajectory.hct ] || die "trial $trial: log.json without trajectory"
    if [ -e A/trajectory.hct ]; then
        expect 0 "$HC" trajectory show --data X.hcd --traj A
    fi
done
expect 0 "$HC" teacher --model mf "${TEACH[@]}" --seed 1 --out A
cmp -s A/model.hcm gen1/model.hcm || die "a rerun after the kills trains another model"
left=$(find A -name '*.tmp.*')
[ -z "$left" ] || die "temporary files of killed writers left: $left"

echo "- run killed: its stage dies with it; run resumes"
QUICK=(--teacher-epochs 400 --eval-every 50 --student-epochs 20 --latency-queries 10 --threads 2
    --teachers mf --patience 100)
for trial in $(seq 1 3); do
    "$HC" run --data X.tsv --out R "${QUICK[@]}" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '1.%03d' $((RANDOM % 1000)))" # the teacher stage is running then
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sleep 0.3
    for p in /proc/[0-9]*; do
        if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "HETCOMP_STAGE_OF=$pid"; then
            die "trial $trial: a stage of the killed run is still running (${p#/proc/})"
        fi
    done
done
expect 0 "$HC" run --data X.tsv --out R "${QUICK[@]}"
contains R/report.html "HetComp student"
left=$(find R -name '*.tmp.*')
[ -z "$left" ] || die "temporary files left after the resumed run: $left"
echo "PASS"

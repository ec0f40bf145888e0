#!/usr/bin/env bash
# Writes a small seed corpus per harness into OUT/<what>/ (fuzz/README.md): the reader test
# files of tests/data, a tiny synthetic dataset made with the built hetcomp (synth, split) and
# what `teacher --epochs 2` writes for each family (model, trajectory, its text export), plus
# a few JSON bodies and query strings. Nothing here is committed: seeds are made at fuzz time.
# Cost: about ten seconds (six teachers of two epochs on 40 users x 60 items).
# Usage: fuzz/make_corpus.sh HETCOMP_BINARY OUT_DIR
set -euo pipefail
bin=$(realpath "$1")
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$out/.work
rm -rf "$out"
mkdir -p "$work"
for t in count adj csv ml dataset model traj traj_text batch query; do mkdir -p "$out/$t"; done

# Readers: every good and bad reader file, in every reader's corpus (formats cross over).
for t in count adj csv ml; do
  find "$root/tests/data" -type f ! -name '.gitattributes' -exec cp {} "$out/$t/" \;
done

# The dataset fuzz/common.h builds in memory (FZ_USERS, FZ_ITEMS, FZ_INTERACTIONS, FZ_SEED):
# the seed models and trajectories must belong to it to pass the dataset checks.
"$bin" synth --users 40 --items 60 --interactions 400 --seed 7 --out "$work/synth.tsv" >/dev/null
# (awk, not head, ends the pipelines: under pipefail a writer killed by SIGPIPE fails the run)
awk 'NR <= 30' "$work/synth.tsv" >"$out/csv/synth.tsv"
awk -F'\t' 'NR > 1 && NR <= 31 {print $1 "::" $2 "::5::" $3}' "$work/synth.tsv" >"$out/ml/synth.dat"
awk -F'\t' 'NR > 1 && NR <= 61 {u = substr($1, 2); a[u] = a[u] " " substr($2, 2); n[u]++}
  END {for (u = 0; u in a; u++) {print u a[u]; printf "%d%s\n", n[u], a[u] >"/dev/stderr"}}' \
  "$work/synth.tsv" >"$out/adj/synth.txt" 2>"$out/count/synth.dat"
"$bin" split --data "$work/synth.tsv" --out "$work/ds.hcd" >/dev/null
cp "$work/ds.hcd" "$out/dataset/synth.hcd"

# One short teacher per family: tiny models (dim 4) and trajectories (2 checkpoints, top 5).
for m in mf ml gnn dl ae iae; do
  "$bin" teacher --model "$m" --data "$work/ds.hcd" --out "$work/t_$m" --epochs 2 \
    --eval-every 1 --dim 4 --checkpoints 2 --topk 5 --threads 1 --quiet >/dev/null
  cp "$work/t_$m/model.hcm" "$out/model/$m.hcm"
  cp "$work/t_$m/trajectory.hct" "$out/traj/$m.hct"
  "$bin" trajectory export --data "$work/ds.hcd" --traj "$work/t_$m" \
    --out "$work/$m.tsv" >/dev/null
  awk 'NR <= 40' "$work/$m.tsv" >"$out/traj_text/$m.tsv" # the '#' lines and the first users
done

# Request bodies and query strings (docs/serving.md).
printf '{"users": ["u1", "u2"], "k": 10}' >"$out/batch/plain.json"
printf '{"users": ["u0"], "k": 3, "exclude": "all"}' >"$out/batch/exclude.json"
printf '{"users": ["\\u00e9", "x\\"y"], "exclude": "none"}' >"$out/batch/escapes.json"
printf 'user=u17&k=10' >"$out/query/recommend"
printf 'user=u1&k=5&include_seen=true&exclude=none' >"$out/query/seen"
printf 'item=i3&k=20&metric=dot' >"$out/query/similar"
printf 'user=u%%31+x&k=0010&exclude' >"$out/query/escaped"
rm -rf "$work"

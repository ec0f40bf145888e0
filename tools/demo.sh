#!/usr/bin/env bash
# The main job on the built-in synthetic data: generate, split, train the teachers with their
# trajectories, build the ensemble, distil a 6-dimensional student with HetComp and train the
# same student without distillation (both capped at 200 epochs: DKC has moved every teacher
# to its final checkpoint by epoch ~120), then print one comparison table.
# Usage: tools/demo.sh HETCOMP_BINARY OUTPUT_DIR
set -euo pipefail
bin=${1:?usage: tools/demo.sh HETCOMP_BINARY OUTPUT_DIR}
out=${2:?usage: tools/demo.sh HETCOMP_BINARY OUTPUT_DIR}
mkdir -p "$out"
step() { printf '\n== %s\n' "$*" >&2; }

step "synthetic data (3,000 users x 5,000 items, 100,000 interactions)"
"$bin" synth --out "$out/synth.tsv"
step "benchmark split 60/20/20, seed 0"
"$bin" split --data "$out/synth.tsv" --out "$out/data.hcd"
"$bin" stats --data "$out/data.hcd"
step "popularity baseline"
"$bin" eval --data "$out/data.hcd" --model pop --json "$out/pop.json"

teachers=()
for m in $("$bin" teacher --help | awk '/^models:/{f=1;next} f&&NF==0{exit} f{print $1}'); do
  step "teacher $m"
  "$bin" teacher --model "$m" --data "$out/data.hcd" --out "$out/teacher-$m" --quiet \
    --eval-every 5 --patience 4 > "$out/teacher-$m.txt"
  grep -E "^(params|best_epoch|s_per_epoch|test_R@50|checkpoints)" "$out/teacher-$m.txt" >&2
  teachers+=("$out/teacher-$m")
done

step "ensemble of the teachers (rank importance, final checkpoints)"
"$bin" ensemble --data "$out/data.hcd" --teachers "${teachers[@]}" --out "$out/ensemble"

step "student without distillation (BPR, d = 6)"
"$bin" distill --method bpr --data "$out/data.hcd" --out "$out/student-bpr" --quiet --epochs 200 \
  > "$out/student-bpr.txt"
step "HetComp student (d = 6)"
"$bin" distill --method hetcomp --data "$out/data.hcd" --teachers "${teachers[@]}" \
  --out "$out/student-hetcomp" --quiet --epochs 200 > "$out/student-hetcomp.txt"

step "summary (test set)"
{
  printf '%-16s %8s %8s %8s %8s %10s\n' model R@10 N@10 R@50 N@50 params
  for t in "${teachers[@]}"; do
    f="$t.txt"
    printf '%-16s %8s %8s %8s %8s %10s\n' "teacher-$(basename "$t" | sed 's/teacher-//')" \
      "$(awk '$1=="test_R@10"{print $2}' "$f")" "$(awk '$1=="test_N@10"{print $2}' "$f")" \
      "$(awk '$1=="test_R@50"{print $2}' "$f")" "$(awk '$1=="test_N@50"{print $2}' "$f")" \
      "$(awk '$1=="params"{print $2}' "$f")"
  done
  awk '$1=="ensemble"{printf "%-16s %8s %8s %8s %8s %10s\n", "ensemble", $2, $3, $6, $7, "-"}' \
    < <("$bin" ensemble --data "$out/data.hcd" --teachers "${teachers[@]}")
  for s in bpr hetcomp; do
    f="$out/student-$s.txt"
    printf '%-16s %8s %8s %8s %8s %10s\n' "student-$s" \
      "$(awk '$1=="test_R@10"{print $2}' "$f")" "$(awk '$1=="test_N@10"{print $2}' "$f")" \
      "$(awk '$1=="test_R@50"{print $2}' "$f")" "$(awk '$1=="test_N@50"{print $2}' "$f")" \
      "$(awk '$1=="params"{print $2}' "$f")"
  done
} | tee "$out/summary.txt"
echo "outputs in $out/ (models, trajectories, logs as JSON)" >&2

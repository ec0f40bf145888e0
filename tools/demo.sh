#!/usr/bin/env bash
# The main job on the built-in synthetic data: `hetcomp run` generates the data (3,000 users x
# 5,000 items), splits it, trains the six teacher families with their trajectories, builds their
# ensemble, distils a 6-dimensional student with HetComp and trains the same student without
# distillation, times inference, and writes OUTPUT_DIR/report.html; then the distilled student
# recommends for one user. Teachers are capped at DEMO_TEACHER_EPOCHS epochs and the students at
# DEMO_STUDENT_EPOCHS so that the demo takes a few minutes on 2 cores; run it again and every
# finished stage is skipped.
# Usage: tools/demo.sh HETCOMP_BINARY OUTPUT_DIR
set -euo pipefail
bin=${1:?usage: tools/demo.sh HETCOMP_BINARY OUTPUT_DIR}
out=${2:?usage: tools/demo.sh HETCOMP_BINARY OUTPUT_DIR}

"$bin" run --out "$out" --teacher-epochs "${DEMO_TEACHER_EPOCHS:-60}" --eval-every 5 \
  --patience 4 --student-epochs "${DEMO_STUDENT_EPOCHS:-150}"

user=$(awk -F'\t' 'NR == 2 {print $1}' "$out/synth.tsv")
printf '\n== the HetComp student recommends for user %s (train items left out)\n' "$user" >&2
"$bin" recommend --model "$out/students/hetcomp/model.hcm" --data "$out/data.hcd" --user "$user" \
  -k 10
printf '\nreport: %s/report.html (open it in a browser; it needs no network)\n' "$out" >&2

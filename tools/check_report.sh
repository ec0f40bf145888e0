#!/usr/bin/env bash
# Checks a run's report.html as a browser shows it: Debian's headless Chromium loads the page
# (it needs no network: the plots are data URIs), its DOM after rendering must hold every part
# the report promises (the list below, as README's set-up section names them), and a full-page screenshot is
# written for a look. Cost: two Chromium starts, a few seconds.
# Usage: tools/check_report.sh RUN_DIR/report.html OUT_DIR   (installs chromium if missing)
set -euo pipefail
page=$(realpath "${1:?usage: tools/check_report.sh REPORT.html OUT_DIR}")
out=${2:?usage: tools/check_report.sh REPORT.html OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v chromium >/dev/null || "$root/tools/install-deps.sh" chromium
mkdir -p "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# the flags a closed network needs (no background connections), a fresh profile, no sandbox
# (CI runs as root)
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$profile" --virtual-time-budget=5000)
"${chrome[@]}" --dump-dom "file://$page" >"$out/report.dom.html" 2>"$out/chromium.log"
"${chrome[@]}" --window-size=1200,5200 --hide-scrollbars --screenshot="$out/report.png" \
  "file://$page" 2>>"$out/chromium.log"
[ -s "$out/report.png" ] || { echo "check_report: no screenshot (see $out/chromium.log)" >&2; exit 1; }

dom=$out/report.dom.html
fail=0
# need WHAT PATTERN: the rendered page holds PATTERN (an extended regex)
need() {
  if grep -Eq "$2" "$dom"; then
    echo "ok    $1"
  else
    echo "MISSING $1 (/$2/ in $dom)"
    fail=1
  fi
}
need "the dataset and split summary" 'Dataset: [0-9]+ users, [0-9]+ items, [0-9]+ interactions'
need "the comparison table" '<h2>Comparison</h2>'
need "a popularity row" '<tr><td>popularity \(items by'
need "the ensemble's row" '<tr><td>ensemble of all teachers'
need "the student without distillation" '<tr><td>student without distillation'
need "the HetComp student" '<tr class="hl"><td>HetComp student'
need "the learning curves plot" 'Validation Recall@50 of the d-dimensional MF student'
need "the DKC plot as the share of the way" 'how far along its trajectory'
need "the cost against accuracy plot" 'Cost against accuracy'
need "the teachers plot" 'validation Recall@50 over epochs; dots: the checkpoints'
need "the teacher trajectories table" '<h2>Teacher trajectories</h2>'
need "the stages table" '<h2>Stages</h2>'
# warnings appear only when their conditions hold (a teacher stopped by its epoch cap while
# improving, an ensemble below its best teacher): said, not required
n_warn=$(grep -o 'class="warn"' "$dom" | wc -l)
echo "info  $n_warn warning(s) shown"
# every figure is an image Chromium could decode: data URIs of SVG, none empty
n_fig=$(grep -o '<figure>' "$dom" | wc -l)
n_img=$(grep -Eo '<img [^>]*src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]{200,}' "$dom" | wc -l)
if [ "$n_fig" -ge 4 ] && [ "$n_img" -eq "$n_fig" ]; then
  echo "ok    $n_fig figures, each an embedded SVG"
else
  echo "MISSING figures: $n_fig figures, $n_img embedded SVG images"
  fail=1
fi
echo "screenshot: $out/report.png"
exit $fail

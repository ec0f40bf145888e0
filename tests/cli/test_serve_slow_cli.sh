#!/usr/bin/env bash
# test_serve_slow_cli.sh - `hetcomp serve`'s request deadline against slow clients
# (docs/serving.md, "Limits and slow clients"): 1,600 loopback connections over 8 addresses
# trickle a request a byte a second; each is closed by the --request-timeout 2 deadline (not
# the 30 s idle timeout: /metrics counts them), while GETs from another address are answered
# 200 throughout and after; a keep-alive connection with requests 0.8 s apart lives past 2 s
# (the deadline restarts at each answer) and is closed 2 s after its last answer; bad values.
# Usage: bash test_serve_slow_cli.sh <hetcomp-binary> <shared-data-dir>
# Every wait is bounded (server up 10 s, requests 5 s, the slow phase 10 s): about 10 s.
set -euo pipefail
HC=${1:?usage: test_serve_slow_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROBE="python3 $ROOT/tests/cli/http_probe.py"
# shellcheck source=tests/cli/lib.sh
. "$ROOT/tests/cli/lib.sh"
# shellcheck source=tests/cli/serve_lib.sh
. "$ROOT/tests/cli/serve_lib.sh"
serve_test_init serve_slow

echo "- data and an MF model"
expect 0 "$HC" synth --users 200 --items 300 --interactions 5000 --out X.tsv
expect 0 "$HC" split --data X.tsv --out ds.hcd
expect 0 "$HC" teacher --model mf --dim 8 --epochs 3 --eval-every 3 --quiet --no-trajectory \
    --data ds.hcd --out t1 --threads 1 --seed 1

echo "- --request-timeout is checked (1..3600) and in --help"
for bad in 0 3601 x; do
    expect 2 "$HC" serve --model t1/model.hcm --data ds.hcd --request-timeout "$bad"
done
expect 0 "$HC" serve --help
contains out "--request-timeout S"

start_server --model t1/model.hcm --data ds.hcd --request-timeout 2 --idle-timeout 30 \
    --max-connections 2048

echo "- 1,600 slow connections: closed by the deadline, other clients answered meanwhile"
out=$($PROBE trickle "$PORT" 1600 8 10)
echo "  $out"
read -r _ opened _ closed _ first _ median _ last _ normal _ max_ms <<<"$out"
[ "$opened" = 1600 ] || die "opened only $opened slow connections"
[ "$closed" = 1600 ] || die "only $closed of 1600 slow connections closed within 10 s"
# no earlier than the deadline (a 0.1 s margin for clock reads), within 3 s more at worst
python3 -c "import sys; f, l = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (f >= 1.9 and l <= 5.0))" \
    "$first" "$last" || die "closed from $first s to $last s, expected about 2 s"
[ "${normal%/*}" = "${normal#*/}" ] && [ "${normal#*/}" -gt 0 ] ||
    die "requests during the slow phase failed: $normal"
status GET /healthz 200
curl -s --max-time 5 -o metrics.txt "$BASE/metrics"
contains metrics.txt "hetcomp_request_timeouts_total 1600"
status GET /metrics.json 200
[ "$(json body 'j["request_timeouts"]')" = 1600 ] || die "metrics.json: $(cat body)"

echo "- keep-alive: the deadline restarts at each answer, runs again after the last"
out=$($PROBE paced "$PORT" 4 0.8 4)
echo "  $out"
read -r ok _ after <<<"$out"
[ "$ok" = ok ] || die "paced: $out"
[ "$after" != never ] && python3 -c "import sys; sys.exit(not 1.5 <= float(sys.argv[1]) <= 3.5)" \
    "$after" || die "idle keep-alive connection closed after $after s, expected about 2 s"
stop_server

echo "all serve slow-client checks passed"

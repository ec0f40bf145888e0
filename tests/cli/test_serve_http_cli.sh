#!/usr/bin/env bash
# test_serve_http_cli.sh - `hetcomp serve` as production traffic meets it (docs/serving.md):
# keep-alive; POST /v1/recommend batches (order kept, unknown users per entry, malformed
# JSON, too many users, k out of range, unknown keys, NUL in ids, a body over the limit);
# GET /v1/similar (cosine against Python's computation from the exported factors when NumPy
# is there; dot; unknown item; bad k and metric); --fallback popular; Prometheus /metrics;
# hot reload by POST /admin/reload and SIGHUP (a new model served, a corrupt file refused
# with the old model still serving and the failure in /healthz); the 503 connection limit;
# slow clients (thousands of loopback connections trickling headers) while another client
# address is served, and new requests answered afterwards; a drain on SIGTERM.
# Usage: bash test_serve_http_cli.sh <hetcomp-binary> <shared-data-dir>
# Every wait is bounded (server up 10 s, requests 5 s, the slow-client phase 6 s).
set -euo pipefail
HC=${1:?usage: test_serve_http_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROBE="python3 $ROOT/tests/cli/http_probe.py"
# shellcheck source=tests/cli/lib.sh
. "$ROOT/tests/cli/lib.sh"
# shellcheck source=tests/cli/serve_lib.sh
. "$ROOT/tests/cli/serve_lib.sh"
serve_test_init serve_http

# items TEMPLATE : the items of the last answer's list, one a line (TEMPLATE: a JSON path)
items() { json body '"\n".join(e["item"] for e in '"$1"')'; }

echo "- data and two MF models (the second for the reload)"
expect 0 "$HC" synth --users 200 --items 300 --interactions 5000 --out X.tsv
expect 0 "$HC" split --data X.tsv --out ds.hcd
for s in 1 2; do
    expect 0 "$HC" teacher --model mf --dim 8 --epochs 3 --eval-every 3 --quiet --no-trajectory \
        --data ds.hcd --out "t$s" --threads 1 --seed "$s"
done
cp t1/model.hcm m.hcm

start_server --model m.hcm --data ds.hcd --threads 2 --admin --max-batch 5

echo "- keep-alive: 20 requests on one connection"
[ "$($PROBE keepalive "$PORT" 20)" = ok ] || die "keep-alive"

echo "- batch: answers in the order given, unknown users per entry, as the single GETs"
printf '{"users": ["u3", "nobody", "u0", "u3"], "k": 4, "exclude": "all"}' >b.json
status POST /v1/recommend 200 --data-binary @b.json
cp body batch.out
[ "$(json batch.out '[r["user"] for r in j["results"]], j["k"]')" = \
    "(['u3', 'nobody', 'u0', 'u3'], 4)" ] || die "batch order: $(cat batch.out)"
[ "$(json batch.out 'j["results"][1]')" = "{'user': 'nobody', 'error': 'unknown user'}" ] ||
    die "batch unknown user: $(cat batch.out)"
for j in 0 2; do
    u=$(json batch.out "j['results'][$j]['user']")
    status GET "/v1/recommend?user=$u&k=4&exclude=all" 200
    [ "$(items 'j["items"]')" = "$(json batch.out "'\n'.join(e['item'] for e in j['results'][$j]['items'])")" ] ||
        die "batch entry $j differs from GET for $u"
done

echo "- batch: bad bodies are 400 (413 over the size limit)"
for body in '{"users": ["u1"' '[1, 2]' '{"users": []}' '{"users": "u1"}' '{"users": [1]}' \
    '{"users": ["u1"], "k": 0}' '{"users": ["u1"], "k": 1001}' '{"users": ["u1"], "k": "5"}' \
    '{"users": ["u1"], "bogus": 1}' '{"users": ["u1"], "users": ["u2"]}' \
    '{"users": ["u1\u0000x"]}' '{"users": ["u1"], "exclude": "some"}' \
    '{"users": ["a", "b", "c", "d", "e", "f"]}' ''; do
    printf '%s' "$body" >bad.json
    status POST /v1/recommend 400 --data-binary @bad.json
done
printf '{"users": ["a", "b", "c", "d", "e", "f"]}' >bad.json
status POST /v1/recommend 400 --data-binary @bad.json
contains body "too many users: 6 (at most 5"
head -c 1100000 /dev/zero | tr '\0' ' ' >big.json
status POST /v1/recommend 413 --data-binary @big.json
status GET /healthz 200

echo "- similar: cosine and dot over the item factors, the item itself left out"
status GET "/v1/similar?item=i7&k=5" 200
[ "$(json body 'j["metric"], len(j["items"])')" = "('cosine', 5)" ] || die "similar: $(cat body)"
items 'j["items"]' >sim_cos
grep -qx i7 sim_cos && die "similar lists the item itself"
json body 'all(-1.0001 <= e["score"] <= 1.0001 for e in j["items"])' | grep -qx True ||
    die "cosine out of [-1, 1]: $(cat body)"
status GET "/v1/similar?item=i7&k=5&metric=dot" 200
items 'j["items"]' >sim_dot
expect 0 "$HC" export --model m.hcm --data ds.hcd --format npy --out ex
if python3 -c 'import numpy' 2>/dev/null; then
    python3 - ex i7 sim_cos sim_dot <<'EOF' || die "similar differs from NumPy's"
import sys, numpy as np
d, it = sys.argv[1], sys.argv[2]
Q = np.load(d + "/item_factors.npy").astype(np.float64)
ids = [l.split("\t")[1] for l in open(d + "/items.tsv").read().split("\n") if l]
i = ids.index(it)
for f, s in ((sys.argv[3], Q @ Q[i] / (np.linalg.norm(Q, axis=1) * np.linalg.norm(Q[i]))),
             (sys.argv[4], Q @ Q[i])):
    s[i] = -np.inf
    want = [ids[j] for j in np.argsort(-s, kind="stable")[:5]]
    got = open(f).read().split()
    # equal but for near-ties (float32 sums on the server)
    for g, w in zip(got, want):
        assert g == w or abs(s[ids.index(g)] - s[ids.index(w)]) < 1e-5, (got, want)
EOF
fi
status GET "/v1/similar?item=nothing" 404
status GET "/v1/similar?item=i7&k=0" 400
status GET "/v1/similar?item=i7&metric=l2" 400
status GET "/v1/similar?k=3" 400
status GET "/v1/similar?item=i7%00" 400
status POST "/v1/similar?item=i7" 405

echo "- Prometheus /metrics: counters by endpoint and code, histogram, model version"
status GET /metrics.json 200
curl -s --max-time 5 -D headers -o metrics.txt "$BASE/metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4' headers || die "metrics content type"
contains metrics.txt 'hetcomp_requests_total{endpoint="recommend_batch",code="413"} 1'
contains metrics.txt 'hetcomp_requests_total{endpoint="similar",code="404"} 1'
contains metrics.txt 'hetcomp_request_duration_seconds_bucket{endpoint="recommend",le="+Inf"} 2'
contains metrics.txt 'hetcomp_model_version 1'
python3 - metrics.txt <<'EOF' || die "metrics not in the text exposition format"
import re, sys
line = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$')
for l in open(sys.argv[1]).read().split("\n"):
    assert not l or l.startswith("# HELP ") or l.startswith("# TYPE ") or line.match(l), l
EOF

echo "- reload: POST /admin/reload serves the new file; a corrupt file keeps the old model"
status GET "/v1/recommend?user=u0&k=5" 200
items 'j["items"]' >before
cp t2/model.hcm m.hcm
status POST /admin/reload 200
[ "$(json body 'j["model_version"]')" = 2 ] || die "reload: $(cat body)"
expect 0 "$HC" recommend --model t2/model.hcm --data ds.hcd --user u0 -k 5
tail -n +2 out | cut -f2 >want2
status GET "/v1/recommend?user=u0&k=5" 200
items 'j["items"]' | cmp -s - want2 || die "the reloaded model is not served"
cmp -s before want2 && die "the two models give the same list: the reload check proves nothing"
head -c 500 t1/model.hcm >m.hcm
status POST /admin/reload 500
contains body "the old model keeps serving"
status GET /healthz 200
[ "$(json body 'j["model_version"], j["reloads"]["failed"]')" = "(2, 1)" ] ||
    die "healthz after a failed reload: $(cat body)"
json body 'j["reloads"]["last_error"]' | grep -q "m.hcm" || die "no reload error: $(cat body)"
status GET "/v1/recommend?user=u0&k=5" 200
items 'j["items"]' | cmp -s - want2 || die "a failed reload changed the model"
cp t1/model.hcm m.hcm
kill -HUP "$SRV"
for _ in $(seq 50); do
    status GET /healthz 200
    [ "$(json body 'j["model_version"]')" = 3 ] && break
    sleep 0.1
done
[ "$(json body 'j["model_version"], j["reloads"]["last_error"]')" = "(3, None)" ] ||
    die "SIGHUP did not reload: $(cat body)"
status GET "/v1/recommend?user=u0&k=5" 200
items 'j["items"]' | cmp -s - before || die "SIGHUP: the first model is not served again"
stop_server

echo "- fallback popular; /admin/reload is not served without --admin"
start_server --model m.hcm --data ds.hcd --fallback popular --max-connections 4
status GET "/v1/recommend?user=nobody&k=3" 200
[ "$(json body 'j["fallback"], len(j["items"])')" = "('popular', 3)" ] || die "fallback: $(cat body)"
# the most popular train items: the CLI's most frequent train items are not known here, but
# the scores are train counts, best first
json body '[e["score"] for e in j["items"]] == sorted([e["score"] for e in j["items"]], reverse=True)' |
    grep -qx True || die "fallback not by count: $(cat body)"
status POST /admin/reload 404
expect 2 "$HC" serve --model m.hcm --data ds.hcd --fallback random

echo "- the connection limit: a 503 beyond 4 open connections, answered again after"
[ "$($PROBE limit "$PORT" 6)" = "503 200" ] || die "connection limit"
stop_server

echo "- slow clients: 2,000 connections trickling headers; another address is served"
start_server --model m.hcm --data ds.hcd --idle-timeout 2 --max-per-client 50 \
    --max-connections 500
out=$($PROBE slow "$PORT" 2000 6)
echo "  $out"
read -r _ held _ good _ after <<<"$out"
[ "$held" -le 50 ] || die "one client held $held connections (limit 50)"
[ "${good%/*}" = "${good#*/}" ] || die "requests from another address failed: $good"
[ "$after" = 200 ] || die "no answer after the slow clients left: $after"

echo "- drain: SIGTERM during a stream of batch requests; every answer complete"
printf '{"users": ["u1", "u2", "u3", "u4", "u5"], "k": 50}' >b5.json
for _ in $(seq 200); do
    curl -s --max-time 5 -o /dev/null -w '%{http_code}\n' -X POST --data-binary @b5.json \
        "$BASE/v1/recommend" || true
done >codes &
LOOP=$!
sleep 0.5
stop_server
wait $LOOP
# before the stop: 200; after: no connection (000); never an error status
grep -qvxE '200|000' codes && die "drain: statuses $(sort codes | uniq -c)"
grep -qx 200 codes || die "drain: no request answered"

echo "all serve HTTP checks passed"

#!/usr/bin/env bash
# test_serve_cli.sh - end-to-end checks of `hetcomp recommend`, `hetcomp serve` and
# `hetcomp export`.
# Usage: bash test_serve_cli.sh <hetcomp-binary> <shared-data-dir>
# Covers: a tiny synthetic dataset and MF teacher; recommend for one user (TSV, train items
# left out, unknown user -> exit 1, usage errors -> exit 2) and for all users (atomic file,
# same rows as the single-user command); the HTTP server on a free port: the same top-5 as the
# CLI, /healthz, bad requests answered 400/404/405 with JSON error bodies, /metrics counting
# them, still answering afterwards, a second server on the same port failing cleanly, and a
# clean exit on SIGTERM; the live ensemble of two teachers (mf, ml): recommend's lists equal
# the rank-importance aggregation computed in Python from each model's own top lists (equal
# weights and 1,3 weights, T 10 and 2), --all-users, a model of another dataset refused, usage
# errors, --bench (TSV and JSON) for one model and the ensemble, and a 2-model server giving
# `hetcomp recommend`'s lists and scores with the same 2 models; export: .npy files that NumPy
# loads with the right shapes and tools/load_model.py giving the CLI's --include-seen list
# (NumPy parts skipped without it).
# Every wait is bounded (server up within 10 s, each request 5 s, shutdown 10 s).
set -euo pipefail
HC=${1:?usage: test_serve_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC") # absolute: the script runs in $T
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/cli/lib.sh
. "$ROOT/tests/cli/lib.sh" # die, expect, contains, no_tmp
# shellcheck source=tests/cli/serve_lib.sh
. "$ROOT/tests/cli/serve_lib.sh" # json, http, status, start_server, stop_server
serve_test_init serve_cli

echo "- synth + split + a tiny MF teacher"
expect 0 "$HC" synth --users 300 --items 400 --interactions 8000 --out X.tsv
expect 0 "$HC" split --data X.tsv --out ds.hcd
expect 0 "$HC" teacher --model mf --dim 8 --epochs 6 --eval-every 3 --quiet --no-trajectory \
    --data ds.hcd --out t --threads 1
M=t/model.hcm

echo "- recommend: one user as TSV, train items left out"
expect 0 "$HC" recommend --model $M --data ds.hcd --user u0 -k 5
[ "$(head -1 out)" = "$(printf 'rank\titem\tscore')" ] || die "recommend header: $(head -1 out)"
[ "$(tail -n +2 out | wc -l)" = 5 ] || die "recommend -k 5 printed $(wc -l <out) lines"
tail -n +2 out | cut -f2 >cli_items
awk -F'\t' 'NR > 1 && ($1 != NR - 1 || $3 + 0 != $3) { exit 1 }' out || die "bad TSV rows"
# k above the item count lists every selectable item; the items only --include-seen lists
# are u0's own (train) items from X.tsv
expect 0 "$HC" recommend --model $M --data ds.hcd --user u0 -k 100000 --include-seen
tail -n +2 out | cut -f2 | sort >all_seen
expect 0 "$HC" recommend --model $M --data ds.hcd --user u0 -k 100000
tail -n +2 out | cut -f2 | sort >all_unseen
awk -F'\t' '$1 == "u0" { print $2 }' X.tsv | sort >u0_items
comm -23 all_seen all_unseen >only_seen
[ -s only_seen ] || die "--include-seen added no item"
[ -z "$(comm -23 only_seen u0_items)" ] || die "masked items that are not u0's: $(cat only_seen)"
[ -z "$(sort cli_items | comm -12 - only_seen)" ] || die "top-5 holds a train item"

echo "- recommend: unknown user -> 1, usage errors -> 2"
expect 1 "$HC" recommend --model $M --data ds.hcd --user nobody
contains err "unknown user 'nobody'"
expect 2 "$HC" recommend --model $M --data ds.hcd
expect 2 "$HC" recommend --model $M --data ds.hcd --user u0 --all-users
expect 2 "$HC" recommend --model $M --data ds.hcd --user u0 -k 0
expect 1 "$HC" recommend --model missing.hcm --data ds.hcd --user u0

echo "- recommend --all-users: one file, same rows as the single-user command"
expect 0 "$HC" recommend --model $M --data ds.hcd --all-users -k 5 --out all.tsv --block 7
contains err "300 users x top-5"
[ "$(wc -l <all.tsv)" = $((1 + 300 * 5)) ] || die "all.tsv has $(wc -l <all.tsv) lines"
awk -F'\t' '$1 == "u0" { print $3 }' all.tsv | cmp -s - cli_items || die "all.tsv u0 differs"
no_tmp
expect 0 "$HC" recommend --model $M --data ds.hcd --all-users -k 5 --out all256.tsv --quiet
# BLAS may round a 7-row and a 256-row product differently in the last bit: same items (but
# for near-ties) and scores within 1e-5 relative
python3 - all.tsv all256.tsv <<'EOF' || die "block 7 and block 256 outputs differ"
import sys
a = [l.split("\t") for l in open(sys.argv[1]).read().split("\n")[1:] if l]
b = [l.split("\t") for l in open(sys.argv[2]).read().split("\n")[1:] if l]
assert len(a) == len(b), (len(a), len(b))
for x, y in zip(a, b):
    sx, sy = float(x[3]), float(y[3])
    assert x[:2] == y[:2] and abs(sx - sy) <= 1e-5 * max(abs(sx), abs(sy), 1e-6), (x, y)
    assert x[2] == y[2] or abs(sx - sy) <= 1e-5 * max(abs(sx), 1e-6), (x, y)
EOF

echo "- serve: starts on a free port within 10 s"
start_server --model $M --data ds.hcd --threads 2

echo "- serve: /v1/recommend gives the CLI's top-5, /healthz"
status GET "/v1/recommend?user=u0&k=5" 200
json body '"\n".join(e["item"] for e in j["items"])' >srv_items
cmp -s srv_items cli_items || die "server items $(tr '\n' ' ' <srv_items)!= CLI $(tr '\n' ' ' <cli_items)"
[ "$(json body 'j["user"], j["k"]')" = "('u0', 5)" ] || die "recommend body: $(cat body)"
status GET "/v1/recommend?user=u0&k=3&include_seen=1" 200
[ "$(json body 'len(j["items"])')" = 3 ] || die "include_seen body: $(cat body)"
status GET /healthz 200
[ "$(json body 'j["status"], j["model"], j["users"], j["model_file"]')" = \
    "('ok', 'mf', 300, 'model.hcm')" ] || die "healthz: $(cat body)"
# the file by name and checksum, never its path
json body 'j["model_checksum"]' | grep -Eqx '[0-9a-f]{16}' || die "healthz checksum: $(cat body)"
grep -qF "t/model.hcm" body && die "healthz shows the model's path: $(cat body)"
N_ITEMS=$(json body 'j["items"]')

echo "- serve: bad requests get JSON errors; the server keeps answering"
status GET "/v1/recommend?user=nobody" 404
contains body "unknown user"
status GET "/v1/recommend?user=u0&k=0" 400
status GET "/v1/recommend?user=u0&k=1001" 400
status GET "/v1/recommend?user=u0&k=12abc" 400
status GET "/v1/recommend?user=u0&k=-3" 400
status GET "/v1/recommend?k=5" 400
status GET "/v1/recommend?user=" 400
status GET "/v1/recommend?user=u0&user=u1" 400
status GET "/v1/recommend?user=u0&bogus=1" 400
status GET "/v1/recommend?user=u0&include_seen=maybe" 400
status GET "/v1/recommend?user=%ff%fe%00" 400
contains body "NUL byte"
status GET "/v1/recommend?user=u0%00x" 400
status GET "/v1/recommend?user=u0&k%00zz=3" 400
status GET "/v1/recommend?user=u0&exclude=bogus" 400
status GET "/v1/recommend?user=u0&exclude=all&include_seen=1" 400
status GET "/no/such/path" 404
status POST "/v1/recommend?user=u0" 400
status PUT /v1/recommend 405
status DELETE /healthz 405
N_BAD=19
for i in $(seq 20); do
    status GET "/v1/recommend?user=u$((i * 7))&k=$i" 200
done
status GET /healthz 200

echo "- serve: exclude=all leaves out valid and test items too, as recommend --exclude all"
expect 0 "$HC" recommend --model $M --data ds.hcd --user u0 -k 50 --exclude all
tail -n +2 out | cut -f2 >cli_all
status GET "/v1/recommend?user=u0&k=50&exclude=all" 200
json body '"\n".join(e["item"] for e in j["items"])' | cmp -s - cli_all ||
    die "exclude=all differs from the CLI's"
# every item: none minus train = u0's train items, train minus all = its valid and test items
for e in none train all; do
    status GET "/v1/recommend?user=u0&k=1000&exclude=$e" 200
    json body '"\n".join(e["item"] for e in j["items"])' | sort >"srv_$e"
done
awk -F'\t' '$1 == "u0" { print $2 }' X.tsv | sort -u >u0_all
{ comm -23 srv_none srv_train; comm -23 srv_train srv_all; } | sort | cmp -s - u0_all ||
    die "exclude=train/all did not leave out exactly u0's train / known items"
[ -z "$(comm -12 srv_all u0_all)" ] || die "exclude=all kept an item of u0"

echo "- serve: /metrics.json counts every request and reports latency percentiles"
status GET /metrics.json 200
# before this one: 2 recommend + 1 healthz ok, N_BAD errors, 20 recommend + 1 healthz ok,
# 4 exclude checks
[ "$(json body 'j["requests"]["4xx"]')" = $N_BAD ] || die "metrics 4xx: $(cat body)"
[ "$(json body 'j["requests"]["2xx"]')" = 28 ] || die "metrics 2xx: $(cat body)"
[ "$(json body 'j["requests"]["total"]')" = $((28 + N_BAD)) ] || die "metrics total: $(cat body)"
[ "$(json body 'j["requests"]["recommend_ok"]')" = 26 ] || die "metrics recommend: $(cat body)"
json body 'j["latency_ms"]["p50"] <= j["latency_ms"]["p90"] <= j["latency_ms"]["p99"]' |
    grep -qx True || die "percentiles not ordered: $(cat body)"

echo "- serve: a second server on the same port fails cleanly; bad --bind"
expect 1 "$HC" serve --model $M --data ds.hcd --port "$PORT"
contains err "cannot listen"
expect 1 "$HC" serve --model $M --data ds.hcd --port 0 --bind not-an-address
expect 2 "$HC" serve --model $M --data ds.hcd --port 70000

echo "- serve: SIGTERM stops it with exit 0"
stop_server

echo "- ensemble: a second teacher (ml); recommend = the aggregation of the models' own lists"
expect 0 "$HC" teacher --model ml --dim 8 --epochs 4 --eval-every 2 --quiet --no-trajectory \
    --data ds.hcd --out t2 --threads 1
M2=t2/model.hcm
# the dataset's item order (ties go to the item read first): the item map of an export
expect 0 "$HC" export --model $M --data ds.hcd --format npy --out exo
cut -f2 exo/items.tsv >item_order
# check_ens W1 W2 T EK USER K : USER's top-K ensemble list (in out) against the aggregation of
# each model's own top-EK list: importance sum_x w_x exp(-rank / T), ties to the item read first
check_ens() {
    cp out "ens_$5.tsv"
    expect 0 "$HC" recommend --model $M --data ds.hcd --user "$5" -k "$4"
    mv out l1.tsv
    expect 0 "$HC" recommend --model $M2 --data ds.hcd --user "$5" -k "$4"
    mv out l2.tsv
    python3 - "$1" "$2" "$3" "ens_$5.tsv" l1.tsv l2.tsv item_order "$6" <<'EOF' ||
import math, sys
w, T = [float(sys.argv[1]), float(sys.argv[2])], float(sys.argv[3])
rows = lambda f: [l.split("\t") for l in open(f).read().split("\n")[1:] if l]
ens, lists = rows(sys.argv[4]), [rows(sys.argv[5]), rows(sys.argv[6])]
first = {it: n for n, it in enumerate(open(sys.argv[7]).read().split())}
imp = {}
for x, l in enumerate(lists):
    for r, row in enumerate(l):
        imp[row[1]] = imp.get(row[1], 0.0) + w[x] * math.exp(-r / T)
ref = sorted(imp, key=lambda it: (-imp[it], first[it]))
assert len(ens) == min(len(ref), int(sys.argv[8])), (len(ens), len(ref))
for j, row in enumerate(ens):
    s = float(row[2])
    assert int(row[0]) == j + 1, row
    assert abs(s - imp[row[1]]) <= 1e-5 * max(1.0, s), (row, imp[row[1]])
    assert row[1] == ref[j] or abs(imp[row[1]] - imp[ref[j]]) <= 1e-5, (j, row, ref[j])
EOF
        die "the ensemble list of $5 is not the aggregation of the models' lists"
}
expect 0 "$HC" recommend --model $M --model $M2 --data ds.hcd --user u0 -k 5 --ensemble-k 20
check_ens 1 1 10 20 u0 5
tail -n +2 ens_u0.tsv | cut -f2 >ens_items
expect 0 "$HC" recommend --model $M --model $M2 --data ds.hcd --user u3 -k 30 --ensemble-k 12 \
    --weights 1,3 --temperature 2
check_ens 1 3 2 12 u3 30
[ "$(tail -n +2 ens_u3.tsv | wc -l)" -gt 12 ] || die "k 30 listed too few items"
expect 0 "$HC" recommend --model $M --model $M2 --data ds.hcd --all-users -k 5 \
    --ensemble-k 20 --out ens_all.tsv
contains err "300 users x top-5 (seen excluded, ensemble of 2 models)"
[ "$(wc -l <ens_all.tsv)" = $((1 + 300 * 5)) ] || die "ens_all.tsv has $(wc -l <ens_all.tsv) lines"

echo "- ensemble: a model of another dataset is refused; usage errors"
expect 0 "$HC" synth --users 300 --items 400 --interactions 8000 --seed 9 --out Y.tsv
expect 0 "$HC" split --data Y.tsv --out other.hcd
expect 0 "$HC" teacher --model mf --dim 4 --epochs 1 --eval-every 1 --quiet --no-trajectory \
    --data other.hcd --out t3 --threads 1
expect 1 "$HC" recommend --model $M --model t3/model.hcm --data ds.hcd --user u0
contains err "trained on another dataset"
expect 1 "$HC" serve --model $M --model t3/model.hcm --data ds.hcd --port 0
contains err "trained on another dataset"
expect 2 "$HC" recommend --model $M --model $M2 --data ds.hcd --user u0 --weights 1
contains err "expected 2 comma-separated positive numbers"
expect 2 "$HC" recommend --model $M --model $M2 --data ds.hcd --user u0 --weights 1,0
expect 2 "$HC" recommend --model $M --data ds.hcd --user u0 --weights 1
expect 2 "$HC" recommend --model $M --data ds.hcd --user u0 --ensemble-k 5
expect 2 "$HC" recommend --model $M --model $M2 --data ds.hcd --user u0 --ensemble-k 0
expect 2 "$HC" serve --model $M --model $M2 --data ds.hcd --weights 1,2,3
expect 2 "$HC" recommend --model $M --data ds.hcd --user u0 --bench 10
expect 2 "$HC" recommend --model $M --data ds.hcd --all-users --json b.json
contains "$T/err" "--json goes with --user or --bench"
expect 0 "$HC" recommend --model $M --data ds.hcd --user u0 -k 4 --json b.json
python3 - b.json "$T/out" <<'EOF' || die "recommend --json differs from its TSV"
import json, sys
doc = json.load(open(sys.argv[1]))
rows = [l.split("\t") for l in open(sys.argv[2]).read().split("\n")[1:] if l]
assert doc["user"] == "u0" and doc["k"] == 4 and doc["exclude"] == "train", doc
assert [d["item"] for d in doc["items"]] == [r[1] for r in rows], (doc, rows)
EOF

echo "- recommend --bench: latency lines and JSON, one model and the ensemble"
expect 0 "$HC" recommend --model $M --data ds.hcd --bench 200 -k 5 --seed 3 --json b1.json
for key in p50_us p90_us p99_us mean_us max_us qps; do
    awk -F'\t' -v k=$key '$1 == k && $2 + 0 > 0 { f = 1 } END { exit !f }' out ||
        die "bench: no positive $key in: $(cat out)"
done
[ "$(json b1.json 'j["queries"], j["k"], j["models"], j["threads"]')" = "(200, 5, ['mf'], 1)" ] ||
    die "bench json: $(cat b1.json)"
json b1.json 'j["p50_us"] <= j["p90_us"] <= j["p99_us"] <= j["max_us"]' | grep -qx True ||
    die "bench percentiles not ordered: $(cat b1.json)"
expect 0 "$HC" recommend --model $M --model $M2 --data ds.hcd --bench 50 --ensemble-k 20 \
    --json b2.json
[ "$(json b2.json 'j["queries"], j["models"], j["ensemble_k"]')" = "(50, ['mf', 'ml'], 20)" ] ||
    die "ensemble bench json: $(cat b2.json)"

echo "- serve: a 2-model server answers like recommend with the same 2 models"
start_server --model $M --model $M2 --data ds.hcd --threads 2 --ensemble-k 20
status GET /healthz 200
[ "$(json body 'j["model"], [m["model"] for m in j["models"]], j["ensemble_k"]')" = \
    "('ensemble', ['mf', 'ml'], 20)" ] || die "ensemble healthz: $(cat body)"
for u in u0 u5 u17 u123; do
    expect 0 "$HC" recommend --model $M --model $M2 --data ds.hcd --user $u -k 7 --ensemble-k 20
    tail -n +2 out | cut -f2,3 >cli_ens
    status GET "/v1/recommend?user=$u&k=7" 200
    json body '"\n".join("%s\t%.7g" % (e["item"], e["score"]) for e in j["items"])' >srv_ens
    cmp -s srv_ens cli_ens || die "$u: server $(tr '\n' ' ' <srv_ens)!= CLI $(tr '\n' ' ' <cli_ens)"
done
status GET "/v1/recommend?user=u0&k=5" 200
json body '"\n".join(e["item"] for e in j["items"])' | cmp -s - ens_items ||
    die "server u0 top-5 differs from the CLI's"
status GET "/v1/recommend?user=nobody" 404
status GET "/v1/recommend?user=u0&k=0" 400
status GET "/v1/recommend?user=u0&k=3&include_seen=1" 200
status GET /metrics.json 200
[ "$(json body 'j["requests"]["recommend_ok"]')" = 6 ] || die "ensemble metrics: $(cat body)"
status GET "/v1/similar?item=i1" 501
printf '{"users": ["u5", "nobody", "u123"], "k": 7}' >batch.json
status POST /v1/recommend 200 --data-binary @batch.json
[ "$(json body '[r.get("error") for r in j["results"]]')" = "[None, 'unknown user', None]" ] ||
    die "ensemble batch: $(cat body)"
json body '"\n".join("%s\t%.7g" % (e["item"], e["score"]) for e in j["results"][2]["items"])' \
    >srv_ens
cmp -s srv_ens cli_ens || die "ensemble batch u123 differs from the CLI's"
stop_server

echo "- export: .npy tensors, id maps, model.json"
expect 0 "$HC" export --model $M --data ds.hcd --format npy --out ex
for f in user_factors.npy item_factors.npy users.tsv items.tsv model.json; do
    [ -s "ex/$f" ] || die "ex/$f missing"
done
[ "$(wc -l <ex/users.tsv)" = 300 ] || die "users.tsv lines"
[ "$(wc -l <ex/items.tsv)" = "$N_ITEMS" ] || die "items.tsv lines"
[ "$(json ex/model.json 'j["family"], j["tensors"][0]["shape"]')" = "('mf', [300, 8])" ] ||
    die "model.json: $(cat ex/model.json)"
# the .npy header: magic, version 1.0, data at a multiple of 64 bytes
head -c 8 ex/user_factors.npy | od -An -tx1 | tr -d ' \n' | grep -qx 934e554d50590100 ||
    die "npy magic"
[ $(($(stat -c %s ex/user_factors.npy) - 300 * 8 * 4)) = 128 ] || die "npy header size"
expect 2 "$HC" export --model $M --data ds.hcd --format csv --out ex2
no_tmp

NP=""
for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import numpy' 2>/dev/null; then
        NP=$py
        break
    fi
done
if [ -z "$NP" ]; then
    echo "- export: NumPy not available, load checks skipped"
else
    echo "- export: NumPy loads the tensors; load_model.py matches recommend --include-seen"
    "$NP" - ex "$N_ITEMS" <<'EOF' || die "numpy load"
import sys, numpy as np
d, ni = sys.argv[1], int(sys.argv[2])
P, Q = np.load(d + "/user_factors.npy"), np.load(d + "/item_factors.npy")
assert P.dtype == np.float32 and P.shape == (300, 8) and P.flags.c_contiguous, P.shape
assert Q.dtype == np.float32 and Q.shape == (ni, 8), Q.shape
EOF
    expect 0 "$NP" "$ROOT/tools/load_model.py" ex u0 -k 10
    mv out np.tsv
    expect 0 "$HC" recommend --model $M --data ds.hcd --user u0 -k 10 --include-seen
    # same scores (float32 sums in another order: 1e-5 relative), same items but for near-ties
    "$NP" - np.tsv out <<'EOF' || die "load_model.py disagrees with recommend"
import sys
a = [l.split("\t") for l in open(sys.argv[1]).read().split("\n")[1:] if l]
b = [l.split("\t") for l in open(sys.argv[2]).read().split("\n")[1:] if l]
assert len(a) == len(b) == 10, (len(a), len(b))
for x, y in zip(a, b):
    sx, sy = float(x[2]), float(y[2])
    assert abs(sx - sy) <= 1e-5 * max(abs(sx), abs(sy), 1e-3), (x, y)
    assert x[1] == y[1] or abs(sx - sy) <= 1e-5 * max(abs(sx), 1e-3), (x, y)
EOF
    expect 0 "$NP" "$ROOT/tools/load_model.py" ex --shapes
    contains out "$(printf 'item_factors\t%s\t8' "$N_ITEMS")"
fi

echo "all serve CLI checks passed"

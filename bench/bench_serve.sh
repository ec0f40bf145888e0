#!/usr/bin/env bash
# bench_serve.sh - serving figures (bench/README.md, docs/serving.md):
#   1. the distilled student next to the live teacher ensemble (when --teachers are given)
#      answering the same top-K query: in process ('hetcomp recommend --bench N', one thread,
#      as a server worker) and over HTTP ('hetcomp serve' on a free loopback port, loaded by
#      wrk with keep-alive at each --connections count, a Lua script requesting random known
#      users): p50/p99 and requests/s, every answer a 200; the ratio ensemble / student.
#      Check: the server's top-K for one user equals 'hetcomp recommend --user'.
#   2. batch: POST /v1/recommend with --batch random known users, --batch-runs times;
#      client-side time (curl) p50 and max in ms.
#   3. hot reload under load: wrk at the largest --connections count for --reload-duration
#      seconds while the model file is reloaded --reloads times (POST /admin/reload), then a
#      corrupt copy once (must be refused, the old model serving): zero non-200 answers.
#   4. with --catalog-items N: a synthetic catalog of about N items (hetcomp synth, uniform
#      popularity so that nearly every item occurs), an mf d = 6 model trained for 1 epoch,
#      and its single-user p50/p99 in process and over HTTP (one connection, then the
#      largest --connections count).
#
# usage: bench/bench_serve.sh --student S/model.hcm [--teachers T1/model.hcm T2 ...] [options]
#   --data DS.hcd        dataset the models were trained on (default: the CiteULike-t
#                        reference split, imported from the shared data)
#   --student M          the student model (file, or a directory holding model.hcm)
#   --teachers M ...     the teachers (files or directories), two or more: the live ensemble
#   --queries N          in-process queries for the student (2000); the ensemble gets N / 10
#                        (at least 50)
#   --duration S         seconds of each wrk run (10)
#   --connections "C.."  wrk connection counts, one run each (1 16)
#   --server-threads N   'hetcomp serve --threads' (2)
#   -k N                 items per query (10)
#   --ensemble-k N       the ensemble's list length per teacher (100)
#   --batch N            users per batch request (1000; 0 skips the batch figure)
#   --batch-runs N       batch requests timed (20)
#   --reloads N          reloads during the reload run (20; 0 skips it)
#   --reload-duration S  seconds of the reload run (60)
#   --catalog-items N    also the large-catalog figure with about N items (0: skipped)
#   --bin PATH           hetcomp binary
set -euo pipefail
# shellcheck source=bench/common.sh source-path=SCRIPTDIR/..
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

data=${BENCH_DATA:-}
student=${BENCH_STUDENT:-}
read -r -a teachers <<<"${BENCH_TEACHERS:-}"
queries=2000
duration=10
conns="1 16"
batch=1000
batch_runs=20
reloads=20
rduration=60
catalog=0
sthreads=2
k=10
ek=100
bin=
# need_val FLAG COUNT: dies unless the flag has a value
need_val() { [ "$2" -ge 2 ] || bc_die "$1 needs a value"; }
while [ $# -gt 0 ]; do
    case $1 in
    --data) need_val "$1" $#; data=$2; shift ;;
    --student) need_val "$1" $#; student=$2; shift ;;
    --teachers)
        shift
        teachers=()
        while [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; do
            teachers+=("$1")
            shift
        done
        continue ;;
    --queries) need_val "$1" $#; queries=$2; shift ;;
    --duration) need_val "$1" $#; duration=$2; shift ;;
    --connections) need_val "$1" $#; conns=$2; shift ;;
    --server-threads) need_val "$1" $#; sthreads=$2; shift ;;
    -k | --k) need_val "$1" $#; k=$2; shift ;;
    --ensemble-k) need_val "$1" $#; ek=$2; shift ;;
    --batch) need_val "$1" $#; batch=$2; shift ;;
    --batch-runs) need_val "$1" $#; batch_runs=$2; shift ;;
    --reloads) need_val "$1" $#; reloads=$2; shift ;;
    --reload-duration) need_val "$1" $#; rduration=$2; shift ;;
    --catalog-items) need_val "$1" $#; catalog=$2; shift ;;
    --bin) need_val "$1" $#; bin=$2; shift ;;
    --bin=*) bin=${1#*=} ;;
    -h | --help)
        awk 'NR > 1 && !/^#/ {exit} NR > 1 && !/shellcheck/ {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
        echo "environment: BENCH_DATA, BENCH_STUDENT, BENCH_TEACHERS (space-separated) for the"
        echo "  flags; HETCOMP_DATA_DIR, HETCOMP, BENCH_WORK, BENCH_KEEP=1 as in the other scripts"
        exit 0 ;;
    *) bc_die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
for v in batch reloads catalog; do
    [[ ${!v} =~ ^[0-9]+$ ]] || bc_die "$v wants a non-negative integer, not '${!v}'"
done
for v in queries duration sthreads k ek batch_runs rduration; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || bc_die "$v wants a positive integer, not '${!v}'"
done
for c in $conns; do
    [[ $c =~ ^[1-9][0-9]*$ ]] || bc_die "--connections wants positive integers, not '$c'"
done

# a model argument: a file, or a directory holding model.hcm
model_file() {
    local m=$1
    [ -d "$m" ] && m=$m/model.hcm
    [ -r "$m" ] || bc_die "model '$1' not found (a model.hcm file or a directory holding one)"
    echo "$m"
}
[ -n "$student" ] || bc_die "--student is required (or BENCH_STUDENT)"
[ ${#teachers[@]} -ne 1 ] || bc_die "--teachers wants two or more models (or BENCH_TEACHERS)"
student=$(model_file "$student")
for i in "${!teachers[@]}"; do
    teachers[i]=$(model_file "${teachers[i]}")
done
command -v wrk >/dev/null || bc_die "wrk not found: apt-get install wrk (bench/setup.sh)"
command -v curl >/dev/null || bc_die "curl not found: apt-get install curl"
command -v python3 >/dev/null || bc_die "python3 not found (reads the JSON answers)"

bc_locate_bin "$bin"
bc_make_work
if [ -z "$data" ]; then
    bc_locate_data
    bc_build_dataset
    data=$BC_DS
fi
[ -r "$data" ] || bc_die "dataset '$data' not found"

ens_q=$((queries / 10 > 50 ? queries / 10 : 50))
echo "# serving: student${teachers[*]:+ and the live ensemble of ${#teachers[@]} teachers}, top-$k"
bc_machine_info
echo "# data      $data"
echo "# student   $student"
echo "# teachers  ${teachers[*]} (ensemble-k $ek, T 10, equal weights)"
echo "# (the threads line above does not apply: in process, 1 thread as a server worker;" \
    "over HTTP, $sthreads worker threads)"
echo "# in-process: $queries student / $ens_q ensemble queries, 1 thread;" \
    "HTTP: serve --threads $sthreads, wrk -t1 -c{$conns} -d${duration}s, $(wrk --version 2>&1 |
        head -n 1 | awk '{print $1, $2}')"

W=$BC_WORK
# users_lua DS MODEL NAME: $W/NAME.users (the dataset's users) and $W/NAME.lua, wrk's script
# requesting /v1/recommend for uniformly drawn ones (one Lua state a thread)
users_lua() {
    "$BC_BIN" recommend --model "$2" --data "$1" --all-users -k 1 --no-header --quiet \
        --out "$W/$3.first.tsv" 2>"$W/$3.users.err" ||
        { cat "$W/$3.users.err" >&2; bc_die "listing users"; }
    cut -f1 "$W/$3.first.tsv" >"$W/$3.users"
    [ -s "$W/$3.users" ] || bc_die "no users in $1"
    cat >"$W/$3.lua" <<LUA
local users = {}
for line in io.lines("$W/$3.users") do
    users[#users + 1] = line:gsub("[^%w%-%._~]", function(c)
        return string.format("%%%02X", string.byte(c)) end)
end
math.randomseed(12345)
request = function()
    return wrk.format("GET", "/v1/recommend?user=" .. users[math.random(#users)] .. "&k=$k")
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRK %.1f %.1f %.1f %d %d\n", latency:percentile(50),
        latency:percentile(99), summary.requests / (summary.duration / 1e6), summary.requests,
        e.connect + e.read + e.write + e.timeout + e.status))
end
LUA
}
users_lua "$data" "$student" main
check_user=$(head -n 1 "$W/main.users")

SRV=""
stop_server() {
    [ -n "$SRV" ] || return 0
    kill -TERM "$SRV" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SRV" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SRV" 2>/dev/null || true
    wait "$SRV" 2>/dev/null || true
    SRV=""
}
trap 'stop_server; [ -n "${BENCH_WORK:-}" ] || [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$BC_WORK"' EXIT
# bc_fail_run, stopping the server first (bc_fail_run drops the EXIT trap to keep the output)
fail_run() {
    stop_server
    bc_fail_run "$@"
}

# start_srv LOG ARGS...: 'hetcomp serve ARGS' on a free port (stderr in LOG.err); sets SRV, BASE
start_srv() {
    local log=$1 port="" i
    shift
    "$BC_BIN" serve "$@" --port 0 --threads "$sthreads" --quiet 2>"$log.err" &
    SRV=$!
    for i in $(seq 600); do # loading six teachers can take a while on a busy machine
        port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$log.err")
        [ -n "$port" ] && break
        kill -0 "$SRV" 2>/dev/null || fail_run "$log" "hetcomp serve"
        sleep 0.1
    done
    [ -n "$port" ] || bc_die "hetcomp serve not listening after 60 s"
    BASE=http://127.0.0.1:$port
}

# wrk_out C SECONDS LUA OUT: wrk -t1 -cC against BASE, its summary line in OUT
wrk_out() {
    local out
    out=$(wrk -t1 -c"$1" -d"${2}s" --timeout 10s -s "$3" "$BASE" 2>&1) || bc_die "wrk failed: $out"
    grep '^WRK ' <<<"$out" >"$4" || bc_die "wrk printed no summary: $out"
}

# wrk_read KEY FILE: R[hp50|hp99|hrps|hn|herr,KEY] from a wrk_out summary
declare -A R
wrk_read() {
    local p50 p99 rps n err
    read -r _ p50 p99 rps n err <"$2"
    R[hp50,$1]=$p50
    R[hp99,$1]=$p99
    R[hrps,$1]=$rps
    R[hn,$1]=$n
    R[herr,$1]=$err
}

# bench_ip NAME DS NQ MODEL...: in-process figures R[ip50|ip99|iqps,NAME]
bench_ip() {
    local name=$1 ds=$2 nq=$3
    shift 3
    local -a margs=()
    for m in "$@"; do margs+=(--model "$m"); done
    [ $# -gt 1 ] && margs+=(--ensemble-k "$ek")
    "$BC_BIN" recommend "${margs[@]}" --data "$ds" --bench "$nq" -k "$k" --seed 1 \
        --json "$W/$name-bench.json" >"$W/$name-bench.out" 2>"$W/$name-bench.err" ||
        fail_run "$W/$name-bench" "hetcomp recommend --bench ($name)"
    R[ip50,$name]=$(awk '$1 == "p50_us" {print $2}' "$W/$name-bench.out")
    R[ip99,$name]=$(awk '$1 == "p99_us" {print $2}' "$W/$name-bench.out")
    R[iqps,$name]=$(awk '$1 == "qps" {print $2}' "$W/$name-bench.out")
}

# run NAME NQ MODELS...: in process, then over HTTP at each connection count
run() {
    local name=$1 nq=$2
    shift 2
    local -a margs=()
    for m in "$@"; do margs+=(--model "$m"); done
    [ $# -gt 1 ] && margs+=(--ensemble-k "$ek")
    local p=$W/$name c
    bench_ip "$name" "$data" "$nq" "$@"
    start_srv "$p-serve" "${margs[@]}" --data "$data"
    # check: the server's answer is the CLI's
    curl -s --max-time 30 -o "$p-check.json" "$BASE/v1/recommend?user=$check_user&k=$k" ||
        bc_die "no answer from $BASE"
    "$BC_BIN" recommend "${margs[@]}" --data "$data" --user "$check_user" -k "$k" \
        --no-header --threads 1 >"$p-check.tsv" 2>"$p-check.err" ||
        fail_run "$p-check" "hetcomp recommend --user ($name)"
    python3 - "$p-check.json" "$p-check.tsv" <<'PY' || bc_die "$name: server and CLI disagree"
import json, sys
srv = ["%s\t%.7g" % (e["item"], e["score"]) for e in json.load(open(sys.argv[1]))["items"]]
cli = [l.split("\t", 1)[1] for l in open(sys.argv[2]).read().split("\n") if l]
sys.exit(0 if srv == cli and len(srv) > 0 else 1)
PY
    R[check,$name]="top-$k of user $check_user: server = CLI"
    for c in $conns; do
        wrk_out "$c" "$duration" "$W/main.lua" "$p-wrk$c"
        wrk_read "$c,$name" "$p-wrk$c"
        [ "${R[herr,$c,$name]}" = 0 ] ||
            bc_die "$name, $c connections: ${R[herr,$c,$name]} errors or non-200 answers"
    done
    stop_server
}

row() {
    awk -v f="$1" -v s="$2" -v e="$3" 'BEGIN {
        printf "| %-34s | %12.1f | %14.1f | %16.3g |\n", f, s, e, (s > 0 ? e / s : 0) }'
}

# figure 1: the student (and the ensemble)
run student "$queries" "$student"
echo
if [ ${#teachers[@]} -ge 2 ]; then
    run ensemble "$ens_q" "${teachers[@]}"
    printf '| %-34s | %12s | %14s | %16s |\n' figure student "ensemble (${#teachers[@]})" \
        "ensemble/student"
    printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..36})" "$(printf -- '-%.0s' {1..14})" \
        "$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..18})"
    row "in-process p50 latency (us)" "${R[ip50,student]}" "${R[ip50,ensemble]}"
    row "in-process p99 latency (us)" "${R[ip99,student]}" "${R[ip99,ensemble]}"
    row "in-process queries/s" "${R[iqps,student]}" "${R[iqps,ensemble]}"
    for c in $conns; do
        row "HTTP c=$c p50 latency (us)" "${R[hp50,$c,student]}" "${R[hp50,$c,ensemble]}"
        row "HTTP c=$c p99 latency (us)" "${R[hp99,$c,student]}" "${R[hp99,$c,ensemble]}"
        row "HTTP c=$c requests/s" "${R[hrps,$c,student]}" "${R[hrps,$c,ensemble]}"
    done
    echo
    echo "check: ${R[check,student]} (student), ${R[check,ensemble]} (ensemble)"
else
    echo "student in process: p50 ${R[ip50,student]} us, p99 ${R[ip99,student]} us," \
        "${R[iqps,student]} queries/s"
    for c in $conns; do
        echo "student HTTP c=$c: p50 ${R[hp50,$c,student]} us, p99 ${R[hp99,$c,student]} us," \
            "${R[hrps,$c,student]} requests/s, ${R[hn,$c,student]} requests, all 200"
    done
    echo "check: ${R[check,student]}"
fi

# figure 2: batches of known users, timed by the client
maxc=$(tr ' ' '\n' <<<"$conns" | sort -n | tail -n 1)
if [ "$batch" -gt 0 ]; then
    start_srv "$W/batch-serve" --model "$student" --data "$data" --max-batch "$batch"
    python3 - "$W/main.users" "$batch" "$k" "$W/batch.json" <<'PY'
import json, random, sys
users = open(sys.argv[1]).read().split()
random.seed(7)
json.dump({"users": [random.choice(users) for _ in range(int(sys.argv[2]))],
           "k": int(sys.argv[3])}, open(sys.argv[4], "w"))
PY
    for _ in $(seq "$batch_runs"); do
        curl -s --max-time 30 -o "$W/batch.out" -w '%{http_code} %{time_total}\n' -X POST \
            --data-binary @"$W/batch.json" "$BASE/v1/recommend"
    done >"$W/batch.times"
    stop_server
    awk '$1 != 200 { bad++ } END { exit bad > 0 }' "$W/batch.times" || bc_die "a batch failed"
    python3 - "$W/batch.out" "$batch" <<'PY' || bc_die "batch answer incomplete"
import json, sys
r = json.load(open(sys.argv[1]))["results"]
sys.exit(0 if len(r) == int(sys.argv[2]) and all(e.get("items") for e in r) else 1)
PY
    sort -k2 -g "$W/batch.times" | awk -v n="$batch" '{ t[NR] = 1e3 * $2 } END {
        printf "batch of %d users (%d requests, client side): p50 %.1f ms, max %.1f ms\n",
        n, NR, t[int((NR + 1) / 2)], t[NR] }'
fi

# figure 3: reloads under load, then a corrupt file
if [ "$reloads" -gt 0 ]; then
    cp "$student" "$W/served.hcm"
    start_srv "$W/reload-serve" --model "$W/served.hcm" --data "$data" --admin
    wrk_out "$maxc" "$rduration" "$W/main.lua" "$W/reload-wrk" &
    WRK_PID=$!
    gap=$(awk -v d="$rduration" -v n="$reloads" 'BEGIN { printf "%.3f", d / (n + 2) }')
    ok=0
    for _ in $(seq "$reloads"); do
        sleep "$gap"
        code=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST "$BASE/admin/reload")
        [ "$code" = 200 ] && ok=$((ok + 1))
    done
    head -c 1000 "$student" >"$W/served.hcm"
    bad_code=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST "$BASE/admin/reload")
    wait "$WRK_PID"
    wrk_read reload "$W/reload-wrk"
    curl -s --max-time 5 -o "$W/reload-health.json" "$BASE/healthz"
    stop_server
    echo "reload run: wrk c=$maxc ${rduration}s, ${R[hn,reload]} requests, ${R[herr,reload]}" \
        "errors or non-200; p50 ${R[hp50,reload]} us, p99 ${R[hp99,reload]} us," \
        "${R[hrps,reload]} requests/s"
    echo "reloads: $ok of $reloads answered 200; then a corrupt file: $bad_code;" \
        "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("healthz: version", j["model_version"], "reloads failed", j["reloads"]["failed"])' "$W/reload-health.json")"
    if [ "${R[herr,reload]}" != 0 ] || [ "$ok" != "$reloads" ] || [ "$bad_code" != 500 ]; then
        bc_die "reload run: failed requests or reloads"
    fi
fi

# figure 4: a large synthetic catalog (uniform popularity: nearly every item occurs)
if [ "$catalog" -gt 0 ]; then
    cu=20000
    ci=$((catalog * 4))
    echo "# catalog: synth $cu users, $catalog items, $ci interactions, pop-exponent 0;" \
        "mf d 6, 1 epoch"
    "$BC_BIN" synth --users "$cu" --items "$catalog" --interactions "$ci" --pop-exponent 0 \
        --seed 3 --out "$W/cat.tsv" >"$W/cat.log" 2>&1 || fail_run "$W/cat" "synth"
    "$BC_BIN" split --data "$W/cat.tsv" --out "$W/cat.hcd" >>"$W/cat.log" 2>&1 ||
        fail_run "$W/cat" "split"
    "$BC_BIN" teacher --model mf --dim 6 --epochs 1 --eval-every 1 --eval-users 200 \
        --no-trajectory --quiet --data "$W/cat.hcd" --out "$W/cat-mf" >>"$W/cat.log" 2>&1 ||
        fail_run "$W/cat" "teacher"
    users_lua "$W/cat.hcd" "$W/cat-mf/model.hcm" cat
    bench_ip catalog "$W/cat.hcd" "$queries" "$W/cat-mf/model.hcm"
    start_srv "$W/cat-serve" --model "$W/cat-mf/model.hcm" --data "$W/cat.hcd"
    curl -s --max-time 5 -o "$W/cat-health.json" "$BASE/healthz"
    wrk_out 1 "$duration" "$W/cat.lua" "$W/cat-wrk1"
    wrk_read catalog1 "$W/cat-wrk1"
    wrk_out "$maxc" "$duration" "$W/cat.lua" "$W/cat-wrk"
    wrk_read catalog "$W/cat-wrk"
    stop_server
    echo "catalog: $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["items"], "items,", j["users"], "users")' "$W/cat-health.json");" \
        "in process p50 ${R[ip50,catalog]} us, p99 ${R[ip99,catalog]} us;" \
        "HTTP c=1 p50 ${R[hp50,catalog1]} us, p99 ${R[hp99,catalog1]} us;" \
        "HTTP c=$maxc p50 ${R[hp50,catalog]} us, p99 ${R[hp99,catalog]} us," \
        "${R[hrps,catalog]} requests/s, ${R[herr,catalog]} errors"
fi
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# bench_serve.sh - serving latency of the distilled student next to the live teacher ensemble
# answering the same top-K query. For each of the two:
#   1. in process: 'hetcomp recommend --bench N' (N single-user queries, users drawn
#      uniformly, one at a time on one thread as a server worker does): p50/p99 latency in
#      microseconds and queries/s;
#   2. over HTTP: 'hetcomp serve' on a free loopback port, loaded by wrk (-t1, -c1 and -c4 by
#      default, keep-alive) with a Lua script requesting random known users: wrk's p50/p99
#      latency and requests/s; every answer must be a 200.
# Then the ratio ensemble / student of each figure. Check: the server's top-K for one user
# equals 'hetcomp recommend --user' with the same model(s), for the student and the ensemble.
# The user list comes from 'hetcomp recommend --all-users -k 1' (its first column).
#
# usage: bench/bench_serve.sh --student S/model.hcm --teachers T1/model.hcm T2 ... [options]
#   --data DS.hcd        dataset the models were trained on (default: the CiteULike-t
#                        reference split, imported from the shared data)
#   --student M          the student model (file, or a directory holding model.hcm)
#   --teachers M ...     the teachers (files or directories), two or more: the live ensemble
#   --queries N          in-process queries for the student (2000); the ensemble gets N / 10
#                        (at least 50)
#   --duration S         seconds of each wrk run (10)
#   --connections "C.."  wrk connection counts, one run each (1 4)
#   --server-threads N   'hetcomp serve --threads' (2)
#   -k N                 items per query (10)
#   --ensemble-k N       the ensemble's list length per teacher (100)
#   --bin PATH           hetcomp binary
set -euo pipefail
# shellcheck source=bench/common.sh source-path=SCRIPTDIR/..
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

data=${BENCH_DATA:-}
student=${BENCH_STUDENT:-}
read -r -a teachers <<<"${BENCH_TEACHERS:-}"
queries=2000
duration=10
conns="1 4"
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
for v in queries duration sthreads k ek; do
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
[ ${#teachers[@]} -ge 2 ] || bc_die "--teachers wants two or more models (or BENCH_TEACHERS)"
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
echo "# serving latency: student vs the live ensemble of ${#teachers[@]} teachers, top-$k"
bc_machine_info
echo "# data      $data"
echo "# student   $student"
echo "# teachers  ${teachers[*]} (ensemble-k $ek, T 10, equal weights)"
echo "# (the threads line above does not apply: in process, 1 thread as a server worker;" \
    "over HTTP, $sthreads worker threads)"
echo "# in-process: $queries student / $ens_q ensemble queries, 1 thread;" \
    "HTTP: serve --threads $sthreads, wrk -t1 -c{$conns} -d${duration}s, $(wrk --version 2>&1 |
        head -n 1 | awk '{print $1, $2}')"

# the known users, for wrk's script
W=$BC_WORK
"$BC_BIN" recommend --model "$student" --data "$data" --all-users -k 1 --no-header --quiet \
    --out "$W/first.tsv" 2>"$W/users.err" || { cat "$W/users.err" >&2; bc_die "listing users"; }
cut -f1 "$W/first.tsv" >"$W/users.txt"
n_users=$(wc -l <"$W/users.txt")
[ "$n_users" -gt 0 ] || bc_die "no users in $data"
check_user=$(head -n 1 "$W/users.txt")
cat >"$W/users.lua" <<EOF
-- requests /v1/recommend for uniformly drawn known users (wrk script, one Lua state a thread)
local users = {}
for line in io.lines("$W/users.txt") do
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
EOF

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

# run NAME MODELS...: fills R_<figure>[NAME]
declare -A R
run() {
    local name=$1 nq=$2
    shift 2
    local -a margs=()
    for m in "$@"; do margs+=(--model "$m"); done
    [ $# -gt 1 ] && margs+=(--ensemble-k "$ek")
    local p=$W/$name
    # in process
    "$BC_BIN" recommend "${margs[@]}" --data "$data" --bench "$nq" -k "$k" --seed 1 \
        --json "$p-bench.json" >"$p-bench.out" 2>"$p-bench.err" ||
        fail_run "$p-bench" "hetcomp recommend --bench ($name)"
    R[ip50,$name]=$(awk '$1 == "p50_us" {print $2}' "$p-bench.out")
    R[ip99,$name]=$(awk '$1 == "p99_us" {print $2}' "$p-bench.out")
    R[iqps,$name]=$(awk '$1 == "qps" {print $2}' "$p-bench.out")
    # over HTTP
    "$BC_BIN" serve "${margs[@]}" --data "$data" --port 0 --threads "$sthreads" --quiet \
        2>"$p-serve.err" &
    SRV=$!
    local port="" i
    for i in $(seq 600); do # loading six teachers can take a while on a busy machine
        port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$p-serve.err")
        [ -n "$port" ] && break
        kill -0 "$SRV" 2>/dev/null || fail_run "$p-serve" "hetcomp serve ($name)"
        sleep 0.1
    done
    [ -n "$port" ] || bc_die "hetcomp serve ($name) not listening after 60 s"
    local base=http://127.0.0.1:$port
    # check: the server's answer is the CLI's
    curl -s --max-time 30 -o "$p-check.json" "$base/v1/recommend?user=$check_user&k=$k" ||
        bc_die "no answer from $base"
    "$BC_BIN" recommend "${margs[@]}" --data "$data" --user "$check_user" -k "$k" \
        --no-header --threads 1 >"$p-check.tsv" 2>"$p-check.err" ||
        fail_run "$p-check" "hetcomp recommend --user ($name)"
    python3 - "$p-check.json" "$p-check.tsv" <<'EOF' || bc_die "$name: server and CLI disagree"
import json, sys
srv = ["%s\t%.7g" % (e["item"], e["score"]) for e in json.load(open(sys.argv[1]))["items"]]
cli = [l.split("\t", 1)[1] for l in open(sys.argv[2]).read().split("\n") if l]
sys.exit(0 if srv == cli and len(srv) > 0 else 1)
EOF
    R[check,$name]="top-$k of user $check_user: server = CLI"
    local c out
    for c in $conns; do
        out=$(wrk -t1 -c"$c" -d"${duration}s" --timeout 10s -s "$W/users.lua" "$base" 2>&1) ||
            bc_die "wrk failed: $out"
        local line p50 p99 rps n err
        line=$(grep '^WRK ' <<<"$out") || bc_die "wrk printed no summary: $out"
        read -r _ p50 p99 rps n err <<<"$line"
        R[hp50,$c,$name]=$p50
        R[hp99,$c,$name]=$p99
        R[hrps,$c,$name]=$rps
        R[hn,$c,$name]=$n
        R[herr,$c,$name]=$err
        [ "${R[herr,$c,$name]}" = 0 ] ||
            bc_die "$name, $c connections: ${R[herr,$c,$name]} errors or non-200 answers"
    done
    stop_server
}

run student "$queries" "$student"
run ensemble "$ens_q" "${teachers[@]}"

echo
printf '| %-34s | %12s | %14s | %16s |\n' figure student "ensemble (${#teachers[@]})" "ensemble/student"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..36})" "$(printf -- '-%.0s' {1..14})" \
    "$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..18})"
row() {
    awk -v f="$1" -v s="$2" -v e="$3" 'BEGIN {
        printf "| %-34s | %12.1f | %14.1f | %16.3g |\n", f, s, e, (s > 0 ? e / s : 0) }'
}
row "in-process p50 latency (us)" "${R[ip50,student]}" "${R[ip50,ensemble]}"
row "in-process p99 latency (us)" "${R[ip99,student]}" "${R[ip99,ensemble]}"
row "in-process queries/s" "${R[iqps,student]}" "${R[iqps,ensemble]}"
for c in $conns; do
    row "HTTP c=$c p50 latency (us)" "${R[hp50,$c,student]}" "${R[hp50,$c,ensemble]}"
    row "HTTP c=$c p99 latency (us)" "${R[hp99,$c,student]}" "${R[hp99,$c,ensemble]}"
    row "HTTP c=$c requests/s" "${R[hrps,$c,student]}" "${R[hrps,$c,ensemble]}"
done
echo
for c in $conns; do
    echo "wrk c=$c: ${R[hn,$c,student]} student and ${R[hn,$c,ensemble]} ensemble requests," \
        "all 200"
done
echo "check: ${R[check,student]} (student), ${R[check,ensemble]} (ensemble)"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

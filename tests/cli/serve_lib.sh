# shellcheck shell=bash
# serve_lib.sh - helpers of the server tests (source after lib.sh, with HC set):
#   serve_test_init NAME     a fresh temporary directory T (removed on exit, with the server
#                            SRV stopped if it runs) made the working directory
#   json FILE EXPR           evaluates a Python expression over the parsed JSON document j
#   http METHOD PATH [ARG..] one curl request (extra curl arguments: a body, ...); the body
#                            goes to $T/body, the status code is printed (000: no answer)
#   status METHOD PATH WANT [ARG..]  the request answers WANT with a JSON body
#   start_server ARGS...     `hetcomp serve ARGS --port 0` in the background (stderr in
#                            serve.err), at most 10 s to its listening line; sets SRV, PORT,
#                            BASE
#   stop_server              SIGTERM, then at most 10 s for a clean exit 0
# Every wait is bounded (each request 5 s).

serve_cleanup() {
    if [ -n "$SRV" ] && kill -0 "$SRV" 2>/dev/null; then
        kill -TERM "$SRV" 2>/dev/null || true
        wait "$SRV" 2>/dev/null || true
    fi
    rm -rf "$T"
}

serve_test_init() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/hc_$1.XXXXXX")
    SRV=""
    trap serve_cleanup EXIT
    cd "$T"
}

json() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

http() {
    local m=$1 p=$2
    shift 2
    curl -s --max-time 5 -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p" || true
}

status() {
    local got m=$1 p=$2 want=$3
    shift 3
    got=$(http "$m" "$p" "$@")
    [ "$got" = "$want" ] || die "$m $p: status $got, expected $want (body: $(head -c 300 "$T/body"))"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/body" ||
        die "$m $p: body is not JSON: $(head -c 300 "$T/body")"
}

start_server() {
    "$HC" serve "$@" --port 0 2>serve.err &
    SRV=$!
    PORT=""
    for _ in $(seq 100); do
        PORT=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' serve.err)
        [ -n "$PORT" ] && break
        kill -0 "$SRV" 2>/dev/null || die "server exited: $(cat serve.err)"
        sleep 0.1
    done
    [ -n "$PORT" ] || die "server not listening within 10 s: $(cat serve.err)"
    BASE="http://127.0.0.1:$PORT"
}

stop_server() {
    kill -TERM "$SRV"
    for _ in $(seq 100); do
        kill -0 "$SRV" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$SRV" 2>/dev/null && die "server still running 10 s after SIGTERM"
    local rc=0
    wait "$SRV" || rc=$?
    SRV=""
    [ $rc = 0 ] || die "server exit code $rc: $(cat serve.err)"
}

# lib.sh - what the CLI test scripts share; source it after setting T (the scratch directory).
#   die MSG...           fail the test with a message
#   expect CODE CMD...   run CMD (stdout in $T/out, stderr in $T/err), check its exit code
#   contains FILE TEXT   FILE contains TEXT (fixed string)
#   no_tmp               no temporary file of an atomic write is left under $T

die() {
    echo "FAIL: $*" >&2
    exit 1
}

expect() {
    local want=$1 got=0
    shift
    "$@" >"$T/out" 2>"$T/err" || got=$?
    if [ "$got" != "$want" ]; then
        sed 's/^/  stderr: /' "$T/err" >&2
        die "expected exit $want, got $got: $*"
    fi
}

contains() {
    grep -qF -- "$2" "$1" || {
        sed 's/^/  | /' "$1" >&2
        die "'$2' not found in $(basename "$1")"
    }
}

no_tmp() {
    local left
    left=$(find "$T" -name '*.tmp.*')
    [ -z "$left" ] || die "temporary files left: $left"
}

#!/usr/bin/env bash
# test_split_cli.sh - end-to-end checks of `hetcomp split` and `hetcomp stats`.
# Usage: bash test_split_cli.sh <hetcomp-binary> <shared-data-dir>
# Covers: a tiny split + stats (text and JSON), --help, exit codes (2 usage, 1 data errors with
# file:line messages), no output left after a failure, missing --out parents created, outputs
# refused over a FIFO, a directory or an input (another spelling, a symlink, an imported
# file), byte-identical output for one seed, a different file for another seed, import mode,
# and the CiteULike-t checks when the shared data is present.
set -u
HC=${1:?usage: test_split_cli.sh <hetcomp> <shared-data-dir>}
SHARED=${2:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_split_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
FAILS=0

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# expect CODE CMD... : runs CMD, saves stdout/stderr in $T/out/$T/err, checks the exit code
expect() {
    local want=$1
    shift
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" != "$want" ]; then
        fail "expected exit $want, got $got: $*"
        sed 's/^/  stderr: /' "$T/err" >&2
    fi
}

# contains FILE TEXT : FILE contains TEXT (fixed string)
contains() {
    grep -qF -- "$2" "$1" || {
        fail "'$2' not found in $(basename "$1"):"
        sed 's/^/  | /' "$1" >&2
    }
}

# A tiny input: 6 users with 6..10 items of 12, plus one user with 2 items (filtered out).
{
    echo "user,item,rating,timestamp"
    for u in 1 2 3 4 5 6; do
        n=$((5 + u))
        [ $n -gt 10 ] && n=10
        for ((i = 0; i < n; i++)); do
            echo "u$u,i$(((u + i) % 12)),4,$((100 * u + i))"
        done
    done
    echo "u7,i1,5,1"
    echo "u7,i2,5,2"
} >"$T/tiny.csv"

# --help: stdout, exit 0, every option with its default
expect 0 "$HC" split --help
for opt in --data --format --threshold --header --method --valid --test --min-user --min-item \
    --seed --out --import --import-train --import-valid --import-test --users --items; do
    contains "$T/out" "$opt"
done
contains "$T/out" "validation fraction (0.2)"
contains "$T/out" "minimum distinct items per user (5)"
expect 0 "$HC" stats --help
contains "$T/out" "--json"

# a split and its stats
expect 0 "$HC" split --data "$T/tiny.csv" --min-user 5 --seed 1 --out "$T/a.hcd"
contains "$T/out" "6 users"
contains "$T/out" "12 items"
contains "$T/out" "checksum"
[ -s "$T/a.hcd" ] || fail "no dataset file written"
expect 0 "$HC" stats --data "$T/a.hcd"
contains "$T/out" "users"
contains "$T/out" "density"
contains "$T/out" "p50"
expect 0 "$HC" stats --data "$T/a.hcd" --json -
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["n_users"]==6 and d["n_items"]==12, d' "$T/out" ||
        fail "stats --json is not the expected JSON"
else
    contains "$T/out" '"n_users": 6'
fi

# same seed -> identical file; another seed -> a different one
expect 0 "$HC" split --data "$T/tiny.csv" --seed 1 --out "$T/b.hcd"
cmp -s "$T/a.hcd" "$T/b.hcd" || fail "same seed gave different files"
expect 0 "$HC" split --data "$T/tiny.csv" --seed 2 --out "$T/c.hcd"
cmp -s "$T/a.hcd" "$T/c.hcd" && fail "seeds 1 and 2 gave identical files"

# the other methods
expect 0 "$HC" split --data "$T/tiny.csv" --method temporal --out "$T/t.hcd"
contains "$T/out" "6 users"
expect 0 "$HC" split --data "$T/tiny.csv" --method loo --min-user 1 --out "$T/l.hcd"
contains "$T/out" "7 users"
printf 'u1 i1\nu1 i2\nu1 i3\nu2 i1\nu2 i2\nu2 i3\n' >"$T/nots.txt"
expect 1 "$HC" split --data "$T/nots.txt" --format csv --method temporal --min-user 1 --out "$T/x.hcd"
contains "$T/err" "timestamps"

# usage errors: exit 2, message on stderr, nothing written
expect 2 "$HC" split --data "$T/tiny.csv"
contains "$T/err" "--out"
expect 2 "$HC" split --out "$T/x.hcd"
expect 2 "$HC" split --data "$T/tiny.csv" --method random --out "$T/x.hcd"
expect 2 "$HC" split --data "$T/tiny.csv" --valid abc --out "$T/x.hcd"
expect 2 "$HC" split --data "$T/tiny.csv" --valid 0.6 --test 0.5 --out "$T/x.hcd"
expect 2 "$HC" split --data "$T/tiny.csv" --min-user -1 --out "$T/x.hcd"
expect 2 "$HC" split --data "$T/tiny.csv" --format xml --out "$T/x.hcd"
expect 2 "$HC" split --data "$T/tiny.csv" --bogus --out "$T/x.hcd"
contains "$T/err" "--bogus"
expect 2 "$HC" split --data "$T/tiny.csv" --out
expect 2 "$HC" split --data "$T/tiny.csv" --import "$T" --out "$T/x.hcd"
expect 2 "$HC" split --import "$T" --seed 3 --out "$T/x.hcd"
expect 2 "$HC" stats
expect 2 "$HC" stats --data "$T/a.hcd" extra
[ -e "$T/x.hcd" ] && fail "a usage error left $T/x.hcd"

# data errors: exit 1, message naming file:line, no output (nor temporary) left behind
printf 'u1,i1\nu1,i2\nu2\n' >"$T/bad.csv"
expect 1 "$HC" split --data "$T/bad.csv" --format csv --out "$T/x.hcd"
contains "$T/err" "bad.csv:3"
printf 'u1,i1,5\nu1,i2,abc\n' >"$T/bad2.csv"
expect 1 "$HC" split --data "$T/bad2.csv" --out "$T/x.hcd"
contains "$T/err" "bad2.csv:2"
expect 1 "$HC" split --data "$T/missing.csv" --out "$T/x.hcd"
contains "$T/err" "missing.csv"
expect 1 "$HC" split --data "$T/tiny.csv" --min-user 100 --out "$T/x.hcd"
expect 1 "$HC" split --data "$T/tiny.csv" --out "$T/tiny.csv/x.hcd" # a file is in the way
contains "$T/err" "tiny.csv/x.hcd"
ls "$T"/x.hcd* >/dev/null 2>&1 && fail "a failed split left $(ls "$T"/x.hcd*)"
expect 1 "$HC" split --data "$T/missing.csv" --out "$T/no-such-dir/x.hcd"
[ -e "$T/no-such-dir" ] && fail "a failed split created a directory"

# missing parents of --out are created, like mkdir -p
expect 0 "$HC" split --data "$T/tiny.csv" --seed 1 --out "$T/new/sub/a.hcd"
cmp -s "$T/a.hcd" "$T/new/sub/a.hcd" || fail "split into new directories differs"

# an output that is not a regular file, or is an input, is refused (exit 1, nothing replaced)
mkfifo "$T/fifo"
expect 1 "$HC" split --data "$T/tiny.csv" --out "$T/fifo"
contains "$T/err" "$T/fifo: exists and is a FIFO, not a regular file"
[ -p "$T/fifo" ] || fail "the FIFO was replaced"
mkdir "$T/outdir"
expect 1 "$HC" split --data "$T/tiny.csv" --out "$T/outdir"
contains "$T/err" "$T/outdir: exists and is a directory"
[ -d "$T/outdir" ] || fail "the directory was replaced"
cp "$T/tiny.csv" "$T/keep.csv"
ln -s keep.csv "$T/link.csv"
for o in "$T/keep.csv" "$T/./keep.csv" "$T/link.csv"; do
    expect 1 "$HC" split --data "$T/keep.csv" --out "$o"
    contains "$T/err" "$o: the output is the input $T/keep.csv"
    cmp -s "$T/tiny.csv" "$T/keep.csv" || fail "split --out $o replaced its input"
done
mkdir "$T/imp"
printf 'user\titem\nu1\ti1\nu1\ti2\nu2\ti1\n' >"$T/imp/train.tsv"
printf 'user\titem\nu1\ti3\n' >"$T/imp/valid.tsv"
cp "$T/imp/valid.tsv" "$T/imp-valid.tsv"
expect 1 "$HC" split --import "$T/imp" --out "$T/imp/valid.tsv"
contains "$T/err" "the output is the input"
cmp -s "$T/imp/valid.tsv" "$T/imp-valid.tsv" || fail "split --import replaced its valid file"
expect 0 "$HC" split --import "$T/imp" --out "$T/imp.hcd"

# stats on bad dataset files: exit 1
expect 1 "$HC" stats --data "$T/tiny.csv"
contains "$T/err" "tiny.csv"
head -c 100 "$T/a.hcd" >"$T/short.hcd"
expect 1 "$HC" stats --data "$T/short.hcd"
contains "$T/err" "truncated"
cp "$T/a.hcd" "$T/flip.hcd"
size=$(wc -c <"$T/flip.hcd")
printf '\377' | dd of="$T/flip.hcd" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
expect 1 "$HC" stats --data "$T/flip.hcd"
contains "$T/err" "checksum mismatch"

# import mode, explicit files and a directory
mkdir -p "$T/imp"
printf 'user\titem\nu1\ta\nu1\tb\nu2\tb\nu2\tc\n' >"$T/imp/train.tsv"
printf 'user\titem\nu1\tc\nu2\ta\n' >"$T/imp/valid.tsv"
printf 'user\titem\nu1\td\nu2\tb2\n' >"$T/imp/test.tsv"
printf 'item\na\nb\nc\nd\nb2\ne\n' >"$T/imp/items.txt"
expect 0 "$HC" split --import "$T/imp" --out "$T/imp.hcd"
contains "$T/out" "2 users, 6 items, 4 train / 2 valid / 2 test interactions, 2 evaluated users"
contains "$T/err" "never occur in train"
expect 0 "$HC" split --import-train "$T/imp/train.tsv" --import-valid "$T/imp/valid.tsv" \
    --out "$T/imp2.hcd"
contains "$T/out" "2 users, 3 items, 4 train / 2 valid / 0 test"
expect 2 "$HC" split --import-train "$T/imp/train.tsv" --out "$T/x.hcd"
expect 0 "$HC" stats --data "$T/imp.hcd"
contains "$T/out" "imported"

# the shared CiteULike-t data
CU="$SHARED/citeulike-t"
if [ -n "$SHARED" ] && [ -f "$CU/users.dat" ]; then
    expect 0 "$HC" split --data "$CU/users.dat" --out "$T/cu.hcd"
    contains "$T/out" "5219 users, 25181 items, 78958 train"
    sed 's/^/  citeulike-t ratio seed 0: /' "$T/out"
    expect 0 "$HC" split --data "$CU/users.dat" --out "$T/cu2.hcd"
    cmp -s "$T/cu.hcd" "$T/cu2.hcd" || fail "citeulike-t: same seed gave different files"
    if [ -f "$CU/split/train.tsv" ]; then
        expect 0 "$HC" split --import "$CU/split" --out "$T/cui.hcd"
        contains "$T/out" "5219 users, 25181 items, 78958 train / 20823 valid / 20823 test interactions, 4719 evaluated users"
        sed 's/^/  citeulike-t import: /' "$T/out"
        expect 0 "$HC" stats --data "$T/cui.hcd" --json -
        contains "$T/out" '"n_eval_users": 4719'
        contains "$T/out" '"n_items_in_train": 22392'
    fi
else
    echo "skipping the CiteULike-t checks (no $CU/users.dat)"
fi

if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS check(s) failed" >&2
    exit 1
fi
echo "all split/stats CLI checks passed"

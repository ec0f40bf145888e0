#!/usr/bin/env bash
# test_flags_cli.sh - the flags every command shares (cli_common in cli/common.c): each
# command's --help lists -q/--quiet, -v/--verbose and --json FILE (serve says why it has no
# --json), options are taken by their exact names only, and --json FILE writes the result of
# synth, split and stats as JSON (--json -: on stdout); a raw file given as a dataset is named
# as such.
set -euo pipefail
HC=${1:?usage: test_flags_cli.sh <hetcomp> <shared-data-dir>}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC")
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_flags_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "- every command's help lists the common flags"
for c in split stats synth teacher trajectory ensemble distill compare eval recommend export \
    serve run report; do
    expect 0 "$HC" $c --help
    contains "$T/out" "-q, --quiet"
    contains "$T/out" "-v, --verbose"
    contains "$T/out" "--json"
done

echo "- options by their exact names only"
expect 2 "$HC" synth --out x.tsv --use 10
contains "$T/err" "unknown option '--use' (options are spelled in full: --users)"

echo "- --json FILE: synth, split, stats"
expect 0 "$HC" synth --users 60 --items 40 --interactions 900 --out X.tsv --json s.json -q
[ ! -s "$T/out" ] || die "synth -q printed its summary"
expect 0 "$HC" split --data X.tsv --out X.hcd --json p.json
expect 0 "$HC" stats --data X.hcd --json t.json
python3 - s.json p.json t.json <<'PY' || die "the --json documents are not what the commands did"
import json, sys
s, p, t = (json.load(open(f)) for f in sys.argv[1:])
assert s["users"] == 60 and s["items"] == 40 and s["interactions"] == 900, s
assert p["out"] == "X.hcd" and p["train"] + p["valid"] + p["test"] <= 900, p
assert t["n_users"] == p["users"] and t["checksum"] == p["checksum"], (t, p)
PY
expect 0 "$HC" stats --data X.hcd --json -
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" || die "--json - is not JSON"
echo "- a raw interactions file where a dataset file belongs: the message says to split it"
expect 1 "$HC" recommend --data X.tsv --model none.hcm --user u1
contains "$T/err" "X.tsv: not a hetcomp dataset file but text, interactions perhaps: split them"
echo "PASS"

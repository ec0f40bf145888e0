#!/usr/bin/env bash
# test_docs.sh - the documentation is self-contained (docs/method.md says what it covers):
#  1. no tracked file outside docs/ cites documentation outside the repository: the paths
#     shared/docs and shared/reference, the outside pages by name (kd-methods.md, targets.md,
#     style.md, ecosystem.md), or a method.md that is not docs/method.md;
#  2. no tracked file outside docs/, and no --help of any command or teacher family, carries a
#     research note, "(inferred)" or "(not found)": help texts state the choice, the docs its
#     reason;
#  3. every "docs/X.md §N" (also "§N-§M", "§N, §M", "section N", "sections N-M") cited in a
#     tracked file names an existing docs/X.md with a heading numbered N ("## N." or "### N");
#     files in docs/ may cite their neighbours without the docs/ prefix.
# Paths to ../shared/data (the datasets) are legitimate and not checked.
# Usage: bash test_docs.sh <hetcomp-binary> [<shared-data-dir>]. Cost: one pass over the
# tracked files and one --help per command and family; about a second.
set -euo pipefail
HC=${1:?usage: test_docs.sh <hetcomp> [<shared-data-dir>]}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC") # absolute: the script runs in the root
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF=tests/cli/$(basename "${BASH_SOURCE[0]}") # holds the patterns it looks for
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_docs.XXXXXX")
trap 'rm -rf "$T"' EXIT
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # die

cd "$ROOT"
# The tracked files (a fresh clone in CI); outside git, every file but build trees.
if git ls-files >"$T/files" 2>/dev/null && [ -s "$T/files" ]; then
    :
else
    find . -type f ! -path './.git/*' ! -path './build*' | sed 's#^\./##' | sort >"$T/files"
fi
grep -v -x -F "$SELF" "$T/files" | while read -r f; do [ -f "$f" ] && echo "$f"; done \
    >"$T/checked"
grep -v '^docs/' "$T/checked" >"$T/outside" || true
[ -s "$T/outside" ] || die "no files to check under $ROOT"

bad=0
report() { # report TITLE FILE: prints the offending lines of FILE, if any
    if [ -s "$2" ]; then
        echo "FAIL: $1:" >&2
        sed 's/^/  /' "$2" >&2
        bad=1
    fi
}

echo "- no citation of documentation outside the repository"
xargs -d '\n' grep -n -I -E \
    'shared/docs|shared/reference|kd-methods\.md|targets\.md|style\.md|ecosystem\.md' \
    <"$T/outside" >"$T/ext" || true
# a bare method.md names a page outside the repository; ours is docs/method.md
# shellcheck disable=SC2016 # perl code, not shell
xargs -d '\n' perl -ne 'print "$ARGV:$.:$_" if (s{docs/method\.md}{}gr) =~ /method\.md/;
    close ARGV if eof' <"$T/outside" >>"$T/ext" || true
report "documentation outside the repository cited (cite docs/ instead)" "$T/ext"

echo "- no research notes in files outside docs/"
xargs -d '\n' grep -n -I -F -e '(inferred)' -e '(not found)' <"$T/outside" >"$T/notes" || true
report "research notes (state the choice; its reason goes in docs/)" "$T/notes"

echo "- no research notes in any --help"
"$HC" --help >"$T/main.txt" 2>&1 || true
sed -n '/^commands:/,/^$/p' "$T/main.txt" | awk '/^  [a-z]/ {print $1}' >"$T/cmds"
[ -s "$T/cmds" ] || die "no command list in 'hetcomp --help'"
: >"$T/helpnotes"
while read -r c; do
    "$HC" "$c" --help >"$T/h.txt" 2>&1 || true
    grep -n -F -e '(inferred)' -e '(not found)' "$T/h.txt" | sed "s/^/hetcomp $c --help:/" \
        >>"$T/helpnotes" || true
done <"$T/cmds"
"$HC" teacher --help 2>&1 | sed -n '/^models:/,/^$/p' | awk '/^  [a-z]/ {print $1}' >"$T/fams"
while read -r m; do
    "$HC" teacher --model "$m" --help >"$T/h.txt" 2>&1 || true
    grep -n -F -e '(inferred)' -e '(not found)' "$T/h.txt" |
        sed "s/^/hetcomp teacher --model $m --help:/" >>"$T/helpnotes" || true
done <"$T/fams"
report "research notes in help texts" "$T/helpnotes"

echo "- every docs/X.md §N cited exists"
# One line per cited section: FILE:LINE<TAB>docs/X.md<TAB>N, ranges expanded.
# shellcheck disable=SC2016 # perl code, not shell
xargs -d '\n' perl -CSD -Mutf8 -ne '
    my $in_docs = $ARGV =~ m{^docs/};
    while (m{((?:\.\./)?docs/|(?<![\w/.-]))([\w-]+\.md)(?:\)|\])? (?:§|sections? )(\d+(?:\.\d+)?)((?:(?:-|–|, | and | to )§?\d+(?:\.\d+)?)*)}g) {
        my ($pre, $doc, $first, $more) = ($1, $2, $3, $4);
        next if $pre eq "" && !$in_docs;   # outside docs/ only docs/X.md counts as ours
        my @n = ($first);
        my $prev = $first;
        while ($more =~ m{(-|–|, | and | to )§?(\d+(?:\.\d+)?)}g) {
            my ($sep, $n) = ($1, $2);
            if (($sep eq "-" || $sep eq "–" || $sep eq " to ") && $prev =~ /^\d+$/ && $n =~ /^\d+$/) {
                push @n, $_ for ($prev + 1) .. $n;
            } else {
                push @n, $n;
            }
            $prev = $n;
        }
        print "$ARGV:$.\tdocs/$doc\t$_\n" for @n;
    }
    close ARGV if eof;' <"$T/checked" >"$T/cites" || true
[ -s "$T/cites" ] || die "no docs/X.md §N citation found at all (the extraction is broken)"
: >"$T/missing"
while IFS=$'\t' read -r where doc n; do
    if [ ! -f "$doc" ]; then
        echo "$where: $doc does not exist" >>"$T/missing"
    elif ! grep -q -E "^#{1,6} ${n//./\\.}\.? " "$doc"; then
        echo "$where: $doc has no section $n" >>"$T/missing"
    fi
done <"$T/cites"
sort -u -o "$T/missing" "$T/missing"
report "cited sections that do not exist" "$T/missing"
echo "  citations checked: $(wc -l <"$T/cites") (pages cited: $(cut -f2 "$T/cites" | sort -u | wc -l))"

[ "$bad" = 0 ] || exit 1
echo "test_docs: all checks passed"

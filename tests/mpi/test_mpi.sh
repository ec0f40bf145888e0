#!/usr/bin/env bash
# test_mpi.sh - hetcomp under mpirun (docs/distributed.md), for the -DHC_MPI=ON build.
# Usage: bash test_mpi.sh <hetcomp-mpi-binary> <hetcomp-serial-binary-or-empty>
# Covers, on a 400 x 600 synthetic dataset with two short teachers (mf, gnn):
#  - eval at 1, 2 and 3 ranks prints exactly the figures of the serial binary;
#  - HetComp distillation (exact rest sets) at 1 rank writes the serial build's model.hcm bit
#    for bit (same --threads 1); at 2 and 3 ranks its test R@50 is within 0.02 of 1 rank's
#    (fixed seed 0; only the item-gradient summation order differs); BPR at 2 ranks likewise;
#  - the same for sampled rest sets (the users sharded, the touched items' gradients reduced);
#  - one file is written, by rank 0 alone, with no temporary file left;
#  - a bad dataset on one rank (rank 1) ends the job with a message naming the file and
#    rank, non-zero status, and no output directory.
# Runs in about 20 s on 2 cores (ranks oversubscribed, one thread each).
set -euo pipefail
HC=${1:?usage: test_mpi.sh <hetcomp-mpi> [hetcomp-serial]}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC")
SER=${2:-}
[ -n "$SER" ] && [ ! -x "$SER" ] && SER="" # no default build beside: compare with ourselves
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_mpi.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
export OMP_NUM_THREADS=1
die() {
    echo "FAIL: $*" >&2
    exit 1
}
run() { # run NP command...: mpirun with NP ranks
    local np=$1
    shift
    mpirun --oversubscribe --allow-run-as-root -np "$np" "$@"
}
r50() { # test R@50 of a model, from the serial-style table
    "$HC" eval --data ds.hcd --model "$1" 2>/dev/null | awk '$1 == "test" { print $6 }'
}

echo "- data and teachers"
"$HC" synth --users 400 --items 600 --interactions 12000 --out X.tsv >/dev/null 2>&1
"$HC" split --data X.tsv --out ds.hcd >/dev/null 2>&1
for m in mf gnn; do
    "$HC" teacher --model $m --dim 16 --epochs 30 --eval-every 5 --topk 50 --quiet \
        --data ds.hcd --out $m >/dev/null 2>&1 || die "teacher $m"
done

echo "- eval: the same figures at 1, 2 and 3 ranks"
REF=${SER:-$HC}
"$REF" eval --data ds.hcd --model mf/model.hcm >e0.txt 2>/dev/null
for np in 1 2 3; do
    run $np "$HC" eval --data ds.hcd --model mf/model.hcm >e$np.txt 2>/dev/null ||
        die "eval at $np ranks"
    cmp -s e0.txt e$np.txt || die "eval at $np ranks differs: $(cat e$np.txt)"
done

check_distill() { # check_distill TAG distill-args...: 1 rank = serial, 2 and 3 within 0.02
    local tag=$1
    shift
    if [ -n "$SER" ]; then
        "$SER" "$@" --out ${tag}0 >/dev/null 2>&1 || die "$tag: serial distill"
    fi
    for np in 1 2 3; do
        run $np "$HC" "$@" --out $tag$np >/dev/null 2>&1 || die "$tag: distill at $np ranks"
        [ -s $tag$np/model.hcm ] || die "$tag: no model at $np ranks"
        ls $tag$np | grep -q tmp && die "$tag: temporary file left at $np ranks"
    done
    if [ -n "$SER" ]; then
        cmp -s ${tag}0/model.hcm ${tag}1/model.hcm ||
            die "$tag: 1 rank under MPI differs from the serial build"
    fi
    local a b
    a=$(r50 ${tag}1/model.hcm)
    for np in 2 3; do
        b=$(r50 $tag$np/model.hcm)
        echo "  test R@50: 1 rank $a, $np ranks $b"
        awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(d < 0.02 && d > -0.02) }' ||
            die "$tag: $np ranks R@50 $b not within 0.02 of $a"
    done
}
echo "- distill, exact rest sets: 1 rank equals the serial build; 2 and 3 ranks within 0.02"
check_distill S distill --threads 1 --data ds.hcd --teachers mf gnn --epochs 60 --rest exact
echo "- distill, sampled rest sets: the same"
check_distill R distill --threads 1 --data ds.hcd --teachers mf gnn --epochs 60 --rest sampled \
    --rest-samples 200
B=(distill --method bpr --threads 1 --data ds.hcd --epochs 40)
run 1 "$HC" "${B[@]}" --out B1 >/dev/null 2>&1 || die "bpr at 1 rank"
run 2 "$HC" "${B[@]}" --out B2 >/dev/null 2>&1 || die "bpr at 2 ranks"
cmp -s B1/model.hcm B2/model.hcm || die "bpr (replicated) differs between 1 and 2 ranks"

echo "- a bad file on rank 1 ends the job, no output"
printf 'HCDS garbage\n' >bad.hcd
cat >pick.sh <<'SH'
#!/usr/bin/env bash
# rank 1 reads the bad copy of the dataset
ds=ds.hcd
[ "${OMPI_COMM_WORLD_RANK:-0}" = 1 ] && ds=bad.hcd
exec "$@" --data "$ds"
SH
set +e
run 2 bash pick.sh "$HC" distill --threads 1 --teachers mf gnn --epochs 60 --out BAD \
    >bad.out 2>bad.err
rc=$?
set -e
[ $rc -ne 0 ] || die "a bad file on rank 1 exited 0"
grep -q "bad.hcd" bad.err || die "no message naming the file: $(cat bad.err)"
grep -q "rank 1 of 2" bad.err || die "no message naming the rank: $(cat bad.err)"
[ ! -e BAD ] || die "output directory BAD exists after the failure"
echo "ok"

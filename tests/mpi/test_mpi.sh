#!/usr/bin/env bash
# test_mpi.sh - hetcomp under mpirun (docs/distributed.md), for the -DHC_MPI=ON build.
# Usage: bash test_mpi.sh <hetcomp-mpi-binary> <hetcomp-serial-binary-or-empty>
# Covers, on a 400 x 600 synthetic dataset with two short teachers (mf, gnn):
#  - a teacher trained under mpirun at 2 and 3 ranks (every rank trains, each scores its own
#    users for the trajectory's snapshots) writes the serial run's model and trajectory;
#  - eval at 1, 2 and 3 ranks prints exactly the figures of the serial binary;
#  - HetComp distillation (exact rest sets) at 1 rank writes the serial build's model.hcm bit
#    for bit (same --threads 1); at 2 and 3 ranks its test R@50 is within 0.02 of 1 rank's
#    (fixed seed 0; only the item-gradient summation order differs); BPR at 2 ranks likewise;
#  - the same for sampled rest sets (the users sharded, the touched items' gradients summed onto
#    their owners, each owner stepping its items), and for the baselines RRD, CD and DCD (each
#    rank runs its users' and items' units, the gradients are sum-reduced; DCD reads every
#    user's lists, so it loads whole trajectories);
#  - at 2 and 3 ranks each rank reads only its users' share of the teachers' trajectories:
#    the students are those of whole loads (HC_TRAJ_WHOLE=1) bit for bit, each rank's logged
#    trajectory bytes are about 1/R of the whole files', and the ensemble (lists gathered
#    onto rank 0) is the serial build's file and table exactly;
#  - the progress is shown once (rank 0's), every line whole (stderr line-buffered);
#  - a corrupt trajectory is refused by every rank's partial load, naming the file;
#  - one file is written, by rank 0 alone, with no temporary file left;
#  - a bad dataset on one rank (rank 1) ends the job with a message naming the file and
#    rank, non-zero status, and no output directory.
# Runs in about 40 s on 2 cores (ranks oversubscribed, one thread each).
set -euo pipefail
HC=${1:?usage: test_mpi.sh <hetcomp-mpi> [hetcomp-serial]}
HC=$(cd "$(dirname "$HC")" && pwd)/$(basename "$HC")
SER=${2:-}
[ -n "$SER" ] && [ ! -x "$SER" ] && SER="" # no default build beside: compare with ourselves
T=$(mktemp -d "${TMPDIR:-/tmp}/hc_mpi.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
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

echo "- teacher under mpirun: the training replicated, the snapshots' top lists sharded by user"
for np in 2 3; do
    run $np "$HC" teacher --model mf --dim 16 --epochs 30 --eval-every 5 --topk 50 --quiet \
        --data ds.hcd --out mf$np >/dev/null 2>&1 || die "teacher at $np ranks"
    cmp -s mf/trajectory.hct mf$np/trajectory.hct || die "teacher at $np ranks: trajectory differs"
    cmp -s mf/model.hcm mf$np/model.hcm || die "teacher at $np ranks: model differs"
done

echo "- eval: the same figures at 1, 2 and 3 ranks"
REF=${SER:-$HC}
"$REF" eval --data ds.hcd --model mf/model.hcm >e0.txt 2>/dev/null
for np in 1 2 3; do
    run $np "$HC" eval --data ds.hcd --model mf/model.hcm >e$np.txt 2>/dev/null ||
        die "eval at $np ranks"
    cmp -s e0.txt e$np.txt || die "eval at $np ranks differs: $(cat e$np.txt)"
done

held_ok() { # held_ok NP LOG: every rank's "holds N of W trajectory bytes" line, N about W/NP
    local np=$1 log=$2 held
    held=$(grep -o "rank [0-9]* of $np holds [0-9]* of [0-9]* trajectory bytes (its users' share)" \
        "$log" | sort -u) || true
    [ "$(echo "$held" | grep -c .)" = "$np" ] ||
        die "not one share line per rank at $np ranks: $(cat "$log")"
    echo "$held" | awk -v np="$np" '{ n = $6; w = $8; sum += n
            if (n > 1.1 * w / np) { print "rank " $2 " holds " n " of " w; bad = 1 } }
        END { if (sum < w) { print "shares hold " sum " < " w; bad = 1 }; exit bad }' ||
        die "a rank holds more than its share at $np ranks: $(cat "$log")"
}

epochs() { grep -c '^\[hetcomp\] epoch' "$1"; } # the progress lines in a log

check_distill() { # check_distill TAG distill-args...: 1 rank = serial, 2 and 3 within 0.02,
    local tag=$1 # and at 2 and 3 ranks partial loads = whole loads, bit for bit
    shift
    if [ -n "$SER" ]; then
        "$SER" "$@" --out ${tag}0 >/dev/null 2>&1 || die "$tag: serial distill"
    fi
    for np in 1 2 3; do
        run $np "$HC" "$@" --out $tag$np >/dev/null 2>$tag$np.log || die "$tag: distill at $np ranks"
        [ -s $tag$np/model.hcm ] || die "$tag: no model at $np ranks"
        ls $tag$np | grep -q tmp && die "$tag: temporary file left at $np ranks"
    done
    for np in 2 3; do
        [ "${WHOLE:-}" = 1 ] && continue # a method that reads every user's lists
        held_ok $np $tag$np.log
        [ "$(epochs $tag$np.log)" = "$(epochs ${tag}1.log)" ] ||
            die "$tag: the progress is not shown once (rank 0's) at $np ranks: $(cat $tag$np.log)"
        HC_TRAJ_WHOLE=1 run $np "$HC" "$@" --out ${tag}w$np >/dev/null 2>${tag}w$np.log ||
            die "$tag: distill at $np ranks, whole loads"
        grep -q "trajectory bytes (whole)" ${tag}w$np.log || die "$tag: HC_TRAJ_WHOLE not taken"
        cmp -s $tag$np/model.hcm ${tag}w$np/model.hcm ||
            die "$tag: $np ranks, partial loads differ from whole loads"
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
echo "- baselines (sharded units, reduced gradients): RRD, CD, and DCD (item units, whole loads)"
check_distill D distill --method rrd --threads 1 --data ds.hcd --teachers mf gnn --epochs 40
check_distill C distill --method cd --threads 1 --data ds.hcd --teachers mf gnn --epochs 40
WHOLE=1 check_distill X distill --method dcd --threads 1 --data ds.hcd --teachers mf gnn \
    --epochs 40
grep -q "trajectory bytes (whole)" X2.log || die "dcd: not whole loads"
B=(distill --method bpr --threads 1 --data ds.hcd --epochs 40)
run 1 "$HC" "${B[@]}" --out B1 >/dev/null 2>&1 || die "bpr at 1 rank"
run 2 "$HC" "${B[@]}" --out B2 >/dev/null 2>&1 || die "bpr at 2 ranks"
cmp -s B1/model.hcm B2/model.hcm || die "bpr (replicated) differs between 1 and 2 ranks"

echo "- ensemble: the serial build's lists and table at 1, 2 and 3 ranks"
"$REF" ensemble --data ds.hcd --teachers mf gnn --out E0 2>/dev/null | cut -f1-13 >E0.txt
for np in 1 2 3; do
    run $np "$HC" ensemble --data ds.hcd --teachers mf gnn --out E$np 2>E$np.log |
        cut -f1-13 >E$np.txt || die "ensemble at $np ranks"
    cmp -s E0/ensemble.hct E$np/ensemble.hct || die "ensemble.hct at $np ranks differs"
    cmp -s E0.txt E$np.txt || die "the ensemble table at $np ranks differs: $(cat E$np.txt)"
    [ $np = 1 ] || held_ok $np E$np.log
done

echo "- a corrupt trajectory is refused by every rank's partial load"
cp mf/trajectory.hct corrupt.hct
len=$(stat -c %s corrupt.hct)
byte=$(od -An -tu1 -j $((len / 2)) -N1 corrupt.hct)
printf "\\x$(printf %02x $((byte ^ 1)))" | dd of=corrupt.hct bs=1 seek=$((len / 2)) conv=notrunc \
    status=none
cmp -s corrupt.hct mf/trajectory.hct && die "the corrupt copy is intact"
for cmd in "distill --epochs 60" ensemble; do
    set +e
    run 2 "$HC" $cmd --threads 1 --data ds.hcd --teachers corrupt.hct gnn --out BADT \
        >badt.out 2>badt.err
    rc=$?
    set -e
    [ $rc -ne 0 ] || die "$cmd: a corrupt trajectory exited 0"
    [ "$(grep -c "corrupt.hct: checksum mismatch (file is corrupt)" badt.err)" -ge 1 ] ||
        die "$cmd: no checksum message naming the file: $(cat badt.err)"
    grep -q "rank [01] of 2" badt.err || die "$cmd: no message naming the rank: $(cat badt.err)"
    [ ! -e BADT ] || die "$cmd: output directory BADT exists after the failure"
done

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

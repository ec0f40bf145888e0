#!/usr/bin/env bash
# setup.sh - installs what the benchmarks need beside hetcomp's own build dependencies:
# the PyTorch reference's Debian packages (python3-torch python3-numpy libopenblas0-pthread),
# GNU time (peak RSS) and wrk (the HTTP load generator of bench_serve.sh), when missing and
# running as root; otherwise says what to run.
# Then checks that torch multiplies on OpenBLAS (not the reference BLAS, ~38x slower) and
# that hetcomp's binary, if built, still loads the OpenMP OpenBLAS it was linked against.
#
# Why the check: libopenblas0-pthread registers the libblas.so.3, liblapack.so.3 and
# libopenblas.so.0 alternatives at priority 100, above libopenblas0-openmp's 95, so in auto
# mode installing it switches those three to openblas-pthread. That is harmless: torch
# (which links libblas.so.3) then runs on the pthread OpenBLAS, and hetcomp links
# -lopenblas via pkg-config with a RUNPATH of /usr/lib/x86_64-linux-gnu/openblas-openmp, so
# it keeps loading the OpenMP build whatever the alternatives say. The development links
# (libopenblas.so, libblas.so, openblas.pc) stay on openblas-openmp, as no -dev package of
# the pthread flavour is installed. See bench/README.md.
#
# usage: bench/setup.sh [--bin PATH]     (PATH: hetcomp binary to check, default build/hetcomp)
set -euo pipefail
# shellcheck source=bench/common.sh source-path=SCRIPTDIR/..
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bin=
case ${1:-} in
--bin) bin=${2:-} ;;
--bin=*) bin=${1#*=} ;;
-h | --help)
    awk 'NR > 1 && !/^#/ {exit} NR > 1 && !/shellcheck/ {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"
    exit 0 ;;
"") ;;
*) bc_die "unknown argument '$1' (see --help)" ;;
esac

pkgs=(python3-torch python3-numpy libopenblas0-pthread time wrk)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "the benchmarks need: ${missing[*]}" >&2
        echo "run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    }
fi

# what the alternatives point at now
if command -v update-alternatives >/dev/null; then
    for a in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
        t=$(update-alternatives --query "$a-x86_64-linux-gnu" 2>/dev/null |
            awk '/^Value:/ {print $2}')
        echo "alternative $a -> ${t:-?}"
    done
fi

# torch must multiply on OpenBLAS
bc_check_torch
echo "torch $BC_TORCH multiplies on: $BC_TORCH_BLAS"

# hetcomp, if built, must still load OpenBLAS (the OpenMP build it was linked with)
BC_BIN=${bin:-${HETCOMP:-$BC_ROOT/build/hetcomp}}
if [ -x "$BC_BIN" ]; then
    lib=$(ldd "$BC_BIN" | awk '/libopenblas/ {print $3}')
    case $lib in
    */openblas-openmp/*) echo "hetcomp ($BC_BIN) loads: $lib" ;;
    "") bc_die "$BC_BIN does not load libopenblas (ldd): rebuild it" ;;
    *) bc_warn "$BC_BIN loads $lib, not the OpenMP OpenBLAS it expects: rebuild it" \
        "(cmake picks the openblas-openmp pkg-config file and sets a RUNPATH)" ;;
    esac
else
    echo "hetcomp not built at $BC_BIN yet (make bench): nothing to check"
fi
echo "ready: bench/bench_teachers.sh, bench/bench_eval.sh, bench/bench_distill.sh, bench/bench_serve.sh"

#!/usr/bin/env bash
# The installed library as an outside program sees it: installs the build into a temporary
# prefix, checks `pkg-config --cflags --libs hetcomp`, builds examples/distill.c with those
# flags alone (no include path into src/) under -Wall -Wextra -Werror, runs it, and checks
# the shared library exports the public API and nothing internal.
# Usage: test_install.sh BUILD_DIR EXAMPLE.c
set -euo pipefail
build=$1 example=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name hetcomp.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no hetcomp.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs hetcomp)
echo "pkg-config --cflags --libs hetcomp: $flags"
case "$flags" in *-lhetcomp*) ;; *) echo "FAIL: no -lhetcomp"; exit 1 ;; esac
libdir=$(pkg-config --variable=libdir hetcomp)
[ -f "$(pkg-config --variable=includedir hetcomp)/hetcomp.h" ] || { echo "FAIL: no header"; exit 1; }
# The shared library exports hc_* API functions, and none of the internal ones.
syms=$(nm -D --defined-only "$libdir/libhetcomp.so" | awk '{print $3}')
for s in hc_train_teacher hc_distill hc_ensemble_build hc_recommend hc_param_describe hc_similar_items; do
  grep -qx "$s" <<<"$syms" || { echo "FAIL: $s not exported"; exit 1; }
done
for s in hc_error hc_rng_init hc_fit hc_distill_run hc_alloc_floats; do
  if grep -qx "$s" <<<"$syms"; then echo "FAIL: internal $s exported"; exit 1; fi
done
cc -std=c11 -Wall -Wextra -Werror "$example" $flags -o "$tmp/distill"
cd "$tmp"
LD_LIBRARY_PATH="$libdir" ./distill "$tmp/student.hcm" | tee out.txt
grep -q "^hetcomp .*R@50" out.txt
grep -q "saved .* and loaded it back" out.txt
echo "PASS: install, pkg-config and the example"

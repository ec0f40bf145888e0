#!/usr/bin/env bash
# test_pip_install.sh - `pip install --no-build-isolation` of the package into a fresh virtual
# environment (--system-site-packages, for numpy), offline (--no-index), from a copy of
# python/ (so the checkout gets no build files) against the build tree's static library; then
# the installed module, imported from elsewhere, trains, distils, saves and loads.
# Usage: test_pip_install.sh PYTHON SOURCE_DIR BUILD_DIR. About 30 s (one compile).
set -euo pipefail
py=$1 src=$2 build=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv --system-site-packages "$tmp/venv"
cp -r "$src/python" "$tmp/pkg"
rm -rf "$tmp/pkg/build" "$tmp/pkg"/*.egg-info
HETCOMP_BUILD_DIR=$build HETCOMP_INCLUDE_DIR=$src/include \
    "$tmp/venv/bin/python" -m pip install -q --no-index --no-build-isolation "$tmp/pkg"
cd "$tmp"
"$tmp/venv/bin/python" - <<'PY'
import hetcomp, os, sys
where = os.path.dirname(hetcomp.__file__)
assert where.startswith(sys.prefix), f"imported from {where}, not the venv {sys.prefix}"
ds = hetcomp.Dataset.synthetic(200, 300, 5000)
t = hetcomp.train_teacher(ds, "mf", dim=8, epochs=4, eval_every=2, checkpoints=2, topk=20)
s = hetcomp.distill(ds, [t], dim=6, epochs=4)
s.save("s.hcm")
back = hetcomp.load("s.hcm", ds)
a, b = s.recommend(range(10), k=5), back.recommend(range(10), k=5)
assert (a[0] == b[0]).all() and (a[1] == b[1]).all()
print("PASS: pip install into a venv:", where)
PY

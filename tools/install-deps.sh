#!/usr/bin/env bash
# Installs the Debian packages hetcomp needs when any is missing (as root), or says which.
# Usage: tools/install-deps.sh [extra-package ...]
set -euo pipefail
pkgs=(cmake make gcc pkg-config libopenblas-openmp-dev libcmocka-dev libjansson-dev
      libxxhash-dev libmicrohttpd-dev curl python3-numpy gnuplot-nox
      python3-dev python3-pytest python3-setuptools python3-wheel python3-pip python3-venv "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "hetcomp needs: ${missing[*]}" >&2
  echo "run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

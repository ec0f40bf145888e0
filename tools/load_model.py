#!/usr/bin/env python3
"""load_model.py - load a model exported by `hetcomp export --format npy` with NumPy.

Usage:
  python3 tools/load_model.py DIR USER_ID [-k 10]   top-k items of a user (rank, item, score)
  python3 tools/load_model.py DIR --shapes          tensor names and shapes

DIR holds <tensor>.npy files (float32, C order), users.tsv / items.tsv (index<TAB>id) and
model.json (family, hyperparameters, tensor list). Scoring is implemented for the embedding
families whose score is a closed form of the two factor tables:
  mf: score(u, i) = P[u] . Q[i]            (the student of `hetcomp distill` is an mf model)
  ml: score(u, i) = -||P[u] - Q[i]||^2
with P = user_factors.npy and Q = item_factors.npy. Train items are NOT excluded (the export
holds no interactions), so the list matches `hetcomp recommend --include-seen`. Ties go to the
smaller item index, as in hetcomp.
"""
import argparse
import json
import os
import sys

import numpy as np


def read_ids(path):
    """index<TAB>id lines -> list of ids in index order."""
    ids = []
    with open(path, encoding="utf-8", newline="\n") as f:
        for n, line in enumerate(f):
            idx, _, name = line.rstrip("\n").partition("\t")
            if int(idx) != n:
                raise ValueError(f"{path}:{n + 1}: index {idx}, expected {n}")
            ids.append(name)
    return ids


def load(dirname):
    """Returns (meta, tensors by name, user ids, item ids)."""
    with open(os.path.join(dirname, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    tensors = {}
    for t in meta["tensors"]:
        a = np.load(os.path.join(dirname, t["file"]), allow_pickle=False)
        if a.dtype != np.float32 or list(a.shape) != list(t["shape"]):
            raise ValueError(f"{t['file']}: {a.dtype} {a.shape}, model.json says {t['shape']}")
        tensors[t["name"]] = a
    users = read_ids(os.path.join(dirname, meta["users"]))
    items = read_ids(os.path.join(dirname, meta["items"]))
    return meta, tensors, users, items


def scores_for(meta, tensors, u):
    P, Q = tensors.get("user_factors"), tensors.get("item_factors")
    if meta["family"] == "mf":
        return Q @ P[u]
    if meta["family"] == "ml":
        d = Q - P[u]
        return -np.einsum("ij,ij->i", d, d)
    raise NotImplementedError(f"scoring of family '{meta['family']}' is not implemented here")


def top_k(s, k):
    """Indices of the k largest scores, descending, ties by smaller index (stable sort)."""
    order = np.argsort(-s, kind="stable")
    return order[:k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="directory written by hetcomp export")
    ap.add_argument("user", nargs="?", help="the user's own id")
    ap.add_argument("-k", type=int, default=10, help="items to print (10)")
    ap.add_argument("--shapes", action="store_true", help="print tensor names and shapes")
    a = ap.parse_args()
    meta, tensors, users, items = load(a.dir)
    if a.shapes:
        for name, t in tensors.items():
            print(f"{name}\t{t.shape[0]}\t{t.shape[1]}")
        return 0
    if a.user is None:
        ap.error("give a user id (or --shapes)")
    if a.user not in users:
        print(f"load_model.py: unknown user '{a.user}'", file=sys.stderr)
        return 1
    u = users.index(a.user)
    try:
        s = scores_for(meta, tensors, u)
    except NotImplementedError as e:
        print(f"load_model.py: {e}", file=sys.stderr)
        return 2
    print("rank\titem\tscore")
    for r, i in enumerate(top_k(s, a.k), 1):
        print(f"{r}\t{items[i]}\t{s[i]:.7g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""test_leak.py - no leak over 1,000 create/free cycles: each cycle makes a dataset (from ids
and from arrays), a trajectory from arrays, loads a model, recommends, finds similar items,
evaluates and takes a refused call (the error path), about a megabyte of C memory; the
resident set may grow by at most 16 MiB over the 1,000 cycles after 100 warm-up ones, where a
leak of any of those objects would add 100 MiB or more. About ten seconds."""
import gc
import os

import numpy as np

import hetcomp


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_no_leak_over_1000_cycles(tmp_path):
    base = hetcomp.Dataset.synthetic(400, 600, 12000)
    model = hetcomp.train_teacher(base, "mf", dim=16, epochs=1, eval_every=1, trajectory=False)
    model.save(tmp_path / "m.hcm")
    indptr, indices = base.csr("train")
    users = np.repeat(np.arange(base.n_users, dtype=np.int32), np.diff(indptr))
    names_u = [f"user-{u}" for u in users]
    names_i = [f"item-{i}" for i in indices]
    top = np.full((2, base.n_users, 50), -1, np.int32)
    probe = np.arange(100, dtype=np.int32)

    def cycle():
        ds = hetcomp.Dataset.from_arrays(base.n_users, base.n_items, (users, indices),
                                         (users[:500], indices[:500]), (users[-500:], indices[-500:]))
        hetcomp.Dataset.from_ids(names_u, names_i, min_user=1)
        t = hetcomp.Trajectory.from_arrays(ds, top)
        assert t.topk.shape == top.shape
        m = hetcomp.load(tmp_path / "m.hcm", base)
        items, _ = m.recommend(probe, k=20)
        m.similar_items(probe[:10], k=10)
        m.evaluate()
        try:
            m.recommend([ds.n_users])
        except hetcomp.Error:
            pass
        return items

    for _ in range(100):
        cycle()
    gc.collect()
    before = rss_kib()
    for _ in range(1000):
        cycle()
    gc.collect()
    grown = rss_kib() - before
    assert grown < 16 * 1024, f"RSS grew by {grown} KiB over 1000 cycles"

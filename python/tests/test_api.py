"""test_api.py - the package's surface: datasets from ids, files and arrays equal to the CLI's
split of the same data (same checksum), save/load, zero-copy read-only views; docstrings list
every hyperparameter of the registries with its default; hyperparameters as keyword
arguments; progress callbacks (and their exceptions); library log lines in Python's logging;
recommend's shapes and exclusion; the ensemble. A few seconds."""
import logging

import numpy as np
import pytest

import hetcomp
from conftest import read_tsv, run_cli


def test_datasets_from_ids_and_files_match_the_cli_split(small, tmp_path):
    d, cli_ds = small
    rows = read_tsv(d / "X.tsv")
    users, items = [r[0] for r in rows], [r[1] for r in rows]
    ts = np.array([int(r[2]) for r in rows])
    assert hetcomp.Dataset.from_ids(users, items, ts).checksum == cli_ds.checksum
    assert hetcomp.Dataset.from_ids(users, items).checksum == cli_ds.checksum
    assert hetcomp.Dataset.from_file(d / "X.tsv").checksum == cli_ds.checksum
    assert hetcomp.Dataset.synthetic(300, 400, 8000).checksum == cli_ds.checksum
    # X.tsv's third column reads as a rating: the temporal split wants user,item,rating,ts.
    with open(tmp_path / "X4.tsv", "w") as f:
        f.writelines(f"{u}\t{i}\t1\t{t}\n" for u, i, t in zip(users, items, ts))
    run_cli("split", "--data", tmp_path / "X4.tsv", "--method", "temporal", "--out",
            tmp_path / "t.hcd")
    temporal = hetcomp.Dataset.from_ids(np.array(users), np.array(items), ts, method="temporal")
    assert temporal.checksum == hetcomp.Dataset.load(tmp_path / "t.hcd").checksum
    assert temporal.method == "temporal"


def test_integer_ids_and_save_load(tmp_path):
    rng = np.random.default_rng(0)
    u, i = rng.integers(1000, 1050, 2000), rng.integers(0, 70, 2000) * 3
    ds = hetcomp.Dataset.from_ids(u, i)
    assert ds.n_users == 50 and set(map(int, ds.item_ids())) <= set(range(0, 210, 3))
    np.testing.assert_array_equal(ds.user_index([1000 + 7, "1003"]),
                                  ds.user_index(["1007", "1003"]))
    ds.save(tmp_path / "d.hcd")
    back = hetcomp.Dataset.load(tmp_path / "d.hcd")
    assert back.checksum == ds.checksum and back.user_ids() == ds.user_ids()
    assert back.stats()["n_train"] == len(ds.csr("train")[1])


def test_import_split_and_arrays(tmp_path):
    (tmp_path / "train.tsv").write_text("a\tx\na\ty\nb\tx\nc\tz\n")
    (tmp_path / "test.tsv").write_text("a\tz\nb\ty\n")
    ds = hetcomp.Dataset.import_split(tmp_path / "train.tsv", test=tmp_path / "test.tsv")
    assert (ds.n_users, ds.n_items, ds.method) == (3, 3, "imported")
    arr = hetcomp.Dataset.from_arrays(3, 4, ([0, 0, 1], [1, 2, 3]), ([0], [3]), ([1], [0]))
    indptr, indices = arr.csr("train")
    assert list(indptr) == [0, 2, 3, 3] and list(indices) == [1, 2, 3]
    assert not indices.flags.writeable and not indices.flags.owndata
    assert arr.n_eval_users == 0  # no user has both valid and test items
    assert arr.item_ids() == ["0", "1", "2", "3"]


def test_docstrings_list_every_hyperparameter_with_its_default():
    for scope, fn in [("distill", hetcomp.distill), ("teacher", hetcomp.train_teacher)] + \
            [(f, hetcomp.train_teacher) for f in hetcomp.families()]:
        params = hetcomp.hyperparameters(scope)
        assert params, scope
        for p in params:
            line = f"{p['name'].replace('-', '_')} ({p['type']}, default {p['default']})"
            assert line in fn.__doc__, (scope, line)
    assert set(hetcomp.methods()) >= {"hetcomp", "bpr", "rd"}
    assert list(hetcomp.families())[:2] == ["mf", "ml"]
    for name in hetcomp.methods():
        assert f"      {name}: " in hetcomp.distill.__doc__


def test_keyword_hyperparameters_and_progress():
    ds = hetcomp.Dataset.synthetic(200, 300, 5000)
    calls = []
    t = hetcomp.train_teacher(ds, "ml", dim=8, epochs=4, eval_every=2, checkpoints=2, topk=15,
                              margin=0.5, progress=lambda *a: calls.append(a))
    assert t.trajectory.k == 15 and 1 <= t.trajectory.n_checkpoints <= 2
    assert t.summary["epochs"] == 4 and [c[0] for c in calls] == [1, 2, 4]
    assert "recall@50" in calls[-1][2]["valid"]
    s = hetcomp.distill(ds, [t], method="hetcomp", dim=4, epochs=3, eval_every=1,
                        no_akt=True, rest="exact")
    assert s.family == "mf" and s.summary["epochs"] == 3

    def boom(epoch, loss, metrics):
        raise ZeroDivisionError("from the callback")
    with pytest.raises(ZeroDivisionError, match="from the callback"):
        hetcomp.distill(ds, [], method="bpr", dim=4, epochs=2, eval_every=1, progress=boom)


def test_log_lines_reach_python_logging(caplog, tmp_path):
    with caplog.at_level(logging.INFO, logger="hetcomp"):
        ds = hetcomp.Dataset.synthetic(200, 300, 5000)
        hetcomp.distill(ds, [], method="bpr", dim=4, epochs=2, eval_every=1)
    msgs = [r.getMessage() for r in caplog.records if r.name == "hetcomp"]
    assert any(m.startswith("split (ratio, seed 0)") for m in msgs), msgs
    assert any(m.startswith("bpr: epoch") for m in msgs), msgs
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hetcomp"):
        hetcomp.Dataset.synthetic(200, 300, 5000)
    assert not [r for r in caplog.records if r.name == "hetcomp"]


def test_recommend_shapes_and_exclusion():
    ds = hetcomp.Dataset.synthetic(200, 300, 5000)
    m = hetcomp.train_teacher(ds, "mf", dim=8, epochs=2, eval_every=2, trajectory=False)
    indptr, indices = ds.csr("train")
    items, scores = m.recommend(np.arange(ds.n_users), k=30)
    for u in range(ds.n_users):
        assert not set(items[u]) & set(indices[indptr[u]:indptr[u + 1]])
        assert (np.diff(scores[u]) <= 0).all()
    one, s1 = m.recommend(5, k=30)
    assert one.shape == (30,) and (one == items[5]).all()
    full = m.score([5])[0]
    np.testing.assert_allclose(s1, full[one], rtol=1e-6)
    seen, _ = m.recommend([5], k=ds.n_items, exclude_seen=False)
    assert (seen[0] >= 0).all() and sorted(seen[0]) == list(range(ds.n_items))
    pad, pad_s = m.recommend([5], k=ds.n_items)
    n_seen = indptr[6] - indptr[5]
    assert (pad[0][-n_seen:] == -1).all() and np.isneginf(pad_s[0][-n_seen:]).all()
    empty, _ = m.recommend(np.zeros(0, np.int32), k=3)
    assert empty.shape == (0, 3)


def test_ensemble():
    ds = hetcomp.Dataset.synthetic(200, 300, 5000)
    a = hetcomp.train_teacher(ds, "mf", dim=8, epochs=4, eval_every=2, checkpoints=2, topk=30)
    b = hetcomp.train_teacher(ds, "ml", dim=8, epochs=4, eval_every=2, checkpoints=2, topk=30)
    lists, res = hetcomp.ensemble(ds, [a, b.trajectory], weights=[1, 2], k=40)
    assert lists.name == "ensemble" and lists.topk.shape == (1, ds.n_users, 40)
    assert 0 < res["test"]["recall@50"] <= 1 and res["test"]["n_users"] == ds.n_eval_users
    with pytest.raises(ValueError, match="weights"):
        hetcomp.ensemble(ds, [a, b], weights=[1])
    with pytest.raises(TypeError, match="not a Trajectory"):
        hetcomp.ensemble(ds, [a, "b"])

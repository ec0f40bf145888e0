"""test_roundtrip.py - Python and the CLI agree on the same files: a model written by
`hetcomp teacher` recommends in Python what `hetcomp recommend` prints (items exact, scores to
the printed precision) and evaluates as `hetcomp eval --json` does; a student distilled and
saved in Python recommends the same in the CLI; one distillation with the same flags (one
thread) gives the same student in both; Trajectory.from_arrays (indices or ids) saves the same
file as `hetcomp trajectory import` of the same rankings as text; similar_items agrees with
NumPy's cosine and dot over the factors `hetcomp export` writes. A few seconds."""
import json

import numpy as np
import pytest

import hetcomp
from conftest import read_tsv, run_cli


def cli_all_users(d, model, k, *extra):
    """`hetcomp recommend --all-users` as {user: [(item, score), ...]}."""
    out = d / "all.tsv"
    run_cli("recommend", "--model", model, "--data", d / "ds.hcd", "--all-users", "-k", k,
            "--out", out, *extra)
    lists = {}
    for user, rank, item, score in read_tsv(out):
        lists.setdefault(user, []).append((int(rank), item, float(score)))
    return {u: [(i, s) for _, i, s in sorted(v)] for u, v in lists.items()}


def assert_same_lists(ds, model, cli_lists, k, exclude=True):
    items, scores = model.recommend(np.arange(ds.n_users), k=k, exclude_seen=exclude)
    assert items.shape == (ds.n_users, k) and items.dtype == np.int32
    assert scores.dtype == np.float32
    users = ds.user_ids()
    for u in range(ds.n_users):
        want = cli_lists[users[u]]
        assert ds.item_ids(items[u]) == [i for i, _ in want], users[u]
        np.testing.assert_allclose(scores[u], [s for _, s in want], rtol=2e-6, atol=1e-9)


def test_cli_model_recommends_the_same_in_python(small):
    d, ds = small
    model = hetcomp.load(d / "t1" / "model.hcm", ds)
    assert model.family == "mf" and model.n_users == ds.n_users
    assert_same_lists(ds, model, cli_all_users(d, d / "t1" / "model.hcm", 10), 10)
    lists = cli_all_users(d, d / "t1" / "model.hcm", 7, "--exclude", "all")
    assert_same_lists(ds, model, lists, 7, exclude="all")
    items, _ = model.recommend(["u3", "u5"], k=5)  # the users' own ids
    assert ds.item_ids(items[1]) == [i for i, _ in cli_all_users(d, d / "t1/model.hcm", 5)["u5"]]


def test_cli_model_evaluates_the_same_in_python(small):
    d, ds = small
    run_cli("eval", "--data", d / "ds.hcd", "--model", d / "t1" / "model.hcm", "--json",
            d / "ev.json")
    want = json.loads((d / "ev.json").read_text())["metrics"]
    got = hetcomp.evaluate(hetcomp.load(d / "t1" / "model.hcm", ds), ds)
    for split in ("valid", "test"):
        for key in ("recall@10", "ndcg@20", "recall@50", "ndcg@50"):
            assert got[split][key] == pytest.approx(want[split][key], rel=1e-8), (split, key)


def test_python_student_recommends_the_same_in_cli(small, tmp_path):
    d, ds = small
    teacher = hetcomp.Trajectory.load(d / "t1" / "trajectory.hct", ds)
    student = hetcomp.distill(ds, [teacher], dim=6, epochs=20, eval_every=5)
    student.save(tmp_path / "s.hcm")
    assert_same_lists(ds, student, cli_all_users(d, tmp_path / "s.hcm", 10), 10)


def test_same_distillation_in_python_and_cli(small, tmp_path):
    d, ds = small
    flags = {"dim": 6, "epochs": 20, "eval_every": 5, "lr": 0.01, "seed": 3}
    run_cli("distill", "--method", "hetcomp", "--data", d / "ds.hcd", "--teachers", d / "t1",
            "--out", tmp_path / "cli", "--threads", 1, "--quiet",
            *[x for k, v in flags.items() for x in ("--" + k.replace("_", "-"), v)])
    hetcomp.set_threads(1)
    try:
        student = hetcomp.distill(ds, [hetcomp.Trajectory.load(d / "t1" / "trajectory.hct")],
                                  **flags)
    finally:
        hetcomp.set_threads(0)
    cli = hetcomp.load(tmp_path / "cli" / "model.hcm", ds)
    a, b = student.recommend(np.arange(ds.n_users), k=20), cli.recommend(np.arange(ds.n_users), k=20)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def write_rows(path, ds, top, name):
    """The text form (docs/formats.md section 5) of top lists, in the dataset's own ids."""
    users, items = ds.user_ids(), ds.item_ids()
    with open(path, "w") as f:
        f.write(f"# hetcomp trajectory v1\n# model\t{name}\n# k\t{top.shape[2]}\n")
        f.write("checkpoint\tuser\trank\titem\n")
        for c, u, r in zip(*np.nonzero(top >= 0)):
            f.write(f"{c}\t{users[u]}\t{r}\t{items[top[c, u, r]]}\n")


def test_from_arrays_equals_text_import(small, tmp_path):
    d, ds = small
    rng = np.random.default_rng(5)
    indptr, indices = ds.csr("train")
    top = np.full((2, ds.n_users, 15), -1, np.int64)  # int64: converted once to int32
    for u in range(ds.n_users):
        unseen = np.setdiff1d(np.arange(ds.n_items), indices[indptr[u]:indptr[u + 1]])
        for c in range(2):
            n = 15 if u % 7 else 9  # some lists shorter than K, padded
            top[c, u, :n] = rng.choice(unseen, n, replace=False)
    write_rows(tmp_path / "rows.tsv", ds, top, "elsewhere")
    run_cli("trajectory", "import", "--data", d / "ds.hcd", "--in", tmp_path / "rows.tsv",
            "--out", tmp_path / "cli.hct")
    mine = hetcomp.Trajectory.from_arrays(ds, top, name="elsewhere")
    mine.save(tmp_path / "py.hct")
    assert (tmp_path / "py.hct").read_bytes() == (tmp_path / "cli.hct").read_bytes()
    ids = np.array([[["" if i < 0 else ds.item_ids([i])[0] for i in row] for row in ck]
                    for ck in top], dtype=object)
    by_id = hetcomp.Trajectory.from_arrays(ds, ids, name="elsewhere")
    np.testing.assert_array_equal(by_id.topk, top)
    text = hetcomp.Trajectory.import_text(tmp_path / "rows.tsv", ds)
    np.testing.assert_array_equal(text.topk, mine.topk)
    assert text.name == "elsewhere" and text.missing == 0


def test_teacher_trajectory_views_the_file(small):
    d, ds = small
    t = hetcomp.Trajectory.load(d / "t1" / "trajectory.hct", ds)
    assert t.name == "mf" and len(t) == 3 and t.k == 20
    assert t.topk.shape == (3, ds.n_users, 20) and not t.topk.flags.writeable
    assert list(t.epochs) == sorted(t.epochs) and np.isfinite(t.valid_r50).all()
    run_cli("trajectory", "export", "--data", d / "ds.hcd", "--traj", d / "t1" / "trajectory.hct",
            "--out", d / "t1rows.tsv")
    back = hetcomp.Trajectory.import_text(d / "t1rows.tsv", ds)
    np.testing.assert_array_equal(back.topk, t.topk)


def test_similar_items_match_numpy_over_exported_factors(small):
    d, ds = small
    run_cli("export", "--model", d / "t1" / "model.hcm", "--data", d / "ds.hcd", "--out", d / "ex")
    q = np.load(d / "ex" / "item_factors.npy").astype(np.float64)
    model = hetcomp.load(d / "t1" / "model.hcm", ds)
    probe = np.array([0, 7, 123, 399])
    for metric in ("cosine", "dot"):
        items, scores = model.similar_items(probe, k=5, metric=metric)
        s = q @ q[probe].T
        if metric == "cosine":
            n = np.linalg.norm(q, axis=1)
            s = s / n[:, None] / n[probe][None, :]
        for j, i in enumerate(probe):
            s[i, j] = -np.inf
            assert i not in items[j]
            np.testing.assert_allclose(scores[j], np.sort(s[:, j])[::-1][:5], rtol=1e-4)
            np.testing.assert_allclose(s[items[j], j], scores[j], rtol=1e-4)
    one, _ = model.similar_items(7, k=3)
    np.testing.assert_array_equal(one, model.similar_items([7], k=3)[0][0])

"""test_errors.py - bad input raises, never crashes: wrong shapes (ValueError) and dtypes
(TypeError) of index arrays, unknown ids (KeyError), and the library's refusals as
hetcomp.Error carrying its message, status code and name (items outside the catalog or among
a user's train items, users out of range, unknown families, methods and hyperparameters, bad
values, corrupt files, a model of another dataset, similar items without item factors).
Under a second."""
import numpy as np
import pytest

import hetcomp


@pytest.fixture(scope="module")
def ds():
    return hetcomp.Dataset.synthetic(200, 300, 5000)


@pytest.fixture(scope="module")
def model(ds):
    return hetcomp.train_teacher(ds, "mf", dim=8, epochs=3, eval_every=3, checkpoints=1, topk=10)


def test_error_carries_the_library_message(ds):
    with pytest.raises(hetcomp.Error) as e:
        hetcomp.train_teacher(ds, "mf", dim=0)
    assert "dim" in str(e.value) and e.value.name == "HC_EINVAL" and e.value.code == -4
    with pytest.raises(hetcomp.Error, match="no teacher family 'nope'") as e:
        hetcomp.train_teacher(ds, "nope")
    assert e.value.name == "HC_ENOTFOUND"
    with pytest.raises(hetcomp.Error, match="bogus"):
        hetcomp.train_teacher(ds, "mf", bogus=1)
    with pytest.raises(hetcomp.Error, match="no distillation method"):
        hetcomp.distill(ds, [], method="nope")
    with pytest.raises(hetcomp.Error, match="on or off"):
        hetcomp.distill(ds, [], method="bpr", no_dkc="maybe")


def test_trajectory_shapes_and_dtypes(ds):
    good = np.full((1, ds.n_users, 5), -1, np.int32)
    with pytest.raises(ValueError, match="users"):
        hetcomp.Trajectory.from_arrays(ds, good[:, :-1])
    with pytest.raises(ValueError, match="checkpoints x users x K"):
        hetcomp.Trajectory.from_arrays(ds, good[None])
    with pytest.raises(TypeError, match="integer"):
        hetcomp.Trajectory.from_arrays(ds, good.astype(np.float32))
    with pytest.raises(TypeError, match="integer"):
        hetcomp.Trajectory.from_arrays(ds, good > 0)
    with pytest.raises(ValueError, match="int32 range"):
        hetcomp.Trajectory.from_arrays(ds, good.astype(np.int64) + 2**40)
    with pytest.raises(ValueError, match="epochs"):
        hetcomp.Trajectory.from_arrays(ds, good, epochs=[1, 2])
    with pytest.raises(hetcomp.Error, match="checkpoints"):  # K = 0
        hetcomp.Trajectory.from_arrays(ds, good[:, :, :0])


def test_trajectory_items_checked_like_the_text_import(ds):
    indptr, indices = ds.csr("train")
    top = np.full((2, ds.n_users, 5), -1, np.int32)
    bad = top.copy()
    bad[1, 3, 0] = ds.n_items
    with pytest.raises(hetcomp.Error, match="checkpoint 1, user 3, rank 0: item 300 is outside"):
        hetcomp.Trajectory.from_arrays(ds, bad)
    bad = top.copy()
    bad[0, 4, 0] = indices[indptr[4]]
    with pytest.raises(hetcomp.Error, match="user 4, rank 0: .* a train item"):
        hetcomp.Trajectory.from_arrays(ds, bad)
    with pytest.raises(KeyError, match="unknown id 'no-such-item'"):
        hetcomp.Trajectory.from_arrays(ds, np.full((1, ds.n_users, 2), "no-such-item"))
    with pytest.raises(hetcomp.Error, match="name"):
        hetcomp.Trajectory.from_arrays(ds, top, name='say "hi"')


def test_recommend_arguments(ds, model):
    with pytest.raises(TypeError, match="integer"):
        model.recommend(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="dimension"):
        model.recommend(np.zeros((2, 2), np.int32))
    with pytest.raises(hetcomp.Error):
        model.recommend([ds.n_users])
    with pytest.raises(hetcomp.Error):
        model.recommend([-1])
    with pytest.raises(hetcomp.Error):
        model.recommend([0], k=0)
    with pytest.raises(KeyError, match="unknown id 'nobody'"):
        model.recommend(["u1", "nobody"])
    with pytest.raises(ValueError, match="exclude_seen"):
        model.recommend([0], exclude_seen="maybe")
    with pytest.raises(IndexError):
        model.score([ds.n_users])
    with pytest.raises(hetcomp.Error, match="outside"):
        model.similar_items([ds.n_items])
    with pytest.raises(hetcomp.Error, match="metric"):
        model.similar_items([0], metric="l2")


def test_similar_needs_item_factors(ds):
    ae = hetcomp.train_teacher(ds, "ae", dim=8, epochs=1, eval_every=1, trajectory=False)
    assert ae.trajectory is None
    with pytest.raises(hetcomp.Error, match="no item factors"):
        ae.similar_items([0])


def test_dataset_arguments(tmp_path):
    with pytest.raises(hetcomp.Error, match="train pair 1 is .user 0, item 9"):
        hetcomp.Dataset.from_arrays(3, 4, ([0, 0], [1, 9]))
    with pytest.raises(ValueError, match="2 users but 1 items"):
        hetcomp.Dataset.from_arrays(3, 4, ([0, 1], [1]))
    with pytest.raises(TypeError, match="position 1 is float"):
        hetcomp.Dataset.from_ids(["a", 1.5], ["x", "y"])
    with pytest.raises(ValueError, match="2 ids but items has 1"):
        hetcomp.Dataset.from_ids(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="ratio, loo or temporal"):
        hetcomp.Dataset.from_ids(["a"], ["x"], method="random")
    with pytest.raises(hetcomp.Error, match="nothing-here"):
        hetcomp.Dataset.load(tmp_path / "nothing-here.hcd")
    (tmp_path / "bad.csv").write_text("u,i\na,x\nb\n")
    with pytest.raises(hetcomp.Error, match="bad.csv:3"):
        hetcomp.Dataset.from_file(tmp_path / "bad.csv")
    with pytest.raises(TypeError):
        hetcomp.Dataset("not a handle")


def test_files_refused(ds, model, tmp_path):
    (tmp_path / "junk.hcm").write_bytes(b"HCMD" + b"\0" * 40)
    with pytest.raises(hetcomp.Error, match="junk.hcm"):
        hetcomp.load(tmp_path / "junk.hcm")
    model.save(tmp_path / "m.hcm")
    other = hetcomp.Dataset.synthetic(200, 300, 5000, split_seed=1)
    with pytest.raises(hetcomp.Error) as e:
        hetcomp.load(tmp_path / "m.hcm", other)
    assert e.value.name == "HC_EMISMATCH"
    with pytest.raises(hetcomp.Error):
        hetcomp.Trajectory.load(tmp_path / "m.hcm")
    with pytest.raises(hetcomp.Error):
        hetcomp.distill(other, [model], dim=4, epochs=1)  # a trajectory of another dataset

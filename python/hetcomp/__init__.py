"""hetcomp: distillation from heterogeneous recommender models (HetComp, Kang et al., WWW 2023)
into one small matrix factorisation model, from Python.

The package is a thin layer over the C library (include/hetcomp.h; README "Python"): every
computation runs there, with the GIL released while it trains, distils, evaluates and
recommends. Index arrays go in and come out as numpy arrays without copies where the layout
allows (int32, C order); a trajectory's lists are a read-only view of the C struct.

    import hetcomp
    ds = hetcomp.Dataset.from_ids(user_ids, item_ids)          # split 60/20/20 per user
    mf = hetcomp.train_teacher(ds, "mf", dim=32, epochs=60)    # a teacher and its trajectory
    ml = hetcomp.train_teacher(ds, "ml", dim=32, epochs=60)
    student = hetcomp.distill(ds, [mf.trajectory, ml.trajectory], dim=6)
    print(hetcomp.evaluate(student, ds)["test"]["recall@50"])
    items, scores = student.recommend([0, 1, 2], k=10)

Errors of the library raise hetcomp.Error with its message (naming the file, line or
parameter); arguments of the wrong type or shape raise TypeError or ValueError, unknown ids
KeyError. Log lines go to logging.getLogger("hetcomp"). Cost: that of the C calls; the wrappers
add O(n) conversions of ids and index arrays.
"""
import atexit
import logging

import numpy as np

from . import _hetcomp as _c
from ._hetcomp import Error

__all__ = ["Dataset", "Trajectory", "Model", "Error", "train_teacher", "ensemble", "distill",
           "evaluate", "load", "families", "methods", "hyperparameters", "set_threads"]
__version__ = _c.version

# ------------------------------------------------------------------------------ logging

_log = logging.getLogger("hetcomp")
_LEVELS = {0: logging.DEBUG, 1: logging.INFO, 2: logging.WARNING}
_sink_level = None


def _emit(level, msg):
    _log.log(_LEVELS.get(level, logging.WARNING), "%s", msg)


def _sync_log():
    """Passes on only the library's lines the logger would keep, so that a quiet logger costs
    no GIL round trip per line."""
    global _sink_level
    eff = _log.getEffectiveLevel()
    want = 0 if eff <= logging.DEBUG else 1 if eff <= logging.INFO else 2 if eff <= logging.WARNING else 3
    if want != _sink_level:
        _c.set_log(_emit, want)
        _sink_level = want


atexit.register(_c.set_log, None, 3)

# ------------------------------------------------------------------------------ conversions


def _indices(x, what, ndim):
    """x as an int32 C-contiguous array of ndim dimensions: no copy when it already is one."""
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{what}: expected integer indices, got dtype {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{what}: expected {ndim} dimension(s), got shape {a.shape}")
    if a.dtype != np.int32:
        if a.size and (int(a.min()) < -2**31 or int(a.max()) >= 2**31):
            raise ValueError(f"{what}: values outside the int32 range")
        a = a.astype(np.int32)
    return np.ascontiguousarray(a)


def _is_ids(a):
    return a.dtype.kind in "USO"


def _param_text(v):
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _hp(kwargs):
    """kwargs as the library's "name=value" strings ('_' stands for '-')."""
    return [f"{k}={_param_text(v)}" for k, v in kwargs.items()]


def _split(method, valid, test, seed, min_user, min_item):
    return (str(method), float(valid), float(test), int(seed), int(min_user), int(min_item))


def _read(format, threshold, header):
    return (str(format), None if threshold is None else float(threshold),
            -1 if header is None else int(bool(header)))


_SPLIT_DOC = """
    Split options (docs/method.md section 1): method "ratio" (per user: test, then valid,
    then train), "loo" (leave one out) or "temporal" (by timestamp, latest to test); valid and
    test the ratio split's shares (0.2, 0.2); seed; users with fewer than min_user (5)
    interactions and items with fewer than min_item (0) are dropped first."""

# ------------------------------------------------------------------------------ Dataset


class Dataset:
    """A split dataset: train, valid and test interactions over one catalog of users and items,
    with the users' and items' own ids (strings). Users and items are dense 0-based indices
    everywhere else. Make one with Dataset.from_ids, from_file, import_split, from_arrays,
    synthetic or load; save writes the CLI's dataset file (hetcomp split --out)."""

    __slots__ = ("_h",)

    def __init__(self, handle):
        if not isinstance(handle, _c.DatasetHandle):
            raise TypeError("use Dataset.from_ids, from_file, import_split, from_arrays, "
                            "synthetic or load")
        self._h = handle

    @classmethod
    def from_ids(cls, users, items, timestamps=None, *, method="ratio", valid=0.2, test=0.2,
                 seed=0, min_user=5, min_item=0):
        """Interactions (users[j], items[j]) given by the caller's ids (str, bytes or int;
        ints are read as their decimal text), duplicates collapsed, then filtered and split
        as `hetcomp split` does. timestamps (int64, optional) order the temporal split.
        """
        n = len(users)
        if len(items) != n:
            raise ValueError(f"users has {n} ids but items has {len(items)}")
        ts = None if timestamps is None else np.asarray(timestamps, dtype=np.int64)
        _sync_log()
        return cls(_c.dataset_from_ids(users, items, n, ts,
                                       _split(method, valid, test, seed, min_user, min_item)))

    @classmethod
    def from_file(cls, path, *, format="auto", threshold=None, header=None, method="ratio",
                  valid=0.2, test=0.2, seed=0, min_user=5, min_item=0):
        """Interactions read from a file (README "Input formats": format auto, count, adj,
        csv or ml; threshold keeps ratings >= it; header None detects a CSV header), then
        split as `hetcomp split --data path` does."""
        _sync_log()
        return cls(_c.dataset_from_file(str(path), _read(format, threshold, header),
                                        _split(method, valid, test, seed, min_user, min_item)))

    @classmethod
    def import_split(cls, train, valid=None, test=None, *, users=None, items=None,
                     format="auto", threshold=None, header=None):
        """A split made elsewhere, as `hetcomp split --import-train ...` reads it: the three
        interaction files (valid and test optional) and optional catalogs of users and items
        (one id per line) adding ids without train interactions."""
        p = [None if x is None else str(x) for x in (train, valid, test, users, items)]
        _sync_log()
        return cls(_c.dataset_import(*p, _read(format, threshold, header)))

    @classmethod
    def load(cls, path):
        """A dataset file written by `hetcomp split` or Dataset.save (checksum checked)."""
        _sync_log()
        return cls(_c.dataset_load(str(path)))

    @classmethod
    def from_arrays(cls, n_users, n_items, train, valid=None, test=None):
        """n_users x n_items from index pairs: train, valid and test are (users, items) pairs
        of integer arrays (valid and test may be None). Ids are "0".."n-1"."""
        empty = np.zeros(0, np.int32)
        sets = []
        for name, s in (("train", train), ("valid", valid), ("test", test)):
            u, i = (empty, empty) if s is None else s
            sets += [_indices(u, name + " users", 1), _indices(i, name + " items", 1)]
        return cls(_c.dataset_from_arrays(int(n_users), int(n_items), *sets))

    @classmethod
    def synthetic(cls, users=3000, items=5000, interactions=100000, seed=0, *, method="ratio",
                  valid=0.2, test=0.2, split_seed=0, min_user=5, min_item=0):
        """The built-in synthetic data (docs/synth.md; `hetcomp synth`), split."""
        _sync_log()
        return cls(_c.dataset_synth(int(users), int(items), int(interactions), int(seed),
                                    _split(method, valid, test, split_seed, min_user, min_item)))

    def save(self, path):
        """Writes the dataset file (atomically) that the CLI's --data reads."""
        self._h.save(str(path))

    n_users = property(lambda self: self._h.n_users, doc="number of users")
    n_items = property(lambda self: self._h.n_items, doc="number of items")
    checksum = property(lambda self: self._h.checksum, doc="content checksum (names it in files)")
    method = property(lambda self: self._h.kind, doc="how it was split")
    n_eval_users = property(lambda self: self._h.n_eval_users,
                            doc="users with valid and test items (the evaluated users)")

    def csr(self, which="train"):
        """(indptr, indices) of a set ("train", "valid", "test") as read-only views:
        scipy.sparse.csr_matrix((np.ones(len(indices)), indices, indptr)) builds the matrix."""
        return self._h.csr({"train": 0, "valid": 1, "test": 2}[which])

    def user_index(self, ids):
        """Dense indices (int32) of users given by their own ids; KeyError for an unknown one."""
        return self._h.index(0, ids, len(ids), False)

    def item_index(self, ids):
        """Dense indices (int32) of items given by their own ids; KeyError for an unknown one."""
        return self._h.index(1, ids, len(ids), False)

    def user_ids(self, indices=None):
        """The users' own ids (all of them, or those of the given indices), as a list."""
        idx = np.arange(self.n_users, dtype=np.int32) if indices is None else indices
        return self._h.ids(0, _indices(idx, "users", 1))

    def item_ids(self, indices=None):
        """The items' own ids (all of them, or those of the given indices), as a list."""
        idx = np.arange(self.n_items, dtype=np.int32) if indices is None else indices
        return self._h.ids(1, _indices(np.ravel(idx), "items", 1))

    def stats(self):
        """Counts, density and activity/popularity percentiles (`hetcomp stats`)."""
        return self._h.stats()

    def __repr__(self):
        return (f"<hetcomp.Dataset {self.n_users} users x {self.n_items} items, "
                f"{self.method} split, checksum {self.checksum:016x}>")


for _m in (Dataset.from_ids, Dataset.from_file, Dataset.synthetic):
    _m.__func__.__doc__ += _SPLIT_DOC

# ------------------------------------------------------------------------------ Trajectory


class Trajectory:
    """A teacher's training trajectory (docs/method.md section 2): checkpoints x users x K
    item indices, each user's top-K unobserved items at checkpoints from early to final, best
    first, -1 padded. From hetcomp's own teachers (train_teacher), from arrays made by any
    framework (from_arrays), or from files (load, import_text)."""

    __slots__ = ("_h", "missing")

    def __init__(self, handle, missing=0):
        if not isinstance(handle, _c.TrajHandle):
            raise TypeError("use Trajectory.from_arrays, load or import_text")
        self._h = handle
        self.missing = missing

    @classmethod
    def from_arrays(cls, dataset, topk, *, name="imported", epochs=None):
        """A trajectory of a teacher trained anywhere. topk: checkpoints x users x K (or
        users x K for one checkpoint) item indices (integers; -1 pads a short list) or the
        items' own ids (strings; "" or None pads), users in dataset order. Every item must be
        in the catalog and not a train item of its user, and no list may repeat one
        (hetcomp.Error naming checkpoint, user and rank otherwise) - the checks of
        `hetcomp trajectory import`. epochs: one per checkpoint (optional). The arrays are
        copied into the trajectory once; an int32 C-order topk is read in place."""
        a = topk if isinstance(topk, np.ndarray) else np.asarray(topk)
        if a.ndim == 2:
            a = a[None]
        if a.ndim != 3:
            raise ValueError(f"topk: expected checkpoints x users x K, got shape {a.shape}")
        if _is_ids(a):
            flat = ["" if v is None else v for v in a.ravel().tolist()]
            a = dataset._h.index(1, flat, len(flat), True).reshape(a.shape)
        top = _indices(a, "topk", 3)
        ep = None if epochs is None else _indices(epochs, "epochs", 1)
        return cls(_c.traj_from_arrays(dataset._h, top, str(name), ep))

    @classmethod
    def load(cls, path, dataset=None):
        """A binary trajectory file (trajectory.hct); with dataset, one of another dataset is
        refused."""
        return cls(_c.traj_load(str(path), None if dataset is None else dataset._h))

    @classmethod
    def import_text(cls, path, dataset, *, min_coverage=0.5):
        """Text rows `checkpoint user rank item [list]` in the dataset's own ids
        (docs/formats.md section 5), as `hetcomp trajectory import` reads them; .missing is
        the most users without a list at any checkpoint."""
        _sync_log()
        h, missing = _c.traj_import_text(str(path), dataset._h, float(min_coverage))
        return cls(h, missing)

    def save(self, path):
        """Writes the binary file (HCTJ) that the CLI's --teachers reads."""
        self._h.save(str(path))

    def export_text(self, dataset, path):
        """Writes the text rows in the dataset's own ids (`hetcomp trajectory export`)."""
        self._h.export_text(dataset._h, str(path))

    name = property(lambda self: self._h.name, doc="the teacher's name")
    n_checkpoints = property(lambda self: self._h.n_ckpt, doc="number of checkpoints C")
    k = property(lambda self: self._h.k, doc="length K of each list")
    n_users = property(lambda self: self._h.n_users)
    n_items = property(lambda self: self._h.n_items)
    topk = property(lambda self: self._h.array(0),
                    doc="C x users x K item indices, -1 padded (read-only view, no copy)")
    epochs = property(lambda self: self._h.array(1), doc="epoch of each checkpoint (-1: unknown)")
    valid_r50 = property(lambda self: self._h.array(2),
                         doc="validation Recall@50 of each checkpoint (NaN: unknown)")
    observed = property(lambda self: self._h.array(3),
                        doc="C x train interactions: each user's train items in the teacher's "
                            "order (aligned with the train CSR), or None")

    def __len__(self):
        return self.n_checkpoints

    def __repr__(self):
        return (f"<hetcomp.Trajectory '{self.name}': {self.n_checkpoints} checkpoints x "
                f"{self.n_users} users x top-{self.k}>")

# ------------------------------------------------------------------------------ Model


_EXCLUDE = {True: 0, "train": 0, False: 1, "none": 1, "all": 2}


class Model:
    """A trained recommender: a teacher of one of the families or a distilled MF student. The
    model files are the CLI's (model.hcm). .dataset is the dataset it was trained or loaded
    with (None when loaded without); .trajectory a teacher's trajectory; .summary what
    training reported. A model serves one call at a time (calls from several threads wait for
    each other, without holding the GIL)."""

    __slots__ = ("_h", "dataset", "trajectory", "summary")

    def __init__(self, handle, dataset=None, trajectory=None, summary=None):
        if not isinstance(handle, _c.ModelHandle):
            raise TypeError("use hetcomp.load, train_teacher or distill")
        self._h = handle
        self.dataset = dataset
        self.trajectory = trajectory
        self.summary = summary

    @classmethod
    def load(cls, path, dataset=None):
        """A model file (teacher or student); with dataset, one trained on another dataset is
        refused (hetcomp.Error, HC_EMISMATCH)."""
        return cls(_c.model_load(str(path), None if dataset is None else dataset._h), dataset)

    def save(self, path):
        """Writes the model file (atomically) that `hetcomp recommend --model` reads."""
        self._h.save(str(path))

    family = property(lambda self: self._h.family, doc='its family ("mf" for students)')
    n_params = property(lambda self: self._h.n_params, doc="number of parameters")
    n_users = property(lambda self: self._h.n_users)
    n_items = property(lambda self: self._h.n_items)

    def _dataset(self, dataset):
        ds = dataset if dataset is not None else self.dataset
        if ds is None:
            raise ValueError("this model has no dataset: pass dataset=")
        return ds

    def _users(self, users, ds):
        a = np.asarray(users)
        if _is_ids(a):
            return ds.user_index(a.ravel().tolist()).reshape(a.shape)
        return a

    def recommend(self, users, k=10, exclude_seen=True, dataset=None):
        """Top-k items of a batch of users (indices, or the users' own ids as strings):
        (items, scores), each len(users) x k (int32 item indices, float32 scores), best first,
        -1 / -inf padded. exclude_seen: True leaves out each user's train items, False none,
        "all" every item the dataset holds for the user. A single user gives 1-d arrays.
        The GIL is released while the library scores."""
        ds = self._dataset(dataset)
        a = self._users(users, ds)
        if exclude_seen not in _EXCLUDE:
            raise ValueError("exclude_seen must be True, False or 'all'")
        scalar = np.ndim(a) == 0
        u = _indices(np.atleast_1d(a), "users", 1)
        items, scores, _ = self._h.recommend(ds._h, u, int(k), _EXCLUDE[exclude_seen])
        return (items[0], scores[0]) if scalar else (items, scores)

    def similar_items(self, items, k=10, metric="cosine"):
        """The k items most like each given item (indices, or own ids with the model's
        dataset) by "cosine" or "dot" of the item factors (mf, ml and students), the item
        itself left out, as GET /v1/similar ranks them: (items, scores), len(items) x k."""
        a = np.asarray(items)
        if _is_ids(a):
            a = self._dataset(None).item_index(a.ravel().tolist()).reshape(a.shape)
        scalar = np.ndim(a) == 0
        q = _indices(np.atleast_1d(a), "items", 1)
        top, scores = self._h.similar(q, int(k), str(metric))
        return (top[0], scores[0]) if scalar else (top, scores)

    def score(self, users):
        """Scores of users (indices) against every item: len(users) x n_items float32."""
        return self._h.score(_indices(np.atleast_1d(users), "users", 1))

    def evaluate(self, dataset=None):
        """Full-ranking Recall/NDCG@10,20,50 on valid and test (evaluate)."""
        return evaluate(self, dataset)

    def __repr__(self):
        return f"<hetcomp.Model {self.family}: {self.n_users} users x {self.n_items} items>"


def load(path, dataset=None):
    """A model file written by the CLI or Model.save (Model.load)."""
    return Model.load(path, dataset)

# ------------------------------------------------------------------------------ pipeline


def _trajectories(trajectories):
    """Trajectory handles of a list of Trajectory objects or teachers (their .trajectory)."""
    out = []
    for j, t in enumerate(trajectories):
        if isinstance(t, Model):
            t = t.trajectory
        if not isinstance(t, Trajectory):
            raise TypeError(f"trajectories[{j}] is a {type(t).__name__}, not a Trajectory")
        out.append(t._h)
    return out


def _progress(progress, what):
    """The caller's progress callable, or one logging each evaluation at INFO when the
    "hetcomp" logger would keep it (None otherwise: no GIL round trip per evaluation)."""
    if progress is not None or not _log.isEnabledFor(logging.INFO):
        return progress

    def log_eval(epoch, loss, metrics):
        _log.info("%s: epoch %d loss %.6g valid R@50 %.4f", what, epoch, loss,
                  metrics["valid"]["recall@50"])
    return log_eval


def train_teacher(dataset, family, *, progress=None, trajectory=True, **hp):
    """Trains a teacher of family on dataset (`hetcomp teacher --model family`) and returns
    the best Model, with .trajectory (its checkpoints' top-K lists, when trajectory=True) and
    .summary (epochs, best_epoch, train_s, valid and test metrics at the best evaluation).
    progress(epoch, loss, metrics) is called after each evaluation (default: a line to the
    "hetcomp" logger at INFO). Hyperparameters are keyword arguments, '_' for '-' (eval_every=5); the families and theirs follow.
    """
    _sync_log()
    h, t, summary = _c.train_teacher(dataset._h, str(family), _hp(hp),
                                     _progress(progress, family), trajectory)
    return Model(h, dataset, None if t is None else Trajectory(t), summary)


def ensemble(dataset, trajectories, *, weights=None, temperature=10.0, k=100):
    """The rank-importance ensemble of the trajectories' final checkpoints (docs/method.md
    section 3; `hetcomp ensemble`): returns (lists, metrics), lists a one-checkpoint
    Trajectory named "ensemble" of top-k lists, metrics its full-ranking evaluation.
    weights: one per trajectory (default 1 each); temperature T of exp(-rank / T)."""
    _sync_log()
    w = None if weights is None else np.asarray(weights, dtype=np.float32)
    h, res = _c.ensemble(dataset._h, _trajectories(trajectories), w, float(temperature), int(k),
                         True)
    return Trajectory(h), res


def distill(dataset, trajectories, method="hetcomp", *, progress=None, **hp):
    """Distils the teachers' trajectories into a matrix factorisation student
    (`hetcomp distill`; docs/distillation.md) and returns the best student Model, with
    .summary. trajectories: Trajectory objects or teachers (their .trajectory); "bpr" needs
    none. progress(epoch, loss, metrics) is called after each evaluation (default: a line
    to the "hetcomp" logger at INFO). Hyperparameters are keyword arguments, '_' for '-' (rest_group=128); the methods and every
    hyperparameter follow. The GIL is released while it runs.
    """
    _sync_log()
    h, summary = _c.distill(dataset._h, str(method), _trajectories(trajectories), _hp(hp),
                            _progress(progress, method))
    return Model(h, dataset, None, summary)


def evaluate(model, dataset=None):
    """Full-ranking Recall@K and NDCG@K (K = 10, 20, 50; docs/metrics.md) of model on the
    valid and test sets: {"valid": {...}, "test": {...}}, each with recall@K, ndcg@K, n_users
    and n_evaluable. The GIL is released while it runs."""
    _sync_log()
    ds = model._dataset(dataset)
    return model._h.evaluate(ds._h)


def families():
    """{name: title} of the teacher families, in the CLI's order."""
    return dict(_c.registry(0))


def methods():
    """{name: title} of the distillation methods, in the CLI's order."""
    return dict(_c.registry(1))


def hyperparameters(scope):
    """The hyperparameters of scope - a family ("mf"), "teacher" (the training loop) or
    "distill" - as dicts of name, type, lo, hi, help and default (hc_param_describe)."""
    return _c.params(str(scope))


def set_threads(n):
    """Threads for everything the library runs in parallel (OpenMP and OpenBLAS); n <= 0:
    one per core. Process-wide."""
    _c.set_threads(int(n))

# ------------------------------------------------------------------------------ docstrings


def _param_lines(scope):
    lines = []
    for p in _c.params(scope):
        rng = f" [{p['lo']:g}..{p['hi']:g}]" if p["type"] in ("int", "float", "double") else ""
        lines.append(f"        {p['name'].replace('-', '_')} ({p['type']}, default "
                     f"{p['default']}){rng}: {p['help']}")
    return lines


def _document():
    """Appends the registries to the docstrings: every family's and method's hyperparameters
    with their defaults, as the library's tables declare them."""
    doc = ["", "    Families:"]
    for name, title in _c.registry(0):
        doc += [f"      {name}: {title}"] + _param_lines(name)
    doc += ["", "    Training loop (every family):"] + _param_lines("teacher")
    train_teacher.__doc__ += "\n".join(doc) + "\n"
    doc = ["", "    Methods:"] + [f"      {n}: {t}" for n, t in _c.registry(1)]
    doc += ["", "    Hyperparameters (every method's; each reads its own):"]
    distill.__doc__ += "\n".join(doc + _param_lines("distill")) + "\n"


_document()

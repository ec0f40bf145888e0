"""test_threads.py - the GIL is released while the library works: another Python thread makes
progress during a distillation (counted between two of its progress callbacks, which run
inside the C call) and during a batch of recommendations; two threads sharing one model get
the answers one thread gets (the model's lock). No timing is asserted, only counts. A few
seconds."""
import threading

import numpy as np
import pytest

import hetcomp


@pytest.fixture(scope="module")
def ds():
    return hetcomp.Dataset.synthetic(600, 800, 20000)


@pytest.fixture(scope="module")
def teacher(ds):
    return hetcomp.train_teacher(ds, "mf", dim=16, epochs=4, eval_every=2, checkpoints=2, topk=50)


class Spinner:
    """A thread counting as fast as it can until stopped."""

    def __init__(self):
        self.ticks = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.stop.is_set():
            self.ticks += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def test_another_thread_runs_during_distillation(ds, teacher):
    seen = []
    with Spinner() as spin:
        hetcomp.distill(ds, [teacher], dim=6, epochs=20, eval_every=10,
                        progress=lambda epoch, loss, m: seen.append((epoch, spin.ticks)))
    assert len(seen) >= 3 and seen[0][0] == 0, seen
    # Between the first and the last callback only the C loop ran in this thread: with the
    # GIL held there the spinner could not have counted at all.
    assert seen[-1][1] - seen[0][1] > 10000, seen


def test_another_thread_runs_during_batch_recommendation(ds, teacher):
    users = np.arange(ds.n_users, dtype=np.int32)
    hits = []

    def recommend_many():
        for _ in range(20):
            teacher.recommend(users, k=50)
            hits.append(spin.ticks)

    with Spinner() as spin:
        worker = threading.Thread(target=recommend_many)
        worker.start()
        worker.join()
    assert hits[-1] - hits[0] > 10000, hits


def test_threads_sharing_a_model_get_the_same_answers(ds, teacher):
    users = np.arange(ds.n_users, dtype=np.int32)
    want = teacher.recommend(users, k=20)
    got, errors = [], []

    def work():
        try:
            for _ in range(5):
                got.append(teacher.recommend(users, k=20))
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(got) == 20
    for items, scores in got:
        np.testing.assert_array_equal(items, want[0])
        np.testing.assert_array_equal(scores, want[1])

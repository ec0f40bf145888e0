#!/usr/bin/env python3
"""torch_teachers.py - teachers trained in PyTorch, distilled by hetcomp.

Two small heterogeneous teachers are trained in PyTorch on hetcomp's built-in synthetic data
(docs/synth.md): a BPR matrix factorisation and a Mult-DAE (a user autoencoder with a
multinomial likelihood). At several epochs each records every user's top-100 unobserved
items, the training trajectory HetComp distils from (docs/method.md section 2); the rankings
go to hetcomp.Trajectory.from_arrays as they come out of torch.topk. hetcomp then builds
their rank-importance ensemble, distils a 6-dimensional MF student with HetComp and trains
the same student without distillation (BPR), and the script prints the test metrics of all
of them (full ranking; a teacher's row is its final top-100 list, evaluated by hetcomp).

    PYTHONPATH=build/python python3 examples/torch_teachers.py [--quick]

Needs PyTorch (Debian: python3-torch); without it the script says so and exits 77 (CTest's
"skipped"). Default size 2,000 users x 3,000 items x 60,000 interactions, about two minutes
on two cores; --quick (600 x 800 x 20,000, short runs) about twenty seconds.
"""
import argparse
import sys
import time

import numpy as np

import hetcomp

try:
    import torch
except ImportError:
    print("torch_teachers.py: PyTorch is not installed (apt-get install python3-torch); skipped")
    sys.exit(77)

K = 100


def train_mask(ds):
    """users x items bool tensor of the train interactions (masked out of every ranking)."""
    indptr, indices = ds.csr("train")
    mask = torch.zeros(ds.n_users, ds.n_items, dtype=torch.bool)
    rows = np.repeat(np.arange(ds.n_users), np.diff(indptr))
    mask[torch.from_numpy(rows), torch.from_numpy(indices.astype(np.int64))] = True
    return mask


def top_unobserved(scores, mask):
    """Every user's top-K unobserved items as int32 (users x K), -1 where a user has fewer."""
    s = scores.masked_fill(mask, float("-inf"))
    val, idx = torch.topk(s, min(K, s.shape[1]), dim=1)
    idx[torch.isinf(val)] = -1
    return idx.to(torch.int32).numpy()


class MF(torch.nn.Module):
    """BPR matrix factorisation."""

    def __init__(self, n_users, n_items, dim):
        super().__init__()
        self.p = torch.nn.Embedding(n_users, dim)
        self.q = torch.nn.Embedding(n_items, dim)
        torch.nn.init.normal_(self.p.weight, std=0.1)
        torch.nn.init.normal_(self.q.weight, std=0.1)

    def all_scores(self):
        return self.p.weight @ self.q.weight.T


class DAE(torch.nn.Module):
    """Mult-DAE: dropout on the user's row, one tanh hidden layer, softmax over the items."""

    def __init__(self, n_items, hidden):
        super().__init__()
        self.enc = torch.nn.Linear(n_items, hidden)
        self.dec = torch.nn.Linear(hidden, n_items)

    def forward(self, x):
        h = torch.nn.functional.dropout(torch.nn.functional.normalize(x), 0.5, self.training)
        return self.dec(torch.tanh(self.enc(h)))


def train_mf(ds, mask, epochs, ckpts, seed):
    torch.manual_seed(seed)
    model = MF(ds.n_users, ds.n_items, 64)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    indptr, indices = ds.csr("train")
    users = torch.from_numpy(np.repeat(np.arange(ds.n_users), np.diff(indptr)))
    items = torch.from_numpy(indices.astype(np.int64))
    tops = []
    for epoch in range(1, epochs + 1):
        model.train()
        for b in torch.randperm(len(users)).split(1024):
            u, i = users[b], items[b]
            j = torch.randint(0, ds.n_items, (len(b),))
            pu = model.p(u)
            x = (pu * model.q(i)).sum(1) - (pu * model.q(j)).sum(1)
            loss = -torch.nn.functional.logsigmoid(x).mean() + 1e-5 * pu.pow(2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch in ckpts:
            with torch.no_grad():
                tops.append(top_unobserved(model.all_scores(), mask))
    return model, np.stack(tops)


def train_dae(ds, mask, epochs, ckpts, seed):
    torch.manual_seed(seed)
    model = DAE(ds.n_items, 200)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    x = mask.float()
    tops = []
    for epoch in range(1, epochs + 1):
        model.train()
        for b in torch.randperm(ds.n_users).split(128):
            logits = model(x[b])
            loss = -(torch.log_softmax(logits, 1) * x[b]).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch in ckpts:
            model.eval()
            with torch.no_grad():
                tops.append(top_unobserved(model(x), mask))
    return model, np.stack(tops)


def checkpoints(epochs, n=4):
    """n epochs spread from early to final."""
    return sorted({max(1, round(epochs * (c + 1) / n)) for c in range(n)})


def row(name, params, m):
    t = m["test"]
    print(f"{name:<22} {params:>9}  {t['recall@10']:.4f}  {t['ndcg@10']:.4f}  "
          f"{t['recall@50']:.4f}  {t['ndcg@50']:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small data and short runs (CI)")
    args = ap.parse_args()
    size = (600, 800, 20000) if args.quick else (2000, 3000, 60000)
    epochs = (8, 12, 40) if args.quick else (40, 60, 150)  # MF, DAE, students
    ds = hetcomp.Dataset.synthetic(*size, seed=1)
    print(f"{ds}: {ds.stats()['n_train']} train interactions")
    mask = train_mask(ds)

    trajs, rows = [], []
    for name, train, ep in (("torch-mf", train_mf, epochs[0]), ("torch-dae", train_dae, epochs[1])):
        t0 = time.perf_counter()
        ck = checkpoints(ep)
        model, top = train(ds, mask, ep, ck, seed=0)
        traj = hetcomp.Trajectory.from_arrays(ds, top, name=name, epochs=ck)
        trajs.append(traj)
        # The teacher's own metrics: its final list through a one-teacher "ensemble".
        _, res = hetcomp.ensemble(ds, [traj], k=K)
        n = sum(p.numel() for p in model.parameters())
        rows.append((f"{name} (PyTorch)", n, res))
        print(f"{name}: {ep} epochs, checkpoints at {ck}, {time.perf_counter() - t0:.1f} s")

    _, ens = hetcomp.ensemble(ds, trajs, k=K)
    rows.append(("ensemble", sum(r[1] for r in rows), ens))
    kd = dict(dim=6, epochs=epochs[2], eval_every=5, lr=0.01 if args.quick else 0.005)
    students = {}
    for method in ("hetcomp", "bpr"):
        t0 = time.perf_counter()
        student = hetcomp.distill(ds, trajs if method == "hetcomp" else [], method=method, **kd)
        students[method] = student
        rows.append((f"student: {method}", student.n_params, hetcomp.evaluate(student, ds)))
        print(f"{method} student: {student.summary['epochs']} epochs, "
              f"{time.perf_counter() - t0:.1f} s")

    print(f"\n{'test (full ranking)':<22} {'params':>9}  R@10    N@10    R@50    N@50")
    for r in rows:
        row(*r)
    items, _ = students["hetcomp"].recommend(0, k=5)
    print(f"\nthe HetComp student's top-5 for user {ds.user_ids([0])[0]}:", *ds.item_ids(items))


if __name__ == "__main__":
    main()

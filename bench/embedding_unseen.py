"""Metric learning for digits never seen in training: what was tried to reach PCA's recall@1 (issue #20).

Run:  python bench/embedding_unseen.py [--draws 4] [--splits 2] [--samples-dim 2]
      [--variants NAME ...] [--grid] [--check-draws 30]

The criterion "held-out classes, dim 8: MetricLearner's defaults at least PCA's
recall@1" was not met by the trained MLP, the defaults before (bench/embedding.py).
This script measures candidate rules on the TUNING draws only (class draws of seeds 0-3, 70/30
sample splits of seeds 0-1; bench/embedding.py reports seeds 100 and up), so a
rule that passed here could be adopted before the reported run. Each row:
recall@1 of the unseen digits at dimension 8 (6 seen / 4 unseen, leave-one-out
among the unseen) and of held-out samples at dimension 2 (the win over NCA a
new rule must keep).

The candidates are experiments, not library options (but the last, the
adopted rule: ``MetricLearner()`` now uses :func:`shrunk_fisher` when
n_components > n_classes - 1); they subclass MetricLearner here:

- ``skip``: embedding = PCA projection (fixed) + an MLP residual whose output
  layer starts at zero, so training starts from PCA and the loss moves it only
  where it gains; with weight decay ``alpha`` or a lower temperature;
- ``two-phase``: the number of epochs is chosen by early stopping on two whole
  held-out training classes (optionally with a tenth of the other classes'
  samples), then the model is refitted on all the training data for that many
  epochs (0 keeps PCA);
- ``shape stress``: the loss plus lam × mean((D_e / mean D_e - D_p / mean D_p)²)
  over the batch's squared distances, D_p those of the PCA projection, so the
  embedding keeps PCA's geometry up to scale;
- ``input neighbours``: the loss plus lam × the cross-entropy between q_i·, a
  softmax of -‖x_i - x_j‖² / (row's nearest squared distance) in the input
  space, and p_i·, the softmax of -‖e_i - e_j‖² in the embedding: the embedding
  keeps each image's input-space neighbours, labels or not;
- ``PCA subspace``: e = ((x - mean) P) T + b with P the fixed first m principal
  directions (m = k unless said) and T learned (a k × k map, a scale per
  component, or a penalty toward the start), started at PCA (or whitened PCA);
- ``shrunk Fisher``: :func:`shrunk_fisher`'s closed form (PCA to m = 2k,
  within-class whitening shrunk by γ = 1, the first k directions), fixed or as
  the start of a trained linear map. ``--grid`` prints its unseen-digit recall@1
  for other m and γ.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from _common import machine, today
from losslab import metrics, models
from losslab.estimators.metric_learning import (
    MetricLearner,
    held_out_split,
    shrunk_fisher,
)


def squared_distances(a):
    n = (a * a).sum(axis=1)
    return np.maximum(n[:, None] + n[None, :] - 2 * a @ a.T, 0)


def distance_grad(G, e):
    """Gradient for e of sum_ij G_ij ‖e_i - e_j‖², G any square matrix."""
    S = G + G.T
    return 2 * (S.sum(axis=1)[:, None] * e - S @ e)


def shape_stress(e, p):
    """(value, gradient for e) of mean((D_e / mean D_e - D_p / mean D_p)²)."""
    n = len(e)
    De, Dp = squared_distances(e), squared_distances(p)
    m = De.mean()
    A = De / m
    R = A - Dp / Dp.mean()
    G = 2 * (R - (R * A).mean()) / (n * n * m)  # d value / d D_e (D_e's entries taken as free)
    return (R**2).mean(), distance_grad(G, e)


def input_neighbours(e, x):
    """(value, gradient for e) of mean_i sum_j -q_ij log p_ij (see the module docstring)."""
    n = len(e)
    Dx = squared_distances(x)
    np.fill_diagonal(Dx, np.inf)
    lq = -Dx / np.maximum(Dx.min(axis=1, keepdims=True), 1e-12)
    q = np.exp(lq - lq.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    logits = -squared_distances(e)
    np.fill_diagonal(logits, -np.inf)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    p = np.exp(shifted - log_norm)
    log_p = np.where(np.isfinite(shifted), shifted - log_norm, 0.0)
    return -(q * log_p).sum() / n, distance_grad(-(p - q) / n, e)


class Skip:
    """e = (x - mean) P + mlp(x): P the fixed PCA projection, the MLP's output layer at zero."""

    def __init__(self, mlp, P, mean):
        self.mlp, self.P, self.mean = mlp, P, mean
        self.params, self.weight_names = mlp.params, mlp.weight_names

    def __call__(self, X):
        return self.forward(X)[0]

    def forward(self, X):
        h, cache = self.mlp.forward(X)
        return h + (X - self.mean) @ self.P, cache

    def backward(self, cache, d, input_grad=True):
        return self.mlp.backward(cache, d, input_grad)


class Candidate(MetricLearner):
    """MetricLearner with a PCA skip path, an extra term, or epochs chosen on held-out classes."""

    def __init__(
        self, n_components=16, *, skip=True, term=None, lam=1.0, epochs_on=None, labels=True, **kw
    ):
        super().__init__(n_components, **{"model": "mlp", **kw})  # the trained model, not "auto"
        self.skip, self.term, self.lam, self.epochs_on = skip, term, lam, epochs_on
        self.labels = labels  # False: the extra term alone, no metric-learning loss

    def _build_model(self, X, y):
        self._P, self._mean = self._pca(X), X.mean(axis=0)
        if not self.skip:
            return super()._build_model(X, y)
        mlp = models.MLP(
            X.shape[1],
            tuple(self.hidden_layer_sizes),
            self.n_components,
            output_scale=None,
            dtype=X.dtype,
            random_state=self.random_state,
        )
        mlp.params[f"W{mlp.n_layers}"][...] = 0
        return Skip(mlp, self._P, self._mean)

    def _value_and_grads(self, Xb, yb, weights=None, *, need_grads=True):
        e, cache = self.model_.forward(Xb)
        value, dz, _ = self._batch_loss(e, yb) if self.labels else (0.0, np.zeros_like(e), None)
        if self.term is not None:
            other = (Xb - self._mean) @ self._P if self.term == "shape_stress" else Xb
            term_value, term_grad = globals()[self.term](e, other)
            value, dz = value + self.lam * term_value, dz + self.lam * term_grad
        if not need_grads:
            return value
        grads, _ = self.model_.backward(cache, dz, input_grad=False)
        for name in self.model_.weight_names if self.alpha else ():
            grads[name] += 2 * self.alpha * self.model_.params[name]
        return value, grads, None

    def fit(self, X, y):
        if self.epochs_on is None:
            return super().fit(X, y)
        self.n_features_in_, self.model_type_ = X.shape[1], self.model
        self.classes_, y = np.unique(y, return_inverse=True)
        rng = np.random.default_rng(self.random_state)
        epochs = self._epochs_on_held_out_classes(X, y, rng)
        self.model_ = self._build_model(X, y)
        max_iter, self.max_iter = self.max_iter, epochs
        try:
            self._train(X, y, X[:0], y[:0], rng)  # no held-out part: exactly `epochs`
        finally:
            self.max_iter = max_iter
        self.n_iter_ = epochs
        return self

    def _epochs_on_held_out_classes(self, X, y, rng):
        """Best epoch (0: the PCA start) of a fit stopped on two whole held-out classes."""
        n_classes = len(self.classes_)
        held = np.isin(y, rng.choice(n_classes, max(2, round(n_classes / 5)), replace=False))
        val, rest = np.flatnonzero(held), np.flatnonzero(~held)
        if self.epochs_on == "classes and samples":
            kept, tenth = held_out_split(y[rest], 0.1, rng)
            val, rest = np.sort(np.concatenate([val, rest[tenth]])), rest[kept]
        self.model_ = self._build_model(X[rest], y[rest])
        start = self._value_and_grads(X[val], y[val], need_grads=False)
        self._train(X[rest], y[rest], X[val], y[val], rng)
        losses = np.array(self.history_.val_loss, dtype=float)
        return 0 if start <= losses.min() else int(np.argmin(losses)) + 1


class PcaSubspace:
    """e = ((x - mean) P) T + b: P the fixed first m principal directions, T learned."""

    def __init__(self, P, mean, T, diagonal=False):
        self.P, self.mean, self.diagonal = P, mean, diagonal
        self.params = {"T": T.copy(), "b": np.zeros(T.shape[-1])}
        self.weight_names = ("T",)

    def __call__(self, X):
        return self.forward(X)[0]

    def forward(self, X):
        u = (X - self.mean) @ self.P
        e = u * self.params["T"] if self.diagonal else u @ self.params["T"]
        return e + self.params["b"], u

    def backward(self, u, d, input_grad=True):
        grad_T = (u * d).sum(axis=0) if self.diagonal else u.T @ d
        return {"T": grad_T, "b": d.sum(axis=0)}, None


class InSubspace(MetricLearner):
    """A map learned inside a fixed PCA subspace of m dimensions (m = n_components unless given).

    ``start``: "pca" (T the identity's first columns: training starts at PCA),
    "whitened" (PCA with each component scaled to unit variance) or "fisher"
    (:func:`shrunk_fisher` expressed in the subspace, m = 2k); ``diagonal``
    learns one scale per component; ``to_start`` adds to_start × ‖T - T₀‖².
    """

    def __init__(self, n_components=16, *, m=None, start="pca", diagonal=False, to_start=0.0, **kw):
        super().__init__(n_components, **{"model": "linear", **kw})
        self.m, self.start, self.diagonal, self.to_start = m, start, diagonal, to_start

    def _build_model(self, X, y):
        k, mean = self.n_components, X.mean(axis=0)
        m = 2 * k if self.start == "fisher" else self.m or k
        _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
        P = Vt[:m].T
        T = np.ones(k) if self.diagonal else np.eye(m)[:, :k]
        if self.start == "whitened":
            T = T / ((X - mean) @ P[:, :k]).std(axis=0)
        elif self.start == "fisher":
            T = P.T @ shrunk_fisher(X, y, k)[0]  # W lies in the span of P: W = P Pᵀ W
        self._T0 = T.copy()
        return PcaSubspace(P, mean, T, self.diagonal)

    def _value_and_grads(self, Xb, yb, weights=None, *, need_grads=True):
        out = super()._value_and_grads(Xb, yb, weights, need_grads=need_grads)
        if not need_grads or not self.to_start:
            return out
        value, grads, _ = out
        D = self.model_.params["T"] - self._T0
        grads["T"] = grads["T"] + 2 * self.to_start * D
        return value + self.to_start * float((D * D).sum()), grads, None


class Fixed:
    """A closed-form embedding: PCA whitened, or shrunk_fisher with m and γ given."""

    def __init__(self, n_components, m=None, shrinkage=None):
        self.n_components, self.m, self.shrinkage = n_components, m, shrinkage

    def fit(self, X, y):
        if self.shrinkage is None:  # whitened PCA
            self.pca_ = PCA(self.n_components, whiten=True).fit(X)
            return self
        self.W_, self.mean_ = shrunk_fisher(
            X, y, self.n_components, n_pca=self.m, shrinkage=self.shrinkage
        )
        return self

    def transform(self, X):
        if self.shrinkage is None:
            return self.pca_.transform(X)
        return (X - self.mean_) @ self.W_


InSubspace._parameter_constraints = {
    **MetricLearner._parameter_constraints,
    "m": [int, None],
    "start": [str],
    "diagonal": ["boolean"],
    "to_start": [float],
}
Candidate._parameter_constraints = {
    **MetricLearner._parameter_constraints,
    "skip": ["boolean"],
    "term": [str, None],
    "lam": [float],
    "epochs_on": [str, None],
    "labels": ["boolean"],
}

VARIANTS = {
    "MetricLearner(model='mlp'), the defaults before": lambda d, s: MetricLearner(
        d, model="mlp", random_state=s
    ),
    "PCA": lambda d, s: PCA(d, random_state=s),
    "skip": lambda d, s: Candidate(d, random_state=s),
    "skip, alpha 1e-2": lambda d, s: Candidate(d, alpha=1e-2, random_state=s),
    "skip, alpha 3e-2": lambda d, s: Candidate(d, alpha=3e-2, random_state=s),
    "skip, temperature 0.3, alpha 1e-2": lambda d, s: Candidate(
        d, temperature=0.3, alpha=1e-2, random_state=s
    ),
    "skip, epochs on 2 held-out classes": lambda d, s: Candidate(
        d, epochs_on="classes", random_state=s
    ),
    "skip, epochs on held-out classes and samples, alpha 1e-2": lambda d, s: Candidate(
        d, epochs_on="classes and samples", alpha=1e-2, random_state=s
    ),
    "skip + shape stress, lam 1": lambda d, s: Candidate(d, term="shape_stress", random_state=s),
    "skip + shape stress, lam 3": lambda d, s: Candidate(
        d, term="shape_stress", lam=3.0, random_state=s
    ),
    "skip + input neighbours, lam 1": lambda d, s: Candidate(
        d, term="input_neighbours", random_state=s
    ),
    "skip + input neighbours, lam 3": lambda d, s: Candidate(
        d, term="input_neighbours", lam=3.0, random_state=s
    ),
    "MLP (random start) + input neighbours, lam 1": lambda d, s: Candidate(
        d, skip=False, term="input_neighbours", random_state=s
    ),
    "skip, input neighbours only (no labels)": lambda d, s: Candidate(
        d, term="input_neighbours", labels=False, random_state=s
    ),
    "PCA whitened": lambda d, s: Fixed(d),
    "PCA subspace, learned k × k map": lambda d, s: InSubspace(d, random_state=s),
    "PCA subspace, learned scale per component": lambda d, s: InSubspace(
        d, diagonal=True, random_state=s
    ),
    "PCA subspace whitened, learned scale per component": lambda d, s: InSubspace(
        d, start="whitened", diagonal=True, random_state=s
    ),
    "PCA subspace, learned map, 1e-2 ‖T − T₀‖²": lambda d, s: InSubspace(
        d, to_start=1e-2, random_state=s
    ),
    "PCA-2k subspace, learned 2k → k map": lambda d, s: InSubspace(d, m=2 * d, random_state=s),
    "shrunk Fisher start, then trained (linear)": lambda d, s: InSubspace(
        d, start="fisher", random_state=s
    ),
    "shrunk Fisher (m = 2k, γ = 1), not trained": lambda d, s: Fixed(d, 2 * d, 1.0),
    "MetricLearner() defaults (the rule: shrunk Fisher above C − 1 dimensions)": lambda d, s: (
        MetricLearner(d, random_state=s)
    ),
}
DEFAULTS = "MetricLearner() defaults (the rule: shrunk Fisher above C − 1 dimensions)"
GRID = {"m": (8, 12, 16, 24, 32, 64), "shrinkage": (0.3, 1.0, 3.0, 10.0)}


def unseen_classes(X, y, make, seed, dim=8):
    seen = np.isin(y, np.random.default_rng(seed).permutation(10)[:6])
    est = make(dim, seed).fit(X[seen], y[seen])
    return metrics.recall_at_k(est.transform(X[~seen]), y[~seen], 1)


def held_out_samples(X, y, make, seed, dim=2):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    est = make(dim, seed).fit(X_tr, y_tr)
    gallery = {"gallery": est.transform(X_tr), "gallery_labels": y_tr}
    return metrics.recall_at_k(est.transform(X_te), y_te, 1, **gallery)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=4, help="class draws (seeds 0..)")
    ap.add_argument("--splits", type=int, default=2, help="70/30 sample splits (seeds 0..)")
    ap.add_argument("--samples-dim", type=int, default=2, help="dimension of the sample splits")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--grid", action="store_true", help="shrunk Fisher's m and γ, unseen digits")
    ap.add_argument(
        "--check-draws",
        type=int,
        default=0,
        help="instead: the defaults against PCA on this many other class draws (seeds 1000..)",
    )
    args = ap.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if args.grid:
        return fisher_grid(X, y, args.draws)
    if args.check_draws:
        return against_pca(X, y, args.check_draws)
    MetricLearner(2, max_iter=1).fit(X, y)  # warm-up: compile the kernels before timing
    print(f"# tuning draws only; {machine()}; {today()}\n")
    print(
        "| rule | unseen digits, dim 8, recall@1 "
        f"| held-out samples, dim {args.samples_dim}, recall@1 | seconds |"
    )
    print("|---|---|---|---|")
    for name in args.variants:
        started = time.perf_counter()
        unseen = [unseen_classes(X, y, VARIANTS[name], s) for s in range(args.draws)]
        samples = [
            held_out_samples(X, y, VARIANTS[name], s, args.samples_dim) for s in range(args.splits)
        ]
        seconds = time.perf_counter() - started
        print(
            f"| {name} | {np.mean(unseen):.4f} ± {np.std(unseen):.4f} "
            f"| {np.mean(samples):.4f} ± {np.std(samples):.4f} | {seconds:.0f} |",
            flush=True,
        )


def against_pca(X, y, draws):
    """The defaults' and PCA's unseen-digit recall@1 at dim 8 on draws neither tuned nor reported."""
    pairs = np.array(
        [
            [unseen_classes(X, y, VARIANTS[name], 1000 + s) for name in ("PCA", DEFAULTS)]
            for s in range(draws)
        ]
    )
    diff = pairs[:, 1] - pairs[:, 0]
    print(f"# class draws of seeds 1000-{999 + draws}; {machine()}; {today()}")
    print(f"PCA {pairs[:, 0].mean():.4f}, MetricLearner() defaults {pairs[:, 1].mean():.4f}")
    print(
        f"defaults - PCA: {diff.mean():+.4f} ± {diff.std(ddof=1) / np.sqrt(draws):.4f} (s.e.); "
        f"ahead on {np.sum(diff > 0)}, tied on {np.sum(diff == 0)}, behind on {np.sum(diff < 0)}"
    )


def fisher_grid(X, y, draws):
    """Unseen-digit recall@1 at dim 8 of the closed-form shrunk Fisher map for each m and γ."""
    print(f"# tuning draws only; {machine()}; {today()}\n")
    print("| m \\ γ | " + " | ".join(map(str, GRID["shrinkage"])) + " |")
    print("|---" * (1 + len(GRID["shrinkage"])) + "|")
    for m in GRID["m"]:
        row = []
        for gamma in GRID["shrinkage"]:
            make = lambda d, s, m=m, gamma=gamma: Fixed(d, m, gamma)  # noqa: E731
            row.append(np.mean([unseen_classes(X, y, make, s) for s in range(draws)]))
        print(f"| {m} | " + " | ".join(f"{r:.4f}" for r in row) + " |", flush=True)


if __name__ == "__main__":
    main()

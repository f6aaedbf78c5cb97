"""Full-batch training of the hinge losses: Newton steps on a smoothed hinge, warm-started down to the exact one.

The hinge ``max(0, z)`` has a kink, so L-BFGS (and mini-batch SGD) stalls near
the minimum of an SVM objective. Its Huber smoothing

    h_μ(z) = 0 (z ≤ 0),   z² / (2μ) (0 < z < μ),   z - μ/2 (z ≥ μ)

is differentiable, lies within μ/2 of the hinge for every margin term, and the
smoothed objective is piecewise quadratic, so Newton's method with a line
search reaches its minimum in a few steps. :func:`fit_smoothed` minimises it
for μ = 10, 1, 0.1, ... (times the margin), each stage starting where the last
one ended, down to ``MU_FINAL``: the exact objective at the last stage's
minimum is then within ``μ/2`` per margin term of the hinge's minimum, far
below any tolerance a user would ask for. The bias is not penalised, as in
every losslab solver. Works in float64 whatever the data's dtype.
Reference: Nesterov, "Smooth minimization of non-smooth functions" (2005);
Keerthi & DeCoste, "A modified finite Newton method for fast solution of large
scale linear SVMs" (JMLR 2005).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .. import losses
from ..losses._registry import Loss
from ..models import Linear
from .checks import check_X, sample_weights
from .loop import Diverged
from .objective import encode_targets
from .state import History

MU_START, MU_FACTOR, MU_FINAL = 10.0, 0.1, 1e-8
STEPS_PER_STAGE = 50


def is_hinge(loss: str | Loss) -> bool:
    """True for the losses this solver minimises: the Weston-Watkins and the binary hinge.

    Not the squared hinges (smooth: L-BFGS minimises them) nor Crammer-Singer's.

    Parameters
    ----------
    loss : str or losses.Loss
        A registry name or a Loss, with its options.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_hinge("svm"), is_hinge("hinge"), is_hinge("squared_hinge")
    (True, True, False)
    >>> is_hinge(losses.get("multiclass_hinge", kind="crammer_singer"))
    False
    """
    loss = losses.get(loss)
    if (
        loss.options.get("squared")
        or loss.options.get("kind", "weston_watkins") != "weston_watkins"
    ):
        return False
    return loss.name in ("multiclass_hinge", "hinge")


def _huber_hinge(z, mu):
    """h_μ(z), its slope and whether its curvature 1/μ applies (0 < z < μ), elementwise."""
    slope = np.clip(z / mu, 0.0, 1.0)
    value = np.where(z >= mu, z - mu / 2, 0.5 * z * slope)
    return value, slope, (z > 0) & (z < mu)


class _HingeProblem:
    """Mean (weighted) hinge loss + alpha·ΣW² of a linear model, over θ = [W; b] (D+1, K)."""

    def __init__(self, X, target, weights, multiclass, margin, alpha):
        self.Xt = np.hstack([X.astype(np.float64), np.ones((len(X), 1))])
        self.multiclass, self.margin, self.alpha = multiclass, float(margin), float(alpha)
        self.rows = np.arange(len(X))
        self.target = target if multiclass else np.where(target > 0, 1.0, -1.0).reshape(len(X), -1)
        w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=np.float64)
        per_row = 1 if multiclass else self.target.shape[1]  # the mean counts every element
        self.w = w / (w.sum() * per_row)

    def margins(self, theta):
        S = self.Xt @ theta
        if not self.multiclass:
            return self.margin - self.target * S
        Z = S - S[self.rows, self.target][:, None] + self.margin
        Z[self.rows, self.target] = -1.0  # the correct class is not compared with itself
        return Z

    def value(self, theta):
        """The exact objective (μ = 0) at θ."""
        hinge = np.maximum(self.margins(theta), 0.0).sum(axis=1)
        return float(self.w @ hinge + self.alpha * np.sum(theta[:-1] ** 2))

    def value_and_grad(self, theta, mu):
        """(objective, gradient (D+1, K), margins) of the smoothed objective at θ."""
        Z = self.margins(theta)
        h, slope, _ = _huber_hinge(Z, mu)
        D = self.w[:, None] * slope
        if self.multiclass:
            D[self.rows, self.target] = -D.sum(axis=1)
        else:
            D = -self.target * D
        G = self.Xt.T @ D
        G[:-1] += 2 * self.alpha * theta[:-1]
        value = self.w @ h.sum(axis=1) + self.alpha * np.sum(theta[:-1] ** 2)
        return float(value), G, Z

    def hessian(self, Z, mu):
        """The Hessian over θ flattened class by class (K blocks of D+1), where it exists."""
        P, K = self.Xt.shape[1], Z.shape[1]
        H = np.zeros((K * P, K * P))
        c = self.w[:, None] * _huber_hinge(Z, mu)[2] / mu
        for a, b, rows in self._pairs(c):
            Xr = self.Xt[rows]
            S = Xr.T @ (c[rows, b][:, None] * Xr)
            ia, ib = slice(a * P, (a + 1) * P), slice(b * P, (b + 1) * P)
            H[ib, ib] += S
            if a != b:  # a Weston-Watkins term z = x·(θ_b - θ_a) couples the two classes
                H[ia, ia] += S
                H[ia, ib] -= S
                H[ib, ia] -= S
        diagonal = np.arange(K * P).reshape(K, P)[:, :-1].ravel()  # W's entries, not b's
        H[diagonal, diagonal] += 2 * self.alpha
        return H

    def _pairs(self, c):
        """(class of the row, class of the term, rows) for each group of curved terms."""
        K = c.shape[1]
        for b in range(K):
            if not self.multiclass:
                yield b, b, np.flatnonzero(c[:, b])
                continue
            for a in range(K):
                rows = np.flatnonzero((self.target == a) & (c[:, b] > 0))
                if a != b and rows.size:
                    yield a, b, rows


def _newton_stage(problem, theta, mu, rtol, max_steps):
    """Damped Newton steps with a backtracking line search on the μ-smoothed objective.

    The Hessian is singular where no margin term is curved (the unpenalised
    bias, say), so the step solves (H + λI) p = -g; λ grows while the line
    search finds no descent and shrinks after a full step. Returns (θ,
    objective, steps taken, converged): converged when the predicted decrease
    falls below ``rtol`` × the objective.
    """
    value, G, Z = problem.value_and_grad(theta, mu)
    H, lam, steps = problem.hessian(Z, mu), 1e-12, 0
    scale = max(1.0, float(np.max(np.diag(H))))
    while steps < max_steps:
        g = G.T.ravel()
        p = -np.linalg.solve(H + lam * scale * np.eye(len(g)), g)
        decrease = -(g @ p)
        if not np.isfinite(decrease):
            raise Diverged(
                f"training diverged: the Newton step became {decrease}. Standardise the features."
            )
        if decrease <= 2 * rtol * max(value, 1e-300):
            return theta, value, steps, True
        P = p.reshape(theta.shape[1], theta.shape[0]).T
        t, new = _line_search(problem, theta, mu, value, decrease, P)
        if t is None:
            if lam >= 1.0:
                return theta, value, steps, True  # no descent left at float64 precision
            lam *= 1e4
            continue
        steps += 1
        lam = max(lam * 1e-2, 1e-12) if t == 1.0 else lam
        theta = theta + t * P
        value, G, Z = new
        H = problem.hessian(Z, mu)
        scale = max(1.0, float(np.max(np.diag(H))))
    return theta, value, steps, False


def _line_search(problem, theta, mu, value, decrease, P):
    """Armijo backtracking from the full step: (t, (value, G, Z) there), or (None, None)."""
    t = 1.0
    for _ in range(20):
        new = problem.value_and_grad(theta + t * P, mu)
        if new[0] <= value - 1e-4 * t * decrease:
            return t, new
        t *= 0.5
    return None, None


def fit_smoothed(
    model: Linear,
    loss: str | Loss,
    X: ArrayLike,
    y: ArrayLike,
    *,
    reg: float = 0.0,
    penalty: str = "l2",
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,  # a weight per class
    max_iter: int = 500,
    tol: float = 1e-4,
) -> History:
    r"""Minimise mean hinge loss + reg·ΣW² of a Linear model (in place); returns a History.

    .. math::

        \min_{W, b} \; \frac{1}{\sum_i w_i} \sum_i w_i \sum_{j} \max(0, z_{ij})
        + \lambda \lVert W \rVert^2

    with :math:`z_{ij}` the margin terms of the loss: :math:`\Delta + s_j - s_{y_i}`
    (:math:`j \ne y_i`) for the Weston-Watkins hinge, :math:`\Delta - t_{ij} s_{ij}`
    (:math:`t = \pm 1`) for the binary hinge, whose mean on K > 1 outputs (one
    versus the rest) also runs over the K columns. With ``reg`` = 1/(2CN) this is the
    problem of scikit-learn's ``SVC(kernel="linear", C=C)`` (whose bias is not
    penalised either).

    ``max_iter`` bounds the Newton steps of each stage (a stage that reaches
    it ends the run, not converged); a stage ends when its predicted decrease
    is below ``tol · 1e-4`` of the objective. ``n_iter_`` counts the steps of
    all stages.
    ``History.train_loss`` holds the exact objective after each stage
    (``epoch``: steps so far); ``converged`` when every stage, down to μ ≤
    ``MU_FINAL``, converged within ``max_iter`` steps.

    Parameters
    ----------
    model : models.Linear
        Updated in place; its weights are the starting point.
    loss : str or losses.Loss
        A hinge loss (:func:`is_hinge`): "svm"/"multiclass_hinge" or "hinge".
    X : array-like of shape (N, D)
        Dense features.
    y : array-like of shape (N,)
        Labels 0..C-1.
    reg : float, default 0.0
        :math:`\lambda`.
    penalty : {"l2"}
        The only penalty this solver minimises.
    sample_weight : array-like of shape (N,), optional
        :math:`w_i`.
    class_weight : array-like of shape (C,), optional
        A weight per class, multiplied into :math:`w_i`.
    max_iter : int, default 500
        The most Newton steps of each stage.
    tol : float, default 1e-4
        A stage ends when its predicted decrease is below ``tol * 1e-4`` of the objective.

    Returns
    -------
    History
        ``train_loss``: the exact objective after each stage; ``epoch``: the Newton
        steps so far; ``converged`` as above.

    Raises
    ------
    ValueError
        Not a hinge loss, or a penalty other than "l2".

    Examples
    --------
    The binary SVM of scikit-learn's ``SVC(kernel="linear", C=1.0)`` on the same
    40 rows has the weights [1.6974, -1.5288] and the bias -0.0476:

    >>> from losslab import models
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2))
    >>> y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=40) > 0).astype(int)
    >>> model = models.Linear(2, 1, random_state=0)
    >>> history = fit_smoothed(model, "hinge", X, y, reg=1 / (2 * 1.0 * 40))
    >>> model.params["W"].ravel().round(4).tolist(), model.params["b"].round(4).tolist()
    ([1.6974, -1.5288], [-0.0476])
    >>> history.converged
    True

    References
    ----------
    Nesterov, "Smooth minimization of non-smooth functions" (2005); Keerthi &
    DeCoste, "A modified finite Newton method for fast solution of large scale
    linear SVMs" (JMLR 2005); scikit-learn's ``sklearn.svm.SVC``.
    """
    loss = losses.get(loss)
    if not is_hinge(loss) or penalty != "l2":
        raise ValueError(
            f"solver: 'smoothing' takes a hinge loss with an l2 penalty, not {loss.name} "
            f"with {penalty}"
        )
    X = check_X(X, model)
    target = encode_targets(loss, y, model.n_outputs)
    weights = sample_weights(sample_weight, class_weight, target, loss, len(X))
    problem = _HingeProblem(
        X, target, weights, loss.task == "multiclass", loss.options.get("margin", 1.0), reg
    )
    theta = np.vstack([model.params["W"], model.params["b"][None]]).astype(np.float64)
    history, mu, used = History(), MU_START * problem.margin, 0
    with np.errstate(over="raise", invalid="raise"):
        try:
            while True:
                theta, _, steps, converged = _newton_stage(problem, theta, mu, tol * 1e-4, max_iter)
                used += steps
                history.train_loss.append(problem.value(theta))
                history.epoch.append(used)
                if mu <= MU_FINAL * problem.margin or not converged:
                    break
                mu *= MU_FACTOR
        except FloatingPointError as exc:
            raise Diverged(
                f"training diverged: the hinge objective overflowed ({exc}). Standardise the "
                "features (their scale overflows the scores) or raise alpha."
            ) from None
    history.step_loss = list(history.train_loss)
    history.converged = converged and mu <= MU_FINAL * problem.margin
    model.params["W"][...] = theta[:-1]
    model.params["b"][...] = theta[-1]
    return history

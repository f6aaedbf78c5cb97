"""Full-batch training of the hinge losses: Newton steps on a smoothed hinge, then the exact minimum.

The hinge ``max(0, z)`` has a kink, so L-BFGS (and mini-batch SGD) stalls near
the minimum of an SVM objective. Its Huber smoothing

    h_μ(z) = 0 (z ≤ 0),   z² / (2μ) (0 < z < μ),   z - μ/2 (z ≥ μ)

is differentiable, lies within μ/2 of the hinge for every margin term, and the
smoothed objective is piecewise quadratic: Newton's method, with a line search
that finds the exact minimum along each step (:func:`_line_minimum`), reaches
its minimum in a few steps. :func:`fit_smoothed` minimises it for μ = 10, 1,
0.1, ... (times the margin), each stage starting where the last one ended.

After each stage (and once before, when the stage is within ``tol`` of its
minimum) the terms inside the curved band (0, μ) are a guess of the terms at
zero margin at the exact hinge's minimum. Given that guess, the
minimum solves a linear system (the Karush-Kuhn-Tucker conditions, see
:func:`_exact_minimum`); when its multipliers lie in their boxes and the
duality gap they certify is below ``GAP_RTOL`` of the objective (1e-14 on
standardised features), it is the minimum, and training stops there. Where
the solution contradicts the guess, the guess is corrected and solved again,
a few times (an active-set method). Otherwise the stages go on, until a
stage's minimum certifies θ within ``tol`` of the minimum (h_μ ≤ h, so
min f_μ ≤ min f, and f(θ) − min f ≤ f(θ) − f_μ(θ) at the stage's minimum:
a 5,000 × 150, 10-class make_classification problem, seed 0, stops after 6
of 11 stages, 27 s instead of 54, 1.4e-6 above the last stage's objective) or down to ``MU_FINAL``, where the smoothed
minimum is within ``μ/2`` per margin term of the hinge's. The bias is not penalised, as in every losslab solver. Works in
float64 whatever the data's dtype.

Two inner solvers take a stage's Newton steps. Below ``NEWTON_CG_FROM``
unknowns (D+1)·K, on dense X, the Hessian is formed (one product per class)
and factorised (:func:`_newton_stage`). From there on, and always on
scipy.sparse X, Newton's system is solved by conjugate gradients on
Hessian-vector products X̃ᵀ(c ∘ ΔZ), two passes over X each, preconditioned by
H's diagonal (:func:`_newton_cg_stage`, a truncated Newton method as
liblinear's TRON): no (D+1)K-square matrix, X never densified, memory a few
θ-sized arrays. The rule was set on make_classification problems that no
benchmark uses (10 classes, 3,000 rows, class_sep=0.8, seed 3, alpha =
1/(2n)), CPU time of a whole fit, CG over the factorised Hessian: 4.4x at 510
unknowns, 2.6x at 1,010, 1.1x at 2,010; over the first five stages (to μ =
1e-3), 1.39x at 2,010 and 0.96x at 3,010. From there the factorisation's
(KP)³/3 and the KP-square Hessian (72 MB at 3,000) outgrow CG's passes over X.
The KKT finish forms the Gram matrix of the rows of the terms at zero, (m, m)
for m terms: up to ``KKT_MAX_TERMS`` of them (three m-square float64 arrays,
96 MB, and an m³ solve); with more, the stages go on down to ``MU_FINAL``.

References: Nesterov, "Smooth minimization of non-smooth functions" (2005);
Keerthi & DeCoste, "A modified finite Newton method for fast solution of large
scale linear SVMs" (JMLR 2005); Nocedal & Wright, "Numerical Optimization",
2nd ed. (2006), section 16.1 (the KKT system of an equality-constrained QP);
Lin, Weng & Keerthi, "Trust region Newton method for large-scale logistic
regression" (JMLR 2008; liblinear's TRON); Hsia, Chiang & Lin, "Preconditioned
conjugate gradient methods in truncated Newton frameworks for large-scale
linear classification" (ACML 2018).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .. import losses
from ..losses._registry import Loss
from ..models import Linear
from .checks import check_X, is_sparse, sample_weights
from .full_batch import overflow_advice
from .loop import Diverged
from .objective import encode_targets
from .state import History
from .threads import one_blas_thread

MU_START, MU_FACTOR, MU_FINAL = 10.0, 0.1, 1e-8
# rounding allowed in a KKT solution: a multiplier outside its box [0, w] (relative to w), the
# system's residual (relative to its right-hand side), a term on the wrong side of zero
KKT_TOL = 1e-9
# corrections of a KKT guess that its solution contradicts (3 fits on digits: 6 stages instead
# of 12, 888 instead of 1,534 ms of CPU; breast cancer -17%, wine -18%, iris -6%; more than 5
# found nothing more)
ACTIVE_SET_STEPS = 5
# the largest duality gap, relative to the objective, of a KKT solution taken as the minimum:
# well-scaled features give 1e-14; raw breast cancer (features up to 4,000) 1e-9 to 7e-9 by rounding
GAP_RTOL = 1e-8
# unknowns from which a Newton step solves by Cholesky rather than LU (measured: LU is faster at
# breast cancer's 62, Cholesky at digits' 650; see _solve_damped)
CHOLESKY_FROM = 256
# the largest rows × unknowns² whose Hessian is one product for all classes rather than one per
# class (K times the arithmetic in a few NumPy calls, see _hessian_in_one_product)
ONE_PRODUCT_WORK = 2**20
# unknowns (D+1)·K from which a Newton step solves by conjugate gradients on Hessian-vector
# products instead of forming the Hessian (always on sparse X); measured in the module docstring
NEWTON_CG_FROM = 3000
# a Newton step's CG: the largest residual, relative to the gradient, and the most products
CG_RTOL, CG_MAX_ITER = 0.1, 250
# the most terms at zero whose KKT system the exact finish solves: three (m, m) float64 arrays
# (96 MB at 2,000) and a dense m³ solve (about a second on one core)
KKT_MAX_TERMS = 2000


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
        Whether :func:`fit_smoothed` minimises the loss.

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
    """Mean (weighted) hinge loss + alpha·ΣW² of a linear model, over θ = [W; b] (D+1, K).

    Its margin terms form an (n, K) array: z_ij = margin + s_ij - s_iy for the
    Weston-Watkins hinge (the correct class's entry is a constant -1, never
    active), margin - t_ij·s_ij for the binary hinge. Each is affine in θ:
    z = margin + u·(θᵀx̃) with x̃ = [x, 1] and u = e_j - e_y (or -t_ij·e_j).
    """

    def __init__(self, X, target, weights, multiclass, margin, alpha):
        n = X.shape[0]
        self.sparse = is_sparse(X)
        # dense X carries its bias column; a sparse X is kept as it is (CSR), the bias added apart
        self.X = X.astype(np.float64, copy=False) if self.sparse else None
        self.Xt = None if self.sparse else np.hstack([X.astype(np.float64), np.ones((n, 1))])
        self.squares = None  # X̃ ∘ X̃, for the Hessian's diagonal (see hessian_diagonal)
        self.multiclass, self.margin, self.alpha = multiclass, float(margin), float(alpha)
        self.rows = np.arange(n)
        self.target = target if multiclass else np.where(target > 0, 1.0, -1.0).reshape(n, -1)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        per_row = 1 if multiclass else self.target.shape[1]  # the mean counts every element
        self.w = w / (w.sum() * per_row)
        # the Hessian's rows in groups: by class (the row's class couples with the term's)
        classes = range(int(target.max()) + 1 if len(target) else 0)
        self.groups = [np.flatnonzero(target == a) for a in classes] if multiclass else [self.rows]

    def margins(self, theta):
        Z = self.change(theta) + self.margin
        if self.multiclass:
            Z[self.rows, self.target] = -1.0  # the correct class is not compared with itself
        return Z

    def scores(self, P):
        """x̃ᵀP for every row (n, K): X·P_W + P_b."""
        return self.X @ P[:-1] + P[-1] if self.sparse else self.Xt @ P

    def back(self, S):
        """X̃ᵀS (D+1, K) of a per-row array S (n, K): how θ pulls on the scores, transposed."""
        if not self.sparse:
            return self.Xt.T @ S
        return np.vstack([self.X.T @ S, S.sum(axis=0)])

    def features(self, rows):
        """The given rows of X (repeats allowed; without the bias column), sparse if X is."""
        return self.X[rows] if self.sparse else self.Xt[rows, :-1]

    def change(self, P):
        """How the margins move per unit step along P (0 on the correct class's entries)."""
        S = self.scores(P)
        if not self.multiclass:
            return -self.target * S
        dZ = S - S[self.rows, self.target][:, None]
        dZ[self.rows, self.target] = 0.0
        return dZ

    def penalty(self, theta):
        return self.alpha * float(np.sum(theta[:-1] ** 2))

    def value(self, theta):
        """The exact objective (μ = 0) at θ."""
        hinge = np.maximum(self.margins(theta), 0.0).sum(axis=1)
        return float(self.w @ hinge) + self.penalty(theta)

    def score_slopes(self, slope):
        """d(mean loss)/d(scores) (n, K), given each margin term's slope dh/dz (n, K)."""
        return self.to_scores(self.w[:, None] * slope)

    def to_scores(self, T):
        """Σ_t T_t·u_t per row (n, K) of per-term values T (0 on the correct class; overwritten)."""
        if self.multiclass:
            T[self.rows, self.target] = -T.sum(axis=1)
            return T
        return -self.target * T

    def curvatures(self, Z, mu):
        """w/μ on the terms in the band (0, μ), where the smoothed hinge curves; 0 elsewhere."""
        return np.where((Z > 0) & (Z < mu), (self.w / mu)[:, None], 0.0)

    def hessian_diagonal(self, curvature):
        """H's diagonal (D+1, K), laid out as θ: X̃²ᵀ of each row's curvature on each class."""
        if self.squares is None:  # X̃ ∘ X̃, kept for the later steps
            self.squares = self.X.power(2) if self.sparse else self.Xt**2
        # a term (i, j) curves classes j and y_i by c (u = e_j - e_y): its row's sum on y_i
        per_class = curvature.copy()
        if self.multiclass:
            per_class[self.rows, self.target] = curvature.sum(axis=1)
        diagonal = (
            np.vstack([self.squares.T @ per_class, per_class.sum(axis=0)])
            if self.sparse
            else self.squares.T @ per_class
        )
        diagonal[:-1] += 2 * self.alpha
        return diagonal

    def hessian_times(self, V, curvature):
        """H·V (D+1, K) of the smoothed objective, without forming H: X̃ᵀ(c ∘ ΔZ(V))-shaped."""
        HV = self.back(self.to_scores(curvature * self.change(V)))
        HV[:-1] += 2 * self.alpha * V[:-1]
        return HV

    def value_and_grad(self, theta, mu):
        """(objective, gradient (D+1, K), margins) of the smoothed objective at θ."""
        Z = self.margins(theta)
        h, slope, _ = _huber_hinge(Z, mu)
        G = self.back(self.score_slopes(slope))
        G[:-1] += 2 * self.alpha * theta[:-1]
        value = float(self.w @ h.sum(axis=1)) + self.penalty(theta)
        return value, G, Z

    def term_vectors(self, rows, cols, K):
        """u (len(rows), K) of the given terms: z = margin + u·(θᵀx̃) (see the class docstring)."""
        U = np.zeros((len(rows), K))
        each = np.arange(len(rows))
        if self.multiclass:
            U[each, cols] = 1.0
            U[each, self.target[rows]] -= 1.0
        else:
            U[each, cols] = -self.target[rows, cols]
        return U

    def hessian(self, Z, mu):
        """The Hessian over θ flattened class by class (K blocks of D+1), where it exists.

        A curved term adds c·(u uᵀ) ⊗ (x̃ x̃ᵀ), c = w/μ. For the rows of one
        class a, one product gives every block S_ab = Σ c_ib x̃ x̃ᵀ at once.
        """
        P, K = self.Xt.shape[1], Z.shape[1]
        curved = (Z > 0) & (Z < mu)
        c = (self.w / mu)[:, None] * curved
        if len(Z) * (K * P) ** 2 <= ONE_PRODUCT_WORK:
            H = self._hessian_in_one_product(c)
        else:
            H = np.zeros((K, P, K, P))
            each = np.arange(K)
            for a, rows in enumerate(self.groups):
                rows = rows[curved[rows].any(axis=1)]
                Xr, cr = self.Xt[rows], c[rows]
                S = (Xr.T @ (cr[:, :, None] * Xr[:, None, :]).reshape(len(Xr), K * P)).reshape(
                    P, K, P
                )
                H[each, :, each, :] += S.transpose(1, 0, 2)  # S[:, b] on the (b, b) block
                if self.multiclass:  # z = x̃·(θ_b - θ_a) couples class b with the row's class a
                    H[a, :, a, :] += S.sum(axis=1)
                    H[a] -= S
                    H[:, :, a, :] -= S.transpose(1, 0, 2)
        H = H.reshape(K * P, K * P)
        diagonal = np.arange(K * P).reshape(K, P)[:, :-1].ravel()  # W's entries, not b's
        H[diagonal, diagonal] += 2 * self.alpha
        return H

    def _hessian_in_one_product(self, c):
        """:meth:`hessian`'s blocks (K, P, K, P) before the penalty, in one product for all classes.

        Every S_a (a row class's blocks) comes from one product of the rows
        spread into their class's block, [x̃ on block y_i], with c ⊗ x̃: K times
        the per-class products' arithmetic, in a few calls instead of a few per
        class, which is what costs on small problems.
        """
        n, P = self.Xt.shape
        K = c.shape[1]
        groups = len(self.groups)
        spread = np.zeros((n, groups, P))
        spread[self.rows, self.target if self.multiclass else 0] = self.Xt
        S = spread.reshape(n, -1).T @ (c[:, :, None] * self.Xt[:, None, :]).reshape(n, -1)
        S = S.reshape(groups, P, K, P)  # S[a, p, b, q] = Σ_{i: y_i = a} c_ib x̃_ip x̃_iq
        H = np.zeros((K, P, K, P))
        each = np.arange(K)
        H[each, :, each, :] += S.sum(axis=0).transpose(1, 0, 2)  # S_a[:, b] on the (b, b) block
        if self.multiclass:  # z = x̃·(θ_b - θ_a) couples class b with the row's class a
            H[each, :, each, :] += S.sum(axis=2)
            H -= S
            H -= S.transpose(2, 1, 0, 3)
        return H


def _line_minimum(problem, theta, mu, Z, P):
    """The step t > 0 that minimises the μ-smoothed objective along P, or None.

    Along the line each margin term is z + t·dz, so the objective's
    derivative is piecewise linear in t: 2α(W·P_W + t‖P_W‖²) plus, for each
    term, w·dz·clip((z + t·dz)/μ, 0, 1), which ramps at slope q = w·dz²/μ
    between the two steps where the term enters and leaves the band (0, μ).
    Sorting those steps finds the zero of the derivative exactly: one pass,
    where a backtracking search evaluates the objective again and again.
    """
    dZ = problem.change(P)
    moving = dZ != 0
    z, d = Z[moving], dZ[moving]
    w = np.broadcast_to(problem.w[:, None], Z.shape)[moving]
    q = w * d * d / mu
    enter, leave = -z / d, (mu - z) / d
    kinks = np.concatenate([np.minimum(enter, leave), np.maximum(enter, leave)])
    slopes = np.concatenate([q, -q])
    PW = P[:-1]
    start = float(w @ (d * np.clip(z / mu, 0.0, 1.0))) + 2 * problem.alpha * float(
        np.sum(theta[:-1] * PW)
    )
    behind = kinks <= 0  # ramps already under way at t = 0
    curvature = float(slopes[behind].sum()) + 2 * problem.alpha * float(np.sum(PW * PW))
    order = np.argsort(kinks[~behind])
    kinks, slopes = kinks[~behind][order], slopes[~behind][order]
    # the derivative is A[k] + B[k]·t between the kinks k-1 and k
    A = start - np.concatenate([[0.0], np.cumsum(slopes * kinks)])
    B = curvature + np.concatenate([[0.0], np.cumsum(slopes)])
    rising = A[:-1] + B[:-1] * kinks >= 0  # the derivative is >= 0 at kink k
    k = int(np.argmax(rising)) if rising.any() else len(kinks)
    return -A[k] / B[k] if B[k] > 0 else None


def _solve_damped(H, damping, g):
    """(H + damping·I)⁻¹ g for a positive semi-definite H, damping > 0.

    From ``CHOLESKY_FROM`` unknowns on, Cholesky, which does half LU's work
    (a fit on digits' 650 unknowns: 492 against 592 ms of CPU); LU takes over
    where rounding leaves the damped matrix short of positive definite. Below,
    LU's lighter call wins (iris' 15 unknowns: 6.9 against 7.4 ms a fit).
    """
    A = H.copy()
    A.flat[:: len(A) + 1] += damping
    if len(A) < CHOLESKY_FROM:
        return np.linalg.solve(A, g)
    from scipy.linalg import lapack  # here: SciPy costs `import losslab` a third of a second

    # A is symmetric, so its transpose is the same matrix in LAPACK's column order: factorised
    # in place, where handing A itself over would copy it into that order first
    factor, info = lapack.dpotrf(A.T, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        return np.linalg.solve(H + damping * np.eye(len(H)), g)  # A was overwritten
    return lapack.dpotrs(factor, g, lower=False)[0]


def _newton_stage(problem, theta, mu, rtol, max_steps):
    """Newton steps with an exact line search on the μ-smoothed objective.

    The Hessian is singular where no margin term is curved (the unpenalised
    bias, say), so the step solves (H + λI) p = -g; λ grows while a step finds
    no descent and shrinks after one that does. Returns (θ, objective, steps
    taken, converged): converged when the predicted decrease falls below
    ``rtol`` × the objective.
    """
    value, G, Z = problem.value_and_grad(theta, mu)
    H, lam, steps = problem.hessian(Z, mu), 1e-12, 0
    scale = max(1.0, float(np.max(np.diag(H))))
    while steps < max_steps:
        g = G.T.ravel()
        p = -_solve_damped(H, lam * scale, g)
        decrease = -(g @ p)
        if not np.isfinite(decrease):
            raise FloatingPointError(f"the Newton step became {decrease}")  # fit_smoothed says why
        if decrease <= 2 * rtol * max(value, 1e-300):
            return theta, value, steps, True
        P = p.reshape(theta.shape[1], theta.shape[0]).T
        t = _line_minimum(problem, theta, mu, Z, P)
        new = problem.value_and_grad(theta + t * P, mu) if t is not None and t > 0 else None
        if new is None or new[0] > value:
            if lam >= 1.0:
                return theta, value, steps, True  # no descent left at float64 precision
            lam *= 1e4
            continue
        steps += 1
        lam = max(lam * 1e-2, 1e-12)
        theta = theta + t * P
        value, G, Z = new
        H = problem.hessian(Z, mu)
        scale = max(1.0, float(np.max(np.diag(H))))
    return theta, value, steps, False


def _conjugate_gradient(hessian_times, G, diagonal, rtol, max_iter):
    """P ≈ -H⁻¹G by conjugate gradients on products H·V alone (truncated Newton).

    Preconditioned by H's diagonal (Jacobi), which evens out the features'
    scales (Hsia, Chiang & Lin 2018). Stops when the residual is below
    ``rtol``·‖G‖, after ``max_iter`` products, or along a direction of no
    curvature (rounding; the caller damps H). Every iterate is a descent
    direction, so a truncated one still serves the line search.
    """
    # in place, with one scratch array: on wide sparse X the θ-sized arithmetic, not X, is
    # most of a product's time (1,400 x 100,000 TF-IDF rows, 20 classes: 9 of 54 s in X)
    P, R, scratch = np.zeros_like(G), -G, np.empty_like(G)
    S = R / diagonal
    D, rs = S.copy(), float(np.vdot(R, S))
    stop = rtol * rtol * float(np.vdot(G, G))
    for _ in range(max_iter):
        HD = hessian_times(D)
        curvature = float(np.vdot(D, HD))
        if not curvature > 0:  # no curvature (or NaN): keep the iterate so far
            break
        step = rs / curvature
        P += np.multiply(D, step, out=scratch)
        R -= np.multiply(HD, step, out=scratch)
        if float(np.vdot(R, R)) <= stop:
            break
        np.divide(R, diagonal, out=S)
        rs, previous = float(np.vdot(R, S)), rs
        D *= rs / previous
        D += S
    return P if P.any() else -G / diagonal


def _damped_product(problem, curvature, damping):
    """V ↦ (H + damping·I)·V for the Hessian whose terms curve as ``curvature`` says."""

    def product(V):
        HV = problem.hessian_times(V, curvature)
        HV += np.multiply(V, damping)
        return HV

    return product


def _newton_cg_stage(problem, theta, mu, rtol, max_steps):
    """:func:`_newton_stage` with the Newton system solved by conjugate gradients.

    H is never formed: each product H·V costs two passes over X
    (:meth:`_HingeProblem.hessian_times`), so sparse X stays sparse and the
    memory is a few θ-sized arrays. H is damped by 1e-12 of its largest
    diagonal entry, as the dense step starts. CG stops at a residual of
    min(``CG_RTOL``, √(‖g‖/‖g₀‖))·‖g‖ (g₀: the stage's first gradient):
    loose far from the minimum, tight near it, where the predicted decrease
    -g·p decides convergence. A direction that finds no descent falls back to
    the preconditioned gradient once; when neither descends, the stage has
    converged at float64 precision.
    """
    value, G, Z = problem.value_and_grad(theta, mu)
    first, steps = np.sqrt(float(np.sum(G * G))), 0
    while steps < max_steps:
        curvature = problem.curvatures(Z, mu)
        diagonal = problem.hessian_diagonal(curvature)
        damping = 1e-12 * max(1.0, float(diagonal.max()))
        diagonal += damping
        forcing = min(CG_RTOL, np.sqrt(np.sqrt(float(np.sum(G * G))) / first)) if first else CG_RTOL
        product = _damped_product(problem, curvature, damping)
        P = _conjugate_gradient(product, G, diagonal, forcing, CG_MAX_ITER)
        decrease = -float(np.sum(G * P))
        if not np.isfinite(decrease):
            raise FloatingPointError(f"the Newton step became {decrease}")  # fit_smoothed says why
        if decrease <= 2 * rtol * max(value, 1e-300):
            return theta, value, steps, True
        for direction in (P, -G / diagonal):
            t = _line_minimum(problem, theta, mu, Z, direction)
            new = problem.value_and_grad(theta + t * direction, mu) if t and t > 0 else None
            if new is not None and new[0] <= value:
                break
        else:
            return theta, value, steps, True  # no descent left at float64 precision
        steps += 1
        theta = theta + t * direction
        value, G, Z = new
    return theta, value, steps, False


def _solve_kkt(problem, theta, active, zero):
    """(θ, multipliers) solving the KKT conditions of the exact objective for a guess of the sets.

    ``active`` (n, K): terms with z > 0 (slope w); ``zero``: terms held at
    z = 0, with a multiplier β in [0, w] each. Stationarity gives
    W = -(Xᵀ D + Σ_E β x uᵀ) / (2α), with D the scores' slopes of the active
    terms; substituting it into z_E = 0 and the bias's stationarity leaves a
    system in β and b only, of size |E| + K:

        Q β - 2α U b = 2α·margin - r,    Uᵀ β = -1ᵀD,

    where Q = (X_E X_Eᵀ) ∘ (U Uᵀ) and r = the active terms' pull on z_E. The
    Weston-Watkins objective does not change when every bias moves by the
    same amount, so a last row holds Σb where it is now.
    """
    K = theta.shape[1]
    rows, cols = np.nonzero(zero)
    U = problem.term_vectors(rows, cols, K)
    D = problem.score_slopes(active.astype(np.float64))
    XE = problem.features(rows)
    pull = problem.back(D)[:-1]  # (D, K)
    a, m, extra = 2 * problem.alpha, len(rows), int(problem.multiclass)
    M = np.zeros((m + K + extra, m + K + extra))
    gram = XE @ XE.T  # sparse X: a sparse product, densified at (m, m)
    M[:m, :m] = gram.toarray() if problem.sparse else gram
    M[:m, :m] *= U @ U.T
    M[:m, m : m + K] = -a * U
    M[m : m + K, :m] = U.T
    rhs = np.concatenate(
        [a * problem.margin - np.sum((XE @ pull) * U, axis=1), -D.sum(axis=0), [0.0] * extra]
    )
    if extra:
        M[m : m + K, -1] = M[-1, m : m + K] = 1.0
        rhs[-1] = theta[-1].sum()
    # solved for the change from (β = 0, b where it is now): where the guess leaves a direction
    # free (terms that repeat, a bias no term at zero pins), the least-squares change is the
    # smallest, so the bias stays put instead of jumping across other terms' kinks
    start = np.concatenate([np.zeros(m), theta[-1], [0.0] * extra])
    try:
        solution = start + np.linalg.solve(M, rhs - M @ start)
    except np.linalg.LinAlgError:
        solution = start + np.linalg.lstsq(M, rhs - M @ start, rcond=None)[0]
    if not np.allclose(M @ solution, rhs, rtol=0.0, atol=KKT_TOL * (1 + np.abs(rhs).max())):
        raise np.linalg.LinAlgError("the guessed sets admit no solution")
    beta = np.zeros(zero.shape)
    beta[rows, cols] = solution[:m]
    W = -(pull + XE.T @ (solution[:m, None] * U)) / a
    return np.vstack([W, solution[m : m + K]]), beta


def _exact_minimum(problem, theta, Z, mu):
    """The exact objective's minimum, from the guess that the terms in the band (0, μ) are at zero.

    The guess's KKT solution is taken when it is certified (:func:`_gap_is_small`).
    Otherwise the guess is corrected where the solution contradicts it, up to
    ``ACTIVE_SET_STEPS`` times: a term assumed on one side of zero but found on
    the other is held at zero, one held at zero whose multiplier left [0, w]
    goes to the side it pushes towards. None when no guess is certified.
    """
    w = np.broadcast_to(problem.w[:, None], Z.shape)
    weighted = w > 0  # a term of weight 0 is on neither side: it adds nothing anywhere
    zero, active = weighted & (Z > 0) & (Z < mu), weighted & (Z >= mu)
    for _ in range(1 + ACTIVE_SET_STEPS):
        if zero.sum() > min(theta.size, KKT_MAX_TERMS):  # more than unknowns: not the minimum's
            return None
        with np.errstate(all="ignore"):  # an ill-posed guess fails the checks, nothing more
            try:
                exact, beta = _solve_kkt(problem, theta, active, zero)
            except np.linalg.LinAlgError:
                return None
            Z_exact = problem.margins(exact)
            # W = -(...)/(2α): a wrong guess under a vanishing α (1e-300) can give weights whose
            # penalty overflows, a guess refused like any other that the checks below refuse
            penalty = problem.penalty(exact)
        if not (np.all(np.isfinite(Z_exact)) and np.isfinite(penalty)):
            return None
        below, above = zero & (beta < -KKT_TOL * w), zero & (beta > (1 + KKT_TOL) * w)
        if not (below.any() or above.any()) and _gap_is_small(
            problem, exact, Z_exact, w, zero, active, beta
        ):
            return exact
        tol = KKT_TOL * max(1.0, problem.margin)
        crossed = (weighted & ~zero & ~active & (Z_exact > tol)) | (active & (Z_exact < -tol))
        zero = (zero & ~below & ~above) | crossed
        active = (active & ~crossed) | above
    return None


def _gap_is_small(problem, exact, Z_exact, w, zero, active, beta):
    """Whether the KKT solution's duality gap is below ``GAP_RTOL`` of its objective.

    The solution minimises the Lagrangian L(θ) = α‖W‖² + Σ λ_t z_t(θ) with
    λ = w on the active terms, β (in [0, w]) on those held at zero, 0 elsewhere;
    w·max(0, z) ≥ λ·z makes f ≥ L everywhere, so f(θ) ≥ min f ≥ L(θ): the gap
    f(θ) - L(θ) = Σ w·max(0, z) - λ·z bounds how far θ is from the minimum. A
    wrong guess leaves terms on the wrong side of zero, and a gap of their size.
    """
    lam = np.where(active, w, np.where(zero, np.clip(beta, 0.0, w), 0.0))
    hinge = np.maximum(Z_exact, 0.0)
    gap = float(np.sum(w * hinge - lam * Z_exact))
    return gap <= GAP_RTOL * (float(np.sum(w * hinge)) + problem.penalty(exact))


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
    (``epoch``: steps so far); ``converged`` when a stage's sets gave the
    exact minimum (see :func:`_exact_minimum`), when a stage's minimum
    certifies the objective within ``tol`` of the minimum (f(θ) − f_μ(θ) ≤
    tol · f_μ(θ)), or every stage, down to μ ≤ ``MU_FINAL``, converged within
    ``max_iter`` steps. The exact finish is
    tried while at most ``KKT_MAX_TERMS`` (2,000) terms sit at zero; with more
    (weakly penalised wide data, such as text with thousands of support
    vectors) the stages go on to that certificate, or the smoothed minimum at
    ``MU_FINAL``, within ``MU_FINAL``/2 a margin term of the hinge's.

    Parameters
    ----------
    model : models.Linear
        Updated in place; its weights are the starting point.
    loss : str or losses.Loss
        A hinge loss (:func:`is_hinge`): "svm"/"multiclass_hinge" or "hinge".
    X : array-like of shape (N, D), or scipy.sparse matrix or array
        Features. Sparse X (any format; taken as CSR) is never densified: its
        Newton steps are solved by conjugate gradients (see the module's
        docstring), and with ``reg`` > 0 its columns without a stored value get
        the weights 0 (their minimum) without entering the solve.
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
        A stage ends when its predicted decrease is below ``tol * 1e-4`` of the objective,
        the run when a stage certifies the objective within ``tol`` of its minimum.

    Returns
    -------
    History
        ``train_loss``: the exact objective after each stage; ``epoch``: the Newton
        steps so far; ``converged`` as above.

    Raises
    ------
    ValueError
        Not a hinge loss, or a penalty other than "l2".
    Diverged
        The objective overflows (features far from standardised, or a penalty
        too strong to be finite): the message names the stage and what to
        change; ``model`` keeps its weights. A penalty below float64's smallest
        normal number (2.2e-308) is taken as 0.

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
    linear SVMs" (JMLR 2005); Nocedal & Wright, "Numerical Optimization", 2nd ed.
    (2006), section 16.1; scikit-learn's ``sklearn.svm.SVC``.
    """
    loss = losses.get(loss)
    if not is_hinge(loss) or penalty != "l2":
        raise ValueError(
            f"solver: 'smoothing' takes a hinge loss with an l2 penalty, not {loss.name} "
            f"with {penalty}"
        )
    X, target, weights = _checked_inputs(model, loss, X, y, sample_weight, class_weight)
    theta = np.vstack([model.params["W"], model.params["b"][None]]).astype(np.float64)
    # a subnormal strength (below 2.2e-308) has lost its precision, and its KKT weights -(...)/(2α)
    # and Newton steps overflow where α = 0's do not: it is the unpenalised problem
    reg = reg if reg >= np.finfo(np.float64).tiny else 0.0
    seen = _seen_columns(X, reg)
    if seen is not None:  # θ's rows: the seen columns' weights, then the bias
        X, theta = X[:, seen], theta[np.append(seen, len(theta) - 1)]
    problem = _HingeProblem(
        X, target, weights, loss.task == "multiclass", loss.options.get("margin", 1.0), reg
    )
    history, mu, used, exact = History(), MU_START * problem.margin, 0, None
    stage = _newton_cg_stage if problem.sparse or theta.size >= NEWTON_CG_FROM else _newton_stage
    # the factorised Newton steps alternate NumPy's products with SciPy's Cholesky, whose two
    # BLAS thread pools spin against each other (module threads): one thread is 1.4-5x faster
    with one_blas_thread(stage is _newton_stage), np.errstate(over="raise", invalid="raise"):
        try:
            while True:
                theta, smoothed, steps, converged, exact = _stage_then_exact(
                    problem, stage, theta, mu, tol, max_iter
                )
                used += steps
                theta = theta if exact is None else exact
                history.train_loss.append(problem.value(theta))
                history.epoch.append(used)
                # h_μ ≤ h, so min f_μ ≤ min f: a stage's minimum certifies f(θ) - min f ≤ f(θ) - f_μ(θ)
                certified = converged and history.train_loss[-1] - smoothed <= tol * smoothed
                if (
                    exact is not None
                    or certified
                    or mu <= MU_FINAL * problem.margin
                    or not converged
                ):
                    break
                mu *= MU_FACTOR
        except FloatingPointError as exc:
            stage_number = len(history.train_loss) + 1
            raise Diverged(
                _divergence_message(problem, theta, mu, stage_number, used, exc)
            ) from None
    history.step_loss = list(history.train_loss)
    history.converged = (
        exact is not None or certified or (converged and mu <= MU_FINAL * problem.margin)
    )
    model.params["W"][...] = 0.0 if seen is not None else theta[:-1]
    if seen is not None:
        model.params["W"][seen] = theta[:-1]
    model.params["b"][...] = theta[-1]
    return history


def _divergence_message(problem, theta, mu, stage, used, exc):
    """Where the hinge objective overflowed (the stage, μ, the steps before it) and what to change,
    judged at θ, where that stage started."""
    with np.errstate(over="ignore", invalid="ignore"):
        penalty_overflows = not np.isfinite(problem.penalty(theta))
    X = problem.X if problem.sparse else problem.Xt[:, :-1]
    weights = float(np.abs(theta[:-1]).max(initial=0.0))
    advice = overflow_advice(problem.alpha, penalty_overflows, X, weights)
    return (
        f"training diverged in stage {stage} of the smoothing solver (μ = {mu:.3g}; {used} "
        f"Newton steps in the stages before it): the hinge objective overflowed ({exc}). {advice}"
    )


def _stage_then_exact(problem, stage, theta, mu, tol, max_iter):
    """One stage's Newton steps at μ, with the exact finish tried on the way.

    The finish is first tried once the predicted decrease is below ``tol`` of
    the objective: its KKT solution is certified or refused on its own
    (:func:`_exact_minimum`), so a stage need not be converged further for
    it, and it often succeeds there (iris, wine, breast cancer, digits, 5
    splits each: 10-20% fewer steps, the same minima to 1e-14). Otherwise the
    stage goes on to ``tol``·1e-4, and the finish is tried again. Returns
    (θ, smoothed objective, steps, converged, exact minimum or None).
    """
    steps, exact = 0, None
    for rtol in (tol, tol * 1e-4):
        theta, smoothed, taken, converged = stage(problem, theta, mu, rtol, max_iter - steps)
        steps += taken
        if converged and problem.alpha > 0:
            exact = _exact_minimum(problem, theta, problem.margins(theta), mu)
        if exact is not None or not converged:
            break
    return theta, smoothed, steps, converged, exact


def _checked_inputs(
    model, loss, X, y, sample_weight, class_weight
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(X, encoded targets, row weights) of a hinge solver's fit (this one's and dual_cd's)."""
    X = check_X(X, model)
    target = encode_targets(loss, y, model.n_outputs)
    return X, target, sample_weights(sample_weight, class_weight, target, loss, X.shape[0])


def _seen_columns(X, alpha):
    """The columns of a sparse X that hold a stored value, or None to keep every column.

    A column without one enters the objective through the penalty alone, so
    with alpha > 0 its weights' minimum is 0 and the rest is solved without
    it: on text most of a large vocabulary is absent from a sample (29% of the
    100,000 words of bench/sparse_text.py appear in its 1,400 training rows at
    --rows 2000), and every CG product passes over θ-sized arrays.
    """
    if not is_sparse(X) or alpha <= 0:
        return None
    seen = np.bincount(X.indices, minlength=X.shape[1]) > 0
    return None if seen.all() else np.flatnonzero(seen)

r"""The Moré-Garbow-Hillstrom test set: 35 sums of squares with analytic Jacobians.

Every function of J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing
unconstrained optimization software", ACM TOMS 7 (1981) 17-41, is a sum of
squares :math:`\sum_i f_i(x)^2`; here each is a residual function ``f(x)`` and its
Jacobian, numbered as in the paper, at the sizes (n, m) MINPACK's least-squares
test driver uses (others: n = 10, or as noted). :func:`cases` gives every problem
from the paper's x0 and from 10·x0 and 100·x0 (MINPACK's driver: from 10 and 100
in every component where x0 = 0), leaving out starts where the sum of squares
overflows. ``losslab.lsq`` solvers minimise ½Σf², half the paper's f.
Used by the tests (against SciPy's MINPACK) and by ``bench/lsq.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

STARTS = (1.0, 10.0, 100.0)


@dataclass(frozen=True)
class MGHProblem:
    """One problem: ``residual(x) -> (m,)``, ``jac(x) -> (m, n)`` and the paper's x0.

    Attributes
    ----------
    number : int
        The problem's number in the paper (1 to 35).
    name : str
        Its name; :func:`cases` appends the start, e.g. "MGH 1 Rosenbrock, 10·x0".
    residual : callable
        ``residual(x) -> np.ndarray of shape (m,)``, the f_i of the paper.
    jac : callable
        ``jac(x) -> np.ndarray of shape (m, n)``, the analytic Jacobian.
    x0 : np.ndarray of shape (n,)
        The start.

    Examples
    --------
    >>> rosenbrock = cases()[0]
    >>> rosenbrock.name, rosenbrock.size
    ('MGH 1 Rosenbrock, x0', (2, 2))
    >>> rosenbrock.residual(rosenbrock.x0).round(4).tolist()
    [-4.4, 2.2]
    >>> rosenbrock.start(10).tolist()
    [-12.0, 10.0]

    References
    ----------
    J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing unconstrained
    optimization software", ACM TOMS 7 (1981) 17-41.
    """

    number: int  # in the paper
    name: str
    residual: Callable[[np.ndarray], np.ndarray]
    jac: Callable[[np.ndarray], np.ndarray]
    x0: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        """``(n, m)``: the number of unknowns and of residuals."""
        return self.x0.size, self.residual(self.x0).size

    def start(self, factor: float) -> np.ndarray:
        """factor·x0, or factor in every component when x0 = 0 (MINPACK's driver)."""
        if factor == 1 or np.any(self.x0):
            return factor * self.x0
        return np.full_like(self.x0, factor)


def _rosenbrock():
    def f(x):
        return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])

    def jac(x):
        return np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])

    return MGHProblem(1, "Rosenbrock", f, jac, np.array([-1.2, 1.0]))


def _freudenstein_roth():
    def f(x):
        a, b = x
        return np.array([-13 + a + ((5 - b) * b - 2) * b, -29 + a + ((b + 1) * b - 14) * b])

    def jac(x):
        b = x[1]
        return np.array([[1.0, -3 * b**2 + 10 * b - 2], [1.0, 3 * b**2 + 2 * b - 14]])

    return MGHProblem(2, "Freudenstein and Roth", f, jac, np.array([0.5, -2.0]))


def _powell_badly_scaled():
    def f(x):
        return np.array([1e4 * x[0] * x[1] - 1, np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])

    def jac(x):
        return np.array([[1e4 * x[1], 1e4 * x[0]], [-np.exp(-x[0]), -np.exp(-x[1])]])

    return MGHProblem(3, "Powell badly scaled", f, jac, np.array([0.0, 1.0]))


def _brown_badly_scaled():
    def f(x):
        return np.array([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2])

    def jac(x):
        return np.array([[1.0, 0.0], [0.0, 1.0], [x[1], x[0]]])

    return MGHProblem(4, "Brown badly scaled", f, jac, np.array([1.0, 1.0]))


def _beale():
    y = np.array([1.5, 2.25, 2.625])
    i = np.arange(1, 4)

    def f(x):
        return y - x[0] * (1 - x[1] ** i)

    def jac(x):
        return np.stack([-(1 - x[1] ** i), x[0] * i * x[1] ** (i - 1)], axis=1)

    return MGHProblem(5, "Beale", f, jac, np.array([1.0, 1.0]))


def _jennrich_sampson(m=10):
    i = np.arange(1, m + 1, dtype=float)

    def f(x):
        return 2 + 2 * i - (np.exp(i * x[0]) + np.exp(i * x[1]))

    def jac(x):
        return np.stack([-i * np.exp(i * x[0]), -i * np.exp(i * x[1])], axis=1)

    return MGHProblem(6, "Jennrich and Sampson", f, jac, np.array([0.3, 0.4]))


def _helical_valley():
    def theta(x):
        if x[0] == 0:
            return 0.25 if x[1] >= 0 else -0.25
        return np.arctan(x[1] / x[0]) / (2 * np.pi) + (0.5 if x[0] < 0 else 0.0)

    def f(x):
        return np.array([10 * (x[2] - 10 * theta(x)), 10 * (np.hypot(x[0], x[1]) - 1), x[2]])

    def jac(x):
        rho2 = x[0] ** 2 + x[1] ** 2
        rho = np.sqrt(rho2)
        d1, d2 = -x[1] / (2 * np.pi * rho2), x[0] / (2 * np.pi * rho2)
        return np.array(
            [[-100 * d1, -100 * d2, 10.0], [10 * x[0] / rho, 10 * x[1] / rho, 0.0], [0, 0, 1.0]]
        )

    return MGHProblem(7, "Helical valley", f, jac, np.array([-1.0, 0.0, 0.0]))


def _bard():
    y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39])  # fmt: skip
    u = np.arange(1, 16, dtype=float)
    v = 16 - u
    w = np.minimum(u, v)

    def f(x):
        return y - (x[0] + u / (v * x[1] + w * x[2]))

    def jac(x):
        den2 = (v * x[1] + w * x[2]) ** 2
        return np.stack([-np.ones_like(u), u * v / den2, u * w / den2], axis=1)

    return MGHProblem(8, "Bard", f, jac, np.array([1.0, 1.0, 1.0]))


def _gaussian():
    y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989, 0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009])  # fmt: skip
    t = (8 - np.arange(1, 16)) / 2

    def f(x):
        return x[0] * np.exp(-x[1] * (t - x[2]) ** 2 / 2) - y

    def jac(x):
        e = np.exp(-x[1] * (t - x[2]) ** 2 / 2)
        return np.stack([e, -x[0] * e * (t - x[2]) ** 2 / 2, x[0] * e * x[1] * (t - x[2])], axis=1)

    return MGHProblem(9, "Gaussian", f, jac, np.array([0.4, 1.0, 0.0]))


def _meyer():
    y = np.array([34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744, 8261, 7030, 6005, 5147, 4427, 3820, 3307, 2872.0])  # fmt: skip
    t = 45 + 5 * np.arange(1, 17, dtype=float)

    def f(x):
        with np.errstate(over="ignore"):
            return x[0] * np.exp(x[1] / (t + x[2])) - y

    def jac(x):
        with np.errstate(over="ignore"):
            e = np.exp(x[1] / (t + x[2]))
        return np.stack([e, x[0] * e / (t + x[2]), -x[0] * e * x[1] / (t + x[2]) ** 2], axis=1)

    return MGHProblem(10, "Meyer", f, jac, np.array([0.02, 4000.0, 250.0]))


def _gulf(m=99):
    t = np.arange(1, m + 1) / 100
    y = 25 + (-50 * np.log(t)) ** (2 / 3)

    def parts(x):
        a = np.abs(y - x[1])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            p = a ** x[2]
            e = np.exp(-p / x[0])
        return a, p, e

    def f(x):
        return parts(x)[2] - t

    def jac(x):
        a, p, e = parts(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            d2 = np.where(a > 0, e * x[2] * a ** (x[2] - 1) * np.sign(y - x[1]) / x[0], 0.0)
            d3 = np.where(a > 0, -e * p * np.log(np.where(a > 0, a, 1.0)) / x[0], 0.0)
        return np.stack([e * p / x[0] ** 2, d2, d3], axis=1)

    return MGHProblem(11, "Gulf research and development", f, jac, np.array([5.0, 2.5, 0.15]))


def _box_3d(m=10):
    t = 0.1 * np.arange(1, m + 1)
    c = np.exp(-t) - np.exp(-10 * t)

    def f(x):
        with np.errstate(over="ignore"):
            return np.exp(-t * x[0]) - np.exp(-t * x[1]) - x[2] * c

    def jac(x):
        with np.errstate(over="ignore"):
            return np.stack([-t * np.exp(-t * x[0]), t * np.exp(-t * x[1]), -c], axis=1)

    return MGHProblem(12, "Box three-dimensional", f, jac, np.array([0.0, 10.0, 20.0]))


def _powell_singular_blocks(x):
    """The residuals and Jacobian of Powell's singular function, block by block of four."""
    a, b, c, d = (x[k::4] for k in range(4))
    s5, s10 = np.sqrt(5), np.sqrt(10)
    r = np.stack([a + 10 * b, s5 * (c - d), (b - 2 * c) ** 2, s10 * (a - d) ** 2], axis=1).ravel()
    J = np.zeros((x.size, x.size))
    for k in range(0, x.size, 4):
        u, w = 2 * (x[k + 1] - 2 * x[k + 2]), 2 * s10 * (x[k] - x[k + 3])
        J[k, k : k + 2] = 1, 10
        J[k + 1, k + 2 : k + 4] = s5, -s5
        J[k + 2, k + 1 : k + 3] = u, -2 * u
        J[k + 3, [k, k + 3]] = w, -w
    return r, J


def _powell_singular():
    return MGHProblem(
        13,
        "Powell singular",
        lambda x: _powell_singular_blocks(x)[0],
        lambda x: _powell_singular_blocks(x)[1],
        np.array([3.0, -1.0, 0.0, 1.0]),
    )


def _wood():
    s90, s10 = np.sqrt(90), np.sqrt(10)

    def f(x):
        a, b, c, d = x
        return np.array(
            [10 * (b - a**2), 1 - a, s90 * (d - c**2), 1 - c, s10 * (b + d - 2), (b - d) / s10]
        )

    def jac(x):
        a, _, c, _ = x
        return np.array(
            [
                [-20 * a, 10, 0, 0],
                [-1, 0, 0, 0],
                [0, 0, -2 * s90 * c, s90],
                [0, 0, -1, 0],
                [0, s10, 0, s10],
                [0, 1 / s10, 0, -1 / s10],
            ],
            dtype=float,
        )

    return MGHProblem(14, "Wood", f, jac, np.array([-3.0, -1.0, -3.0, -1.0]))


def _kowalik_osborne():
    y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246])  # fmt: skip
    u = np.array([4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])

    def f(x):
        return y - x[0] * u * (u + x[1]) / (u * (u + x[2]) + x[3])

    def jac(x):
        num, den = u * (u + x[1]), u * (u + x[2]) + x[3]
        return np.stack(
            [-num / den, -x[0] * u / den, x[0] * num * u / den**2, x[0] * num / den**2], axis=1
        )

    return MGHProblem(15, "Kowalik and Osborne", f, jac, np.array([0.25, 0.39, 0.415, 0.39]))


def _brown_dennis(m=20):
    t = np.arange(1, m + 1) / 5

    def parts(x):
        return x[0] + t * x[1] - np.exp(t), x[2] + x[3] * np.sin(t) - np.cos(t)

    def f(x):
        a, b = parts(x)
        return a**2 + b**2

    def jac(x):
        a, b = parts(x)
        return np.stack([2 * a, 2 * a * t, 2 * b, 2 * b * np.sin(t)], axis=1)

    return MGHProblem(16, "Brown and Dennis", f, jac, np.array([25.0, 5.0, -5.0, -1.0]))


def _osborne_1():
    y = np.array([0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406])  # fmt: skip
    t = 10.0 * np.arange(33)

    def f(x):
        with np.errstate(over="ignore", invalid="ignore"):
            return y - (x[0] + x[1] * np.exp(-t * x[3]) + x[2] * np.exp(-t * x[4]))

    def jac(x):
        with np.errstate(over="ignore", invalid="ignore"):
            e4, e5 = np.exp(-t * x[3]), np.exp(-t * x[4])
            return np.stack([-np.ones_like(t), -e4, -e5, x[1] * t * e4, x[2] * t * e5], axis=1)

    return MGHProblem(17, "Osborne 1", f, jac, np.array([0.5, 1.5, -1.0, 0.01, 0.02]))


def _biggs_exp6(m=13):
    t = 0.1 * np.arange(1, m + 1)
    y = np.exp(-t) - 5 * np.exp(-10 * t) + 3 * np.exp(-4 * t)

    def f(x):
        with np.errstate(over="ignore", invalid="ignore"):
            e1, e2, e5 = np.exp(-t * x[0]), np.exp(-t * x[1]), np.exp(-t * x[4])
            return x[2] * e1 - x[3] * e2 + x[5] * e5 - y

    def jac(x):
        with np.errstate(over="ignore", invalid="ignore"):
            e1, e2, e5 = np.exp(-t * x[0]), np.exp(-t * x[1]), np.exp(-t * x[4])
            return np.stack([-t * x[2] * e1, t * x[3] * e2, e1, -e2, -t * x[5] * e5, e5], axis=1)

    return MGHProblem(18, "Biggs EXP6", f, jac, np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0]))


def _osborne_2():
    y = np.array([1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608, 0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661, 0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428, 0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559, 0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054])  # fmt: skip
    t = np.arange(65) / 10

    def terms(x):
        with np.errstate(over="ignore", invalid="ignore"):
            bumps = [np.exp(-((t - x[8 + k]) ** 2) * x[5 + k]) for k in range(3)]
            return np.exp(-t * x[4]), bumps

    def f(x):
        e1, bumps = terms(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return y - (x[0] * e1 + sum(x[1 + k] * bumps[k] for k in range(3)))

    def jac(x):
        e1, bumps = terms(x)
        J = np.empty((t.size, 11))
        with np.errstate(over="ignore", invalid="ignore"):
            J[:, 0], J[:, 4] = -e1, x[0] * t * e1
            for k, e in enumerate(bumps):
                u = t - x[8 + k]
                J[:, 1 + k] = -e
                J[:, 5 + k] = x[1 + k] * u**2 * e
                J[:, 8 + k] = -x[1 + k] * e * 2 * x[5 + k] * u
        return J

    x0 = np.array([1.3, 0.65, 0.65, 0.7, 0.6, 3, 5, 7, 2, 4.5, 5.5])
    return MGHProblem(19, "Osborne 2", f, jac, x0)


def _watson(n):
    t = np.arange(1, 30) / 29
    powers = t[:, None] ** np.arange(n)  # t^(j-1), j = 1..n

    def f(x):
        s1 = powers[:, : n - 1] @ (np.arange(1, n) * x[1:])
        s2 = powers @ x
        return np.concatenate([s1 - s2**2 - 1, [x[0], x[1] - x[0] ** 2 - 1]])

    def jac(x):
        s2 = powers @ x
        J = np.zeros((31, n))
        J[:29, 1:] = np.arange(1, n) * powers[:, : n - 1]
        J[:29] -= 2 * s2[:, None] * powers
        J[29, 0] = 1.0
        J[30, :2] = -2 * x[0], 1.0
        return J

    return MGHProblem(20, f"Watson n={n}", f, jac, np.zeros(n))


def _extended_rosenbrock(n=10):
    def f(x):
        return np.stack([10 * (x[1::2] - x[::2] ** 2), 1 - x[::2]], axis=1).ravel()

    def jac(x):
        J = np.zeros((n, n))
        k = np.arange(0, n, 2)
        J[k, k], J[k, k + 1], J[k + 1, k] = -20 * x[k], 10.0, -1.0
        return J

    return MGHProblem(21, f"Extended Rosenbrock n={n}", f, jac, np.tile([-1.2, 1.0], n // 2))


def _extended_powell_singular(n=12):
    return MGHProblem(
        22,
        f"Extended Powell singular n={n}",
        lambda x: _powell_singular_blocks(x)[0],
        lambda x: _powell_singular_blocks(x)[1],
        np.tile([3.0, -1.0, 0.0, 1.0], n // 4),
    )


def _penalty_1(n=10):
    root_a = np.sqrt(1e-5)

    def f(x):
        return np.concatenate([root_a * (x - 1), [x @ x - 0.25]])

    def jac(x):
        return np.vstack([root_a * np.eye(n), 2 * x])

    return MGHProblem(23, f"Penalty I n={n}", f, jac, np.arange(1.0, n + 1))


def _penalty_2(n=10):
    root_a = np.sqrt(1e-5)
    i = np.arange(2, n + 1)
    y = np.exp(i / 10) + np.exp((i - 1) / 10)
    weights = np.arange(n, 0, -1)

    def f(x):
        e = np.exp(x / 10)
        return np.concatenate(
            [
                [x[0] - 0.2],
                root_a * (e[1:] + e[:-1] - y),
                root_a * (e[1:] - np.exp(-0.1)),
                [weights @ x**2 - 1],
            ]
        )

    def jac(x):
        de = np.exp(x / 10) / 10
        J = np.zeros((2 * n, n))
        J[0, 0] = 1.0
        k = np.arange(n - 1)
        J[1 + k, k + 1], J[1 + k, k] = root_a * de[1:], root_a * de[:-1]
        J[n + k, k + 1] = root_a * de[1:]
        J[2 * n - 1] = 2 * weights * x
        return J

    return MGHProblem(24, f"Penalty II n={n}", f, jac, np.full(n, 0.5))


def _variably_dimensioned(n=10):
    j = np.arange(1, n + 1)

    def f(x):
        s = j @ (x - 1)
        return np.concatenate([x - 1, [s, s**2]])

    def jac(x):
        s = j @ (x - 1)
        return np.vstack([np.eye(n), j, 2 * s * j])

    return MGHProblem(25, f"Variably dimensioned n={n}", f, jac, 1 - j / n)


def _trigonometric(n=10):
    i = np.arange(1, n + 1)

    def f(x):
        return n - np.cos(x).sum() + i * (1 - np.cos(x)) - np.sin(x)

    def jac(x):
        return np.tile(np.sin(x), (n, 1)) + np.diag(i * np.sin(x) - np.cos(x))

    return MGHProblem(26, f"Trigonometric n={n}", f, jac, np.full(n, 1 / n))


def _brown_almost_linear(n):
    def f(x):
        with np.errstate(over="ignore", invalid="ignore"):
            return np.concatenate([x[:-1] + x.sum() - (n + 1), [np.prod(x) - 1]])

    def jac(x):
        J = np.eye(n) + 1.0
        others = [np.prod(np.delete(x, k)) for k in range(n)]  # exact also where some x_k = 0
        J[-1] = others
        return J

    return MGHProblem(27, f"Brown almost-linear n={n}", f, jac, np.full(n, 0.5))


def _boundary_value(n=10):
    h = 1 / (n + 1)
    t = np.arange(1, n + 1) * h

    def f(x):
        padded = np.concatenate([[0.0], x, [0.0]])
        return 2 * x - padded[:-2] - padded[2:] + h**2 * (x + t + 1) ** 3 / 2

    def jac(x):
        J = np.diag(2 + 1.5 * h**2 * (x + t + 1) ** 2)
        k = np.arange(n - 1)
        J[k, k + 1] = J[k + 1, k] = -1.0
        return J

    return MGHProblem(28, f"Discrete boundary value n={n}", f, jac, t * (t - 1))


def _integral_equation(n=10):
    h = 1 / (n + 1)
    t = np.arange(1, n + 1) * h
    lower = np.tril(np.ones((n, n)))  # j ≤ i
    kernel = lower * np.outer(1 - t, t) + (1 - lower) * np.outer(t, 1 - t)

    def f(x):
        return x + h / 2 * kernel @ (x + t + 1) ** 3

    def jac(x):
        return np.eye(n) + h / 2 * kernel * 3 * (x + t + 1) ** 2

    return MGHProblem(29, f"Discrete integral equation n={n}", f, jac, t * (t - 1))


def _broyden_tridiagonal(n=10):
    def f(x):
        padded = np.concatenate([[0.0], x, [0.0]])
        return (3 - 2 * x) * x - padded[:-2] - 2 * padded[2:] + 1

    def jac(x):
        J = np.diag(3 - 4 * x)
        k = np.arange(n - 1)
        J[k + 1, k], J[k, k + 1] = -1.0, -2.0
        return J

    return MGHProblem(30, f"Broyden tridiagonal n={n}", f, jac, np.full(n, -1.0))


def _broyden_banded(n=10, below=5, above=1):
    i, j = np.indices((n, n))
    band = (j != i) & (j >= i - below) & (j <= i + above)

    def f(x):
        return x * (2 + 5 * x**2) + 1 - band @ (x * (1 + x))

    def jac(x):
        return np.diag(2 + 15 * x**2) - band * (1 + 2 * x)

    return MGHProblem(31, f"Broyden banded n={n}", f, jac, np.full(n, -1.0))


def _linear_full_rank(n, m):
    A = np.eye(m, n) - 2 / m

    return MGHProblem(
        32, f"Linear function, full rank n={n} m={m}", lambda x: A @ x - 1, lambda x: A, np.ones(n)
    )


def _linear_rank_1(n, m):
    A = np.outer(np.arange(1, m + 1), np.arange(1, n + 1)).astype(float)

    return MGHProblem(
        33, f"Linear function, rank 1 n={n} m={m}", lambda x: A @ x - 1, lambda x: A, np.ones(n)
    )


def _linear_rank_1_zero(n, m):
    A = np.outer(np.arange(m), np.arange(1, n + 1)).astype(float)
    A[:, [0, -1]] = 0.0
    A[-1] = 0.0
    name = f"Linear function, rank 1 with zero columns and rows n={n} m={m}"
    return MGHProblem(34, name, lambda x: A @ x - 1, lambda x: A, np.ones(n))


def _chebyquad(n, m):
    i = np.arange(1, m + 1)
    integral = np.zeros(m)
    even = i % 2 == 0
    integral[even] = -1 / (i[even].astype(float) ** 2 - 1)  # ∫₀¹ T_i(2x - 1) dx

    def polynomials(x):
        """T_i(2x - 1) and its x-derivative for i = 1..m, one row per i."""
        y = 2 * x - 1
        T, dT = [np.ones_like(y), y], [np.zeros_like(y), 2 * np.ones_like(y)]
        for _ in range(2, m + 1):
            T.append(2 * y * T[-1] - T[-2])
            dT.append(4 * T[-2] + 2 * y * dT[-1] - dT[-2])
        return np.array(T[1 : m + 1]), np.array(dT[1 : m + 1])

    def f(x):
        return polynomials(x)[0].mean(axis=1) - integral

    def jac(x):
        return polynomials(x)[1] / n

    return MGHProblem(35, f"Chebyquad n={n} m={m}", f, jac, np.arange(1, n + 1) / (n + 1))


PROBLEMS = [
    _rosenbrock(),
    _freudenstein_roth(),
    _powell_badly_scaled(),
    _brown_badly_scaled(),
    _beale(),
    _jennrich_sampson(),
    _helical_valley(),
    _bard(),
    _gaussian(),
    _meyer(),
    _gulf(),
    _box_3d(),
    _powell_singular(),
    _wood(),
    _kowalik_osborne(),
    _brown_dennis(),
    _osborne_1(),
    _biggs_exp6(),
    _osborne_2(),
    *(_watson(n) for n in (6, 9, 12)),
    _extended_rosenbrock(),
    _extended_powell_singular(),
    _penalty_1(),
    _penalty_2(),
    _variably_dimensioned(),
    _trigonometric(),
    *(_brown_almost_linear(n) for n in (10, 30, 40)),
    _boundary_value(),
    _integral_equation(),
    _broyden_tridiagonal(),
    _broyden_banded(),
    *(_linear_full_rank(5, m) for m in (10, 50)),
    *(_linear_rank_1(5, m) for m in (10, 50)),
    *(_linear_rank_1_zero(5, m) for m in (10, 50)),
    *(_chebyquad(n, m) for n, m in ((1, 8), (8, 8), (9, 9), (10, 10))),
]


def cases() -> list[MGHProblem]:
    """Every problem from x0, 10·x0 and 100·x0, named "MGH 4 Brown badly scaled, 10·x0".

    A start is left out where the sum of squares is not finite (an exponential
    overflows) or where it repeats the previous one.

    Returns
    -------
    list of MGHProblem
        One problem per usable start, in the paper's order.

    Examples
    --------
    >>> problems = cases()
    >>> [p.name for p in problems[:3]]
    ['MGH 1 Rosenbrock, x0', 'MGH 1 Rosenbrock, 10·x0', 'MGH 1 Rosenbrock, 100·x0']
    >>> all(p.jac(p.x0).shape == (p.size[1], p.size[0]) for p in problems)
    True

    References
    ----------
    J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing unconstrained
    optimization software", ACM TOMS 7 (1981) 17-41; MINPACK's test driver.
    """
    out = []
    for p in PROBLEMS:
        for factor in STARTS:
            x0 = p.start(factor)
            with np.errstate(over="ignore", invalid="ignore"):
                r = p.residual(x0)
                finite = np.all(np.isfinite(r)) and np.isfinite(r @ r)
            if finite:
                label = "x0" if factor == 1 else f"{factor:g}·x0"
                out.append(replace(p, name=f"MGH {p.number} {p.name}, {label}", x0=x0))
    return out

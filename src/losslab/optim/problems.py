"""Classic nonlinear least-squares test problems, each with residuals, Jacobian and a hard start.

NIST StRD nonlinear regression problems (data and "start 1" points as certified
by NIST), a few Moré-Garbow-Hillstrom functions (the whole set, from three
starts each, is :mod:`losslab.optim.mgh`), and ``BOUNDED``: problems whose
minimiser within ``bounds`` lies on a bound. Used by the tests (against SciPy),
the benchmark and the docs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from . import mgh

INF = np.inf


@dataclass(frozen=True)
class Problem:
    """A least-squares test problem: residuals, Jacobian, a start and what is known.

    Attributes
    ----------
    name : str
        The problem's name (NIST's, where it is one of theirs).
    residual : callable
        ``residual(p) -> array of shape (m,)``.
    jac : callable
        ``jac(p) -> array of shape (m, n)``.
    x0 : ndarray of shape (n,)
        The hard start (NIST's "start 1").
    certified : ndarray of shape (n,) or None
        NIST's certified parameters, where there are any.
    x0_easy : ndarray of shape (n,) or None
        NIST's "start 2", where start 1 leads to another minimum.
    bounds : (lb, ub) or None
        For the bounded problems.

    Examples
    --------
    >>> from losslab.lsq import levenberg_marquardt
    >>> res = levenberg_marquardt(MISRA1A.residual, MISRA1A.x0, jac=MISRA1A.jac)
    >>> bool(np.allclose(res.x, MISRA1A.certified, rtol=1e-6))
    True

    References
    ----------
    NIST Statistical Reference Datasets, nonlinear regression:
    https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml; Moré, Garbow &
    Hillstrom, "Testing Unconstrained Optimization Software", ACM TOMS 7 (1981).
    """

    name: str
    residual: Callable[[np.ndarray], np.ndarray]  # residual(p) -> (m,)
    jac: Callable[[np.ndarray], np.ndarray]  # jac(p) -> (m, n)
    x0: np.ndarray
    certified: np.ndarray | None = None  # NIST's certified parameters, where there are any
    x0_easy: np.ndarray | None = None  # NIST's "start 2", where start 1 leads to another minimum
    bounds: tuple[ArrayLike, ArrayLike] | None = None  # (lb, ub) for the bounded problems


def _data_problem(name, x, y, model, model_jac, x0, certified=None, x0_easy=None):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return Problem(
        name,
        lambda p: model(x, p) - y,
        lambda p: model_jac(x, p),
        np.asarray(x0, float),
        None if certified is None else np.asarray(certified, float),
        None if x0_easy is None else np.asarray(x0_easy, float),
    )


def _exp_rise(x, p):
    with np.errstate(
        over="ignore"
    ):  # far from the data a trial step can overflow: the solver shrinks it
        return p[0] * (1 - np.exp(-p[1] * x))


def _exp_rise_jac(x, p):
    return np.stack([1 - np.exp(-p[1] * x), p[0] * x * np.exp(-p[1] * x)], axis=1)


MISRA1A = _data_problem(
    "Misra1a (NIST)",
    [
        77.6,
        114.9,
        141.1,
        190.8,
        239.9,
        289.0,
        332.8,
        378.4,
        434.8,
        477.3,
        536.8,
        593.1,
        689.1,
        760.0,
    ],
    [
        10.07,
        14.73,
        17.94,
        23.93,
        29.61,
        35.18,
        40.02,
        44.82,
        50.76,
        55.05,
        61.01,
        66.40,
        75.47,
        81.78,
    ],
    _exp_rise,
    _exp_rise_jac,
    [500, 1e-4],
    [2.3894212918e02, 5.5015643181e-04],
)

BOXBOD = _data_problem(
    "BoxBOD (NIST)",
    [1, 2, 3, 5, 7, 10],
    [109, 149, 149, 191, 213, 224],
    _exp_rise,
    _exp_rise_jac,
    [1, 1],
    [2.1380940889e02, 5.4723748542e-01],
    x0_easy=[100, 0.75],
)


def _mgh09(x, p):
    return p[0] * (x**2 + x * p[1]) / (x**2 + x * p[2] + p[3])


def _mgh09_jac(x, p):
    num = x**2 + x * p[1]
    den = x**2 + x * p[2] + p[3]
    return np.stack(
        [num / den, p[0] * x / den, -p[0] * num * x / den**2, -p[0] * num / den**2], axis=1
    )


MGH09 = _data_problem(
    "MGH09 Kowalik-Osborne (NIST)",
    [4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625],
    [0.1957, 0.1947, 0.1735, 0.16, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246],
    _mgh09,
    _mgh09_jac,
    [25, 39, 41.5, 39],
    [1.9280693458e-01, 1.9128232873e-01, 1.2305650693e-01, 1.3606233068e-01],
)

DANWOOD = _data_problem(
    "DanWood (NIST)",
    [1.309, 1.471, 1.490, 1.565, 1.611, 1.680],
    [2.138, 3.421, 3.597, 4.340, 4.882, 5.660],
    lambda x, p: p[0] * x ** p[1],
    lambda x, p: np.stack([x ** p[1], p[0] * x ** p[1] * np.log(x)], axis=1),
    [1, 5],
    [7.6886226176e-01, 3.8604055871e00],
)

ROSENBROCK = Problem(
    "Rosenbrock",
    lambda p: np.array([10 * (p[1] - p[0] ** 2), 1 - p[0]]),
    lambda p: np.array([[-20 * p[0], 10.0], [-1.0, 0.0]]),
    np.array([-1.2, 1.0]),
)

_T = np.linspace(0, 4, 30)
_DECAY_Y = 3.0 * np.exp(-1.3 * _T) + 0.5 + 0.01 * np.sin(7 * _T)  # deterministic "noise"
EXP_DECAY = Problem(
    "exponential decay",
    lambda p: p[0] * np.exp(-p[1] * _T) + p[2] - _DECAY_Y,
    lambda p: np.stack(
        [np.exp(-p[1] * _T), -p[0] * _T * np.exp(-p[1] * _T), np.ones_like(_T)], axis=1
    ),
    np.array([1.0, 0.1, 0.0]),
)

POWELL_SINGULAR = Problem(
    "Powell singular",
    lambda p: np.array(
        [
            p[0] + 10 * p[1],
            np.sqrt(5) * (p[2] - p[3]),
            (p[1] - 2 * p[2]) ** 2,
            np.sqrt(10) * (p[0] - p[3]) ** 2,
        ]
    ),
    lambda p: np.array(
        [
            [1, 10, 0, 0],
            [0, 0, np.sqrt(5), -np.sqrt(5)],
            [0, 2 * (p[1] - 2 * p[2]), -4 * (p[1] - 2 * p[2]), 0],
            [2 * np.sqrt(10) * (p[0] - p[3]), 0, 0, -2 * np.sqrt(10) * (p[0] - p[3])],
        ],
        dtype=float,
    ),
    np.array([3.0, -1.0, 0.0, 1.0]),
)

BEALE = Problem(
    "Beale",
    lambda p: np.array(
        [1.5 - p[0] * (1 - p[1]), 2.25 - p[0] * (1 - p[1] ** 2), 2.625 - p[0] * (1 - p[1] ** 3)]
    ),
    lambda p: (
        -np.array(
            [
                [1 - p[1], -p[0]],
                [1 - p[1] ** 2, -2 * p[0] * p[1]],
                [1 - p[1] ** 3, -3 * p[0] * p[1] ** 2],
            ]
        )
    ),
    np.array([1.0, 1.0]),
)

PROBLEMS = [MISRA1A, BOXBOD, MGH09, DANWOOD, ROSENBROCK, EXP_DECAY, POWELL_SINGULAR, BEALE]


def _bounded(name, problem, x0, lb, ub):
    return Problem(name, problem.residual, problem.jac, np.asarray(x0, float), bounds=(lb, ub))


_MGH = {p.number: p for p in mgh.PROBLEMS}
BOUNDED = [
    # Rosenbrock from the starts and boxes SciPy's own tests of trf use
    _bounded("Rosenbrock, x2 ≥ -1.5", ROSENBROCK, [-2, 1], [-INF, -1.5], INF),
    _bounded("Rosenbrock, x2 ≥ 1.5 from (2, 2)", ROSENBROCK, [2, 2], [-INF, 1.5], INF),
    _bounded("Rosenbrock, x2 ≥ 1.5 from (-2, 2)", ROSENBROCK, [-2, 2], [-INF, 1.5], INF),
    _bounded("Rosenbrock, x1 ≤ 1, x2 ≥ 1.5", ROSENBROCK, [0, 2], [-INF, 1.5], [1, INF]),
    _bounded("Rosenbrock in [1, 3] × [1.5, 3]", ROSENBROCK, [2, 2], [1, 1.5], [3, 3]),
    _bounded("Rosenbrock in [-50, 0.5] × [0, 100]", ROSENBROCK, [-1.2, 1], [-50, 0], [0.5, 100]),
    _bounded("exponential decay, rate ≤ 1", EXP_DECAY, EXP_DECAY.x0, [0, 0, -INF], [INF, 1, INF]),
    _bounded("Misra1a (NIST), b ≤ 5e-4", MISRA1A, MISRA1A.x0, [0, 0], [1000, 5e-4]),
    _bounded("BoxBOD (NIST) in [0, 1000] × [0, 1]", BOXBOD, BOXBOD.x0, [0, 0], [1000, 1]),
    _bounded("MGH 5 Beale, x2 ≤ 0.4", _MGH[5], [1, 0], -INF, [INF, 0.4]),
    _bounded("MGH 10 Meyer, x3 ≥ 300", _MGH[10], [0.02, 4000, 350], [-INF, -INF, 300], INF),
    _bounded("MGH 12 Box 3-D, 1 ≤ x3 ≤ 2", _MGH[12], [0, 10, 1.5], [-INF, -INF, 1], [INF, INF, 2]),
    _bounded(
        "MGH 17 Osborne 1 in a box",
        _MGH[17],
        _MGH[17].x0,
        [0, 0, -INF, 0, 0],
        [INF, INF, 0, 0.05, 0.05],
    ),
]

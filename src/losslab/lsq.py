"""``losslab.lsq``: the documented home of the least-squares solvers and L-BFGS.

The implementation lives in :mod:`losslab.optim.least_squares`; this module keeps the
public path of the contract (``losslab.lsq.levenberg_marquardt`` and friends).
"""

from .optim.least_squares import (
    ROBUST_LOSSES,
    LeastSquaresResult,
    gauss_newton,
    lbfgs,
    levenberg_marquardt,
    newton,
    robust_rho,
    steepest_descent,
)

__all__ = [
    "ROBUST_LOSSES",
    "LeastSquaresResult",
    "gauss_newton",
    "lbfgs",
    "levenberg_marquardt",
    "newton",
    "robust_rho",
    "steepest_descent",
]

"""``losslab.lsq``: the documented home of the least-squares solvers and L-BFGS.

The implementations live in :mod:`losslab.optim`: ``least_squares`` (Levenberg-Marquardt,
Gauss-Newton), ``newton``, ``quasi_newton`` (L-BFGS, steepest descent), ``residuals``
(robust losses) and ``result``; this module keeps the public path of the contract
(``losslab.lsq.levenberg_marquardt`` and friends).
"""

from .optim.least_squares import gauss_newton, levenberg_marquardt
from .optim.newton import newton
from .optim.quasi_newton import lbfgs, steepest_descent
from .optim.residuals import ROBUST_LOSSES, robust_rho
from .optim.result import LeastSquaresResult

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

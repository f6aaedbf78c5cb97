"""``losslab.lsq``: the documented home of the least-squares solvers and L-BFGS.

The implementations live in :mod:`losslab.optim`: ``least_squares`` (Levenberg-Marquardt
as MINPACK's lmder, Gauss-Newton), ``lm_step`` (MINPACK's step), ``trf`` (the
trust-region reflective method for bounds), ``newton`` (Newton, also on least
squares), ``quasi_newton`` (L-BFGS, steepest descent), ``residuals`` (robust
losses), ``result``, ``mgh`` and ``problems`` (test problems) and ``compare``
(the seed's comparison); this module keeps the public path of the contract
(``losslab.lsq.levenberg_marquardt`` and friends).
"""

from .optim.least_squares import gauss_newton, levenberg_marquardt
from .optim.newton import newton, newton_least_squares
from .optim.quasi_newton import lbfgs, steepest_descent
from .optim.residuals import ROBUST_LOSSES, robust_rho
from .optim.result import LeastSquaresResult
from .optim.trf import trust_region_reflective

__all__ = [
    "ROBUST_LOSSES",
    "LeastSquaresResult",
    "gauss_newton",
    "lbfgs",
    "levenberg_marquardt",
    "newton",
    "newton_least_squares",
    "robust_rho",
    "steepest_descent",
    "trust_region_reflective",
]

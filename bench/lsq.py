"""Gradient descent, Adam, Gauss-Newton, Levenberg-Marquardt and Newton on small least-squares problems.

Run:  python bench/lsq.py [--out docs]

For each problem (the stone trajectory of seed 002, Rosenbrock, exponential
decay) every method starts from the same point and minimises the same cost
½‖r‖². Reported: iterations and evaluations (residual/objective evaluations
"nfev", Jacobian/gradient evaluations "njev") until the cost is within 1e-6
(relative) of the best cost any method found, or 1e-12 absolute for a zero-
residual problem, plus the final cost; and a figure of cost against
evaluations (nfev + njev, log scale) per problem, saved as lsq_convergence.png.
Newton uses the exact Hessian JᵀJ + Σ rᵢ ∇²rᵢ, from finite differences of the
analytic gradient (each Hessian-vector product counts as two gradients). The
reference scipy.optimize.least_squares(method="lm") is listed for comparison.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from _common import machine, today
from losslab import datasets, lsq, optim, plots
from losslab.optim.curvefit import gradient_descent
from losslab.optim.problems import EXP_DECAY, ROSENBROCK, Problem

T, H = datasets.trajectory(outlier_fraction=0.0)
TRAJECTORY = Problem(
    "stone trajectory (seed 002)",
    lambda p: p[0] * T**2 + p[1] * T + p[2] - H,
    lambda p: np.stack([T**2, T, np.ones_like(T)], axis=1),
    np.zeros(3),
)
PROBLEMS = [TRAJECTORY, ROSENBROCK, EXP_DECAY]
BUDGET = 20_000


def cost_of(problem, x):
    r = problem.residual(x)
    return 0.5 * float(r @ r)


def run_adam(problem, lr=0.05, iterations=BUDGET // 2):
    params = {"x": problem.x0.astype(float).copy()}
    adam = optim.Adam()
    state = adam.init(params)
    history = [{"cost": cost_of(problem, params["x"]), "nfev": 1}]
    for k in range(1, iterations + 1):
        r = problem.residual(params["x"])
        adam.update(params, {"x": problem.jac(params["x"]).T @ r}, state, lr)
        history.append({"cost": cost_of(problem, params["x"]), "nfev": 2 * k + 1})
    return history, params["x"]


def run_newton(problem):
    def grad(x):
        return problem.jac(x).T @ problem.residual(x)

    def hessp(x, v, eps=1e-6):
        return (grad(x + eps * v) - grad(x - eps * v)) / (2 * eps)

    res = lsq.newton(lambda x: cost_of(problem, x), problem.x0, grad=grad, hessp=hessp, gtol=1e-10)
    return res


def evaluations(row):
    return row["nfev"] + row.get("njev", 0)


def scipy_table():
    """Our Levenberg-Marquardt against scipy's lm and trf on the classic problems (costs and nfev)."""
    import scipy.optimize

    from losslab.optim.problems import PROBLEMS as CLASSIC

    print("\n## Levenberg-Marquardt against scipy.optimize.least_squares (analytic Jacobians)")
    print("| problem | losslab LM cost | nfev | scipy lm cost | nfev | scipy trf cost | nfev |")
    print("|---|---|---|---|---|---|---|")
    for problem in CLASSIC:
        ours = lsq.levenberg_marquardt(
            problem.residual, problem.x0, jac=problem.jac, max_nfev=10_000
        )
        with np.errstate(all="ignore"):
            theirs = {
                m: scipy.optimize.least_squares(
                    problem.residual, problem.x0, jac=problem.jac, method=m
                )
                for m in ("lm", "trf")
            }
        cells = [f"{ours.cost:.10g} | {ours.nfev}"] + [
            f"{r.cost:.10g}{'' if r.status > 0 else ' (not converged)'} | {r.nfev}"
            for r in theirs.values()
        ]
        print(f"| {problem.name} | " + " | ".join(cells) + " |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", default="docs", help="directory for lsq_convergence.png (default: docs)"
    )
    args = ap.parse_args(argv)
    import scipy.optimize

    print(f"# least squares: evaluations to reach the best cost; {machine()}; {today()}")
    figures = {}
    for problem in PROBLEMS:
        runs = {}
        lm = lsq.levenberg_marquardt(problem.residual, problem.x0, jac=problem.jac, max_nfev=BUDGET)
        gn = lsq.gauss_newton(problem.residual, problem.x0, jac=problem.jac, max_nfev=BUDGET)
        gd = gradient_descent(problem.residual, problem.x0, jac=problem.jac, max_nfev=BUDGET)
        newton = run_newton(problem)
        adam_history, _ = run_adam(problem)
        # count Jacobian/gradient evaluations in the curves: LM/GN/GD evaluate one per accepted step
        for name, res in (
            ("Levenberg-Marquardt", lm),
            ("Gauss-Newton", gn),
            ("gradient descent", gd),
        ):
            runs[name] = [
                {"cost": row["cost"], "nfev": row["nfev"] + row["iteration"] + 1}
                for row in res.history
            ]
        runs["Newton (Hessian-vector products)"] = [
            {"cost": row["cost"], "nfev": row["nfev"] + 3 * row["iteration"] + 1}
            for row in newton.history
        ]
        runs["Adam (lr 0.05)"] = adam_history
        scipy_lm = scipy.optimize.least_squares(
            problem.residual, problem.x0, jac=problem.jac, method="lm"
        )
        best = min(min(row["cost"] for row in h) for h in runs.values())
        target = best * (1 + 1e-6) + 1e-12
        print(f"\n## {problem.name}: start {problem.x0.tolist()}, best cost {best:.6g}")
        print("| method | evaluations to target | final cost |")
        print("|---|---|---|")
        for name, history in runs.items():
            reached = next((evaluations(row) for row in history if row["cost"] <= target), None)
            shown = f"{reached}" if reached is not None else f"not within {history[-1]['nfev']}"
            print(f"| {name} | {shown} | {history[-1]['cost']:.6g} |")
        print(
            f"| scipy least_squares(lm), for reference | {scipy_lm.nfev + scipy_lm.njev} | {scipy_lm.cost:.6g} |"
        )
        figures[problem.name] = runs
    out = Path(args.out)
    for k, (name, runs) in enumerate(figures.items()):
        plots.convergence_figure(runs, out / f"lsq_convergence_{k}.png", title=name)
    scipy_table()
    print(
        f"\nfigures: {', '.join(str(out / f'lsq_convergence_{k}.png') for k in range(len(figures)))}"
    )


if __name__ == "__main__":
    main()

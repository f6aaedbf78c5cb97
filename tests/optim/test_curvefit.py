import json

import numpy as np
import pytest

from losslab import cli, datasets
from losslab.optim import compare, curvefit

scipy_optimize = pytest.importorskip("scipy.optimize")
TRUTH = np.array(list(datasets.TRAJECTORY_TRUTH.values()))


def poly2(t, a, b, c):
    return a * t**2 + b * t + c


def test_parameters_and_standard_errors_match_scipy_curve_fit():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 40)
    y = 3.0 * np.exp(-0.8 * t) + 0.5 + 0.05 * rng.standard_normal(40)
    model = curvefit.MODELS["exp"]
    ours = curvefit.curve_fit(model.f, t, y, [1.0, -0.1, 0.0], jac=model.jac)
    popt, pcov = scipy_optimize.curve_fit(model.f, t, y, p0=[1.0, -0.1, 0.0])
    np.testing.assert_allclose(ours.params, popt, rtol=1e-6)
    np.testing.assert_allclose(ours.stderr, np.sqrt(np.diag(pcov)), rtol=1e-4)
    assert ours.history[-1]["cost"] <= ours.history[0]["cost"]


def decay_data(seed=1):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 5, 40)
    y = 3.0 * np.exp(-0.8 * t) + 0.5 + 0.05 * rng.standard_normal(40)
    sigma = 0.02 + 0.05 * rng.random(40)
    correlated = np.diag(sigma**2) + 0.3 * np.outer(sigma, sigma) * np.exp(
        -np.abs(np.subtract.outer(t, t))
    )
    return t, y, sigma, correlated


@pytest.mark.parametrize("absolute_sigma", [False, True])
@pytest.mark.parametrize("errors", ["none", "1-D", "2-D"])
@pytest.mark.parametrize("bounded", [False, True], ids=["free", "bounds"])
def test_sigma_absolute_sigma_and_bounds_match_scipy_curve_fit(errors, absolute_sigma, bounded):
    t, y, sigma, correlated = decay_data()
    model = curvefit.MODELS["exp"]
    kw = {"sigma": {"none": None, "1-D": sigma, "2-D": correlated}[errors]}
    kw["absolute_sigma"] = absolute_sigma
    p0 = [1.0, -0.1, 0.7]
    if bounded:  # the offset's lower bound is active at the solution
        kw["bounds"] = ([0.0, -5.0, 0.6], [10.0, 0.0, 10.0])
    ours = curvefit.curve_fit(model.f, t, y, p0, jac=model.jac, **kw)
    # SciPy's trf path takes the covariance at the solution, as ours does (its lm path
    # uses the Jacobian of the step before, which differs at ~1e-6)
    popt, pcov = scipy_optimize.curve_fit(model.f, t, y, p0=p0, method="trf", **kw)
    np.testing.assert_allclose(ours.params, popt, rtol=1e-6)
    np.testing.assert_allclose(ours.cov, pcov, rtol=1e-6, atol=1e-6 * np.abs(pcov).max())
    np.testing.assert_allclose(ours.stderr, np.sqrt(np.diag(pcov)), rtol=1e-6)


def test_absolute_sigma_reads_sigma_in_the_units_of_y():
    t, y, sigma, _ = decay_data()
    model = curvefit.MODELS["exp"]
    relative = curvefit.curve_fit(model.f, t, y, [1, -0.1, 0], jac=model.jac, sigma=sigma)
    doubled = curvefit.curve_fit(model.f, t, y, [1, -0.1, 0], jac=model.jac, sigma=2 * sigma)
    absolute = curvefit.curve_fit(
        model.f, t, y, [1, -0.1, 0], jac=model.jac, sigma=2 * sigma, absolute_sigma=True
    )
    np.testing.assert_allclose(doubled.cov, relative.cov, rtol=1e-8)  # only the ratios matter
    m, n = len(y), 3
    chi2 = 2 * absolute.result.cost / (m - n)  # the reduced χ² that scales the relative one
    np.testing.assert_allclose(absolute.cov * chi2, doubled.cov, rtol=1e-8)


@pytest.mark.parametrize("method", curvefit.METHODS)
def test_every_method_fits_the_exact_trajectory(method):
    t = np.linspace(0, 4, 30)
    y = poly2(t, *TRUTH)
    fit = curvefit.curve_fit(poly2, t, y, [0.0, 0.0, 0.0], method=method)
    # gradient descent crawls along the ill-conditioned valley: close, not exact (the seeds' point)
    np.testing.assert_allclose(fit.params, TRUTH, rtol=1e-2 if method == "gd" else 1e-8)


def test_lm_needs_far_fewer_evaluations_than_gradient_descent():
    t = np.linspace(0, 4, 30)
    y = poly2(t, *TRUTH)
    lm = curvefit.curve_fit(poly2, t, y, [0.0, 0.0, 0.0], method="lm")
    gd = curvefit.curve_fit(poly2, t, y, [0.0, 0.0, 0.0], method="gd")
    assert lm.result.nfev * 20 < gd.result.nfev


def test_huber_recovers_the_trajectory_with_10_percent_outliers_where_l2_fails():
    t, h = datasets.trajectory(random_state=0)  # the bundled data: 10% of points off by 7.5-15 m
    l2 = curvefit.fit_model("poly2", t, h)
    huber = curvefit.fit_model("poly2", t, h, loss="huber", f_scale=1.0)
    tolerance = np.array([0.2, 0.8, 0.6])  # m/s², m/s, m
    assert np.all(np.abs(huber.params - TRUTH) < tolerance), huber.summary()
    assert np.any(np.abs(l2.params - TRUTH) >= tolerance), l2.summary()
    # and over many draws of noise and outliers, not just the bundled one
    errors = {"l2": [], "huber": []}
    for seed in range(20):
        t, h = datasets.trajectory(random_state=seed)
        errors["l2"].append(np.abs(curvefit.fit_model("poly2", t, h).params - TRUTH))
        errors["huber"].append(
            np.abs(curvefit.fit_model("poly2", t, h, loss="huber").params - TRUTH)
        )
    assert np.mean(errors["huber"]) < np.mean(errors["l2"]) / 3


@pytest.mark.parametrize("name", list(curvefit.MODELS))
def test_every_named_model_recovers_its_parameters_from_its_own_guess(name):
    model = curvefit.MODELS[name]
    truth = {
        "poly2": [-1, 2, 3],
        "poly3": [0.5, -1, 2, 1],
        "exp": [2, -0.7, 1],
        "logistic": [3, 2, 1.5, 0.5],
        "sin": [2, 3, 0.5, 1],
    }[name]
    x = np.linspace(0, 4, 80)
    y = model.f(x, *truth) + 0.01 * np.random.default_rng(0).standard_normal(80)
    fit = curvefit.fit_model(name, x, y)
    np.testing.assert_allclose(model.f(x, *fit.params), model.f(x, *truth), atol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": np.arange(3.0), "y": np.arange(4.0)}, "x, y: expected the same length"),
        ({"y": np.array([1.0, np.nan, 2.0, 3.0])}, "x, y: expected finite values"),
        ({"loss": "l3"}, "loss: expected one of"),
        ({"method": "bfgs"}, "method: expected one of"),
        ({"x": np.arange(2.0), "y": np.arange(2.0)}, "expected at least 3 points"),
        ({"sigma": np.ones(3)}, r"sigma: expected shape \(4,\) or \(4, 4\), got \(3,\)"),
        ({"sigma": np.array([1.0, 0.0, 1.0, 1.0])}, "sigma: expected positive finite"),
        ({"sigma": -np.eye(4)}, "sigma: expected a positive definite covariance matrix"),
        ({"method": "newton", "bounds": (-1, 1)}, "bounds: method='newton' takes none"),
        ({"method": "newton", "loss": "huber"}, "loss: method='newton' fits squared_error only"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, match):
    args = {"x": np.arange(4.0), "y": np.arange(4.0), **kwargs}
    with pytest.raises(ValueError, match=match):
        curvefit.curve_fit(poly2, args.pop("x"), args.pop("y"), [0, 0, 0], **args)


def test_fit_curve_command_writes_a_report_and_a_plot(tmp_path, capsys):
    assert cli.main(["fit-curve", "trajectory", "--loss", "huber", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "a t² + b t + c" in out and "converged" in out
    report = json.loads((tmp_path / "fit.json").read_text())
    assert report["success"] and abs(report["params"]["a"] + 4.9) < 0.2
    png = (tmp_path / "fit.png").read_bytes()
    assert png[:4] == b"\x89PNG" and len(png) > 20_000


def test_fit_curve_reads_a_csv_and_reports_bad_files(tmp_path, capsys):
    path = tmp_path / "decay.csv"
    t = np.linspace(0, 4, 30)
    path.write_text("t,y\n" + "\n".join(f"{a},{3 * np.exp(-a) + 1}" for a in t))
    assert cli.main(["fit-curve", str(path), "--model", "exp"]) == 0
    assert "converged" in capsys.readouterr().out
    assert cli.main(["fit-curve", str(tmp_path / "missing.csv")]) == 2


def test_the_seeds_comparison_from_a_far_start():
    """Seed 002: LM, Gauss-Newton and Newton need tens of evaluations, gradient descent thousands."""
    t, h = datasets.trajectory(random_state=0)
    model = curvefit.MODELS["poly2"]
    runs = {
        run.method: run
        for run in compare.compare_methods(model.f, t, h, [1.0, 1.0, 1.0], jac=model.jac)
    }
    assert list(runs) == ["lm", "gn", "newton", "gd", "adam"]
    best = min(run.cost for run in runs.values())
    for method in ("lm", "gn", "newton"):
        assert runs[method].to_best is not None and runs[method].evaluations < 100
        assert runs[method].cost == pytest.approx(best, rel=1e-9)
    assert runs["gd"].to_best > 1000 and runs["adam"].to_best > 1000
    for run in runs.values():  # the histories the figure draws: evaluations never go back
        evaluations = [row["nfev"] for row in run.history]
        assert evaluations == sorted(evaluations) and evaluations[-1] <= run.evaluations


def test_newton_fits_a_nonlinear_model_with_and_without_its_jacobian():
    t, y, _, _ = decay_data()
    model = curvefit.MODELS["exp"]
    lm = curvefit.curve_fit(model.f, t, y, [1.0, -0.1, 0.0], jac=model.jac)
    for jac in (model.jac, None):
        newton = curvefit.curve_fit(model.f, t, y, [1.0, -0.1, 0.0], jac=jac, method="newton")
        assert newton.result.success
        np.testing.assert_allclose(newton.params, lm.params, rtol=1e-5)


def test_a_named_model_compares_from_a_far_start_or_a_given_one():
    t, h = datasets.trajectory(random_state=0)
    runs, start = compare.compare_model("poly2", t, h)
    assert start.tolist() == [1.0, 1.0, 1.0]
    assert [run.name for run in runs] == [
        "Levenberg-Marquardt",
        "Gauss-Newton",
        "Newton",
        "gradient descent",
        "Adam",
    ]
    _, start = compare.compare_model("poly2", t, h, p0=[-1, 5, 0], budget=100)
    assert start.tolist() == [-1.0, 5.0, 0.0]
    fit = curvefit.fit_model("poly2", t, h, p0=[1, 1, 1], method="newton")
    np.testing.assert_allclose(fit.params, curvefit.fit_model("poly2", t, h).params, rtol=1e-9)
    with pytest.raises(ValueError, match=r"p0: expected 3 finite numbers \(a, b, c\) for poly2"):
        compare.compare_model("poly2", t, h, p0=[1, 2])
    with pytest.raises(ValueError, match="model: expected one of"):
        curvefit.fit_model("poly9", t, h)


def test_fit_curve_compare_shows_the_seeds_point(tmp_path, capsys):
    assert cli.main(["fit-curve", "--compare", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("Levenberg-Marquardt", "Gauss-Newton", "Newton", "gradient descent", "Adam"):
        assert name in out
    assert "from a = 1, b = 1, c = 1" in out
    report = json.loads((tmp_path / "compare.json").read_text())
    methods = report["methods"]
    for name in ("Levenberg-Marquardt", "Gauss-Newton", "Newton"):
        assert methods[name]["evaluations"] < 100  # tens of evaluations at most
    assert methods["gradient descent"]["to_minimum"] > 1000  # thousands
    assert (tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"


def test_fit_curve_takes_a_start_and_newton(capsys):
    assert cli.main(["fit-curve", "--method", "newton", "--p0", "1,1,1"]) == 0
    assert "converged" in capsys.readouterr().out
    assert (
        cli.main(["fit-curve", "--compare", "--model", "exp", "--p0=1,-1,0", "--budget", "50"]) == 0
    )
    assert cli.main(["fit-curve", "--compare", "--p0", "1,2"]) == 2
    assert "p0: expected 3 finite numbers" in capsys.readouterr().err

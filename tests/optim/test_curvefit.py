import json

import numpy as np
import pytest

from losslab import cli, datasets
from losslab.optim import curvefit

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

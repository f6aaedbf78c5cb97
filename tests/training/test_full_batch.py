"""Full-batch solvers: the hinge solver reaches the minimum; divergence is one clear error."""

import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from losslab import fit, models, optim
from losslab.estimators import LinearClassifier, LinearRegressor, LinearSVM, SoftmaxClassifier
from losslab.training import Diverged, fit_full_batch, full_batch, minimise_full_batch
from losslab.training.files import load_checkpoint
from losslab.training.objective import Objective
from losslab.training.state import TrainState

LOADERS = {"iris": load_iris, "wine": load_wine, "digits": load_digits}


def standardised(name):
    X, y = LOADERS[name](return_X_y=True)
    return StandardScaler().fit_transform(X), y


def objective_of(est, X, y):
    """The estimator's objective, mean hinge loss + alpha·ΣW², at its fitted weights."""
    target = y if est.model_.n_outputs > 1 and est._loss().task == "multiclass" else None
    if target is None:
        classes = np.searchsorted(est.classes_, y)
        target = (classes[:, None] == np.arange(est.model_.n_outputs)).astype(float)
    else:
        target = np.searchsorted(est.classes_, y)
    alpha = getattr(est, "alpha_", est.alpha)  # the strength it trained with ("auto" resolved)
    objective = Objective(est.model_, est._loss(), reg=alpha)
    return float(objective.value_and_grads(X, target)[0])


@pytest.mark.parametrize(
    ("data", "loss"),
    [("iris", "svm"), ("iris", "hinge"), ("wine", "svm"), ("wine", "hinge"), ("digits", "svm")],
)
def test_the_hinge_solver_reaches_the_objectives_minimum(data, loss):
    X, y = standardised(data)
    ours = LinearClassifier(loss).fit(X, y)
    assert ours.solver_ == "smoothing" and ours.history_.converged
    best = objective_of(ours, X, y)
    finer = objective_of(LinearClassifier(loss, tol=1e-10, max_iter=2000).fit(X, y), X, y)
    longer_sgd = LinearClassifier(loss, solver="sgd", lr=1e-2, max_iter=300, tol=None)
    sgd = objective_of(longer_sgd.fit(X, y), X, y)
    assert finer >= best * (1 - 1e-6), (best, finer)
    assert sgd >= best * (1 - 1e-6), (best, sgd)


def test_smoothing_is_for_the_hinge_losses_with_an_l2_penalty():
    X, y = standardised("iris")
    with pytest.raises(ValueError, match="solver: 'smoothing' takes a hinge loss"):
        SoftmaxClassifier(solver="smoothing").fit(X, y)
    with pytest.raises(ValueError, match="solver: 'smoothing' takes a hinge loss"):
        LinearSVM(solver="smoothing", penalty="l1").fit(X, y)


def diverging_estimators():
    """(estimator, X) pairs whose training cannot stay finite, one per solver and cause."""
    big32 = np.float32(1e30)
    return {
        "sgd overflow (lr=1e300)": (SoftmaxClassifier(solver="sgd", optimizer="sgd", lr=1e300), 1),
        "sgd inf (lr=1e308)": (LinearSVM(solver="sgd", optimizer="sgd", lr=1e308), 1),
        "sgd NaN (inf - inf)": (LinearClassifier("hinge", solver="sgd", lr=1e308), 1),
        "lbfgs inf (squares overflow float32)": (LinearRegressor(solver="lbfgs"), big32),
        "gd inf (squares overflow float32)": (LinearRegressor(solver="gd"), big32),
        "smoothing overflow": (LinearSVM(), 1e200),
    }


@pytest.mark.parametrize("case", list(diverging_estimators()))
def test_divergence_is_one_error_and_leaves_no_nan_weights(case):
    est, scale = diverging_estimators()[case]
    X, y = standardised("iris")
    X = (np.clip(X, -3, 3) * scale).astype(
        np.float32 if isinstance(scale, np.float32) else np.float64
    )
    with pytest.raises(ValueError, match="diverged") as raised:
        est.fit(X, y)
    assert isinstance(raised.value, Diverged)
    assert "standardise the features" in str(raised.value).lower()
    assert not hasattr(est, "model_")  # nothing half-trained is left behind


def test_a_diverged_warm_start_keeps_the_last_finite_weights():
    X, y = standardised("iris")
    est = SoftmaxClassifier(solver="sgd", max_iter=3, tol=None, warm_start=True).fit(X, y)
    with pytest.raises(Diverged, match="epoch 4"):
        est.set_params(optimizer="sgd", lr=1e300).fit(X, y)
    assert all(np.isfinite(p).all() for p in est.model_.params.values())
    assert est.history_.n_epochs == 3 and not est.history_.converged


def test_a_checkpoint_never_holds_nan_weights(tmp_path):
    X, y = standardised("wine")
    model = models.Linear(X.shape[1], 3, dtype=np.float32, random_state=0)
    path = tmp_path / "run.npz"
    with pytest.raises(Diverged):
        fit(model, "softmax", X.astype(np.float32), y, lr=1e38, epochs=5, checkpoint=path)
    assert all(np.isfinite(p).all() for p in model.params.values())
    if path.exists():
        state = TrainState(optim.SGD(), {}, np.random.default_rng(0))
        restored = models.Linear(X.shape[1], 3)
        load_checkpoint(path, restored, state)
        assert all(np.isfinite(p).all() for p in restored.params.values())


def test_fit_full_batch_raises_on_a_non_finite_start_and_keeps_the_weights():
    X, y = standardised("iris")
    X = np.tile(np.clip(X, -3, 3), 10).astype(np.float32) * np.float32(1e38)  # scores overflow
    model = models.Linear(X.shape[1], 3, dtype=np.float32, random_state=0)
    model.params["W"][...] = 1.0
    before = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(Diverged, match="at the starting weights"):
        fit_full_batch(model, "softmax", X, y)
    for k, p in model.params.items():
        np.testing.assert_array_equal(p, before[k])


def teacher_problem(n=3000, d=100, c=10, dtype=np.float64, seed=0):
    """A noisy linear teacher: 3000 x 100 rows, 10 classes (a linear model's products run in
    blocks of 10**6 / (100 * 10) = 1000 rows)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X @ rng.standard_normal((d, c)) / np.sqrt(d) + rng.gumbel(size=(n, c))).argmax(axis=1)
    return X, y


# the row blocks are taken with OpenBLAS only (its small-matrix kernels); MKL or Accelerate builds
# keep the whole products, which the other tests of full-batch fits cover
needs_openblas = pytest.mark.skipif(
    not all(
        api["internal_api"] == "openblas" for api in threadpool_info() if api["user_api"] == "blas"
    ),
    reason="the row blocks are taken with OpenBLAS only",
)


@needs_openblas
@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_row_blocked_products_are_the_linear_models_up_to_rounding(dtype, rtol):
    X, _ = teacher_problem(n=2500, dtype=dtype)  # the last block holds 500 rows
    model = models.Linear(100, 10, dtype=dtype, random_state=0)
    with threadpool_limits(1):
        blocked = full_batch._row_blocked(model, X)
    assert isinstance(blocked, full_batch._RowBlockedLinear) and blocked.rows == 1000
    dscores = np.random.default_rng(1).standard_normal((2500, 10)).astype(dtype)
    scores, cache = blocked.forward(X)
    grads, dX = blocked.backward(cache, dscores)
    ref_scores, ref_cache = model.forward(X)
    ref_grads, ref_dX = model.backward(ref_cache, dscores)
    assert scores.dtype == dtype and grads["W"].dtype == dtype
    np.testing.assert_allclose(scores, ref_scores, rtol=rtol, atol=rtol)
    for name in ("W", "b"):
        np.testing.assert_allclose(grads[name], ref_grads[name], rtol=rtol, atol=rtol * 100)
    np.testing.assert_allclose(dX, ref_dX, rtol=rtol)


@needs_openblas
@threadpool_limits.wrap(1)
def test_only_a_dense_linear_model_on_enough_rows_takes_blocks():
    X, _ = teacher_problem()
    linear = models.Linear(100, 10, random_state=0)
    assert full_batch._row_blocked(linear, X) is not linear
    with threadpool_limits(2):  # BLAS on several threads splits a whole product among them
        assert full_batch._row_blocked(linear, X) is linear
    assert full_batch._row_blocked(linear, X[:1999]) is linear  # under two blocks
    wide = models.Linear(100, 200, random_state=0)  # 10**6 / (100 * 200) = 50 rows: too few
    assert full_batch._row_blocked(wide, X) is wide
    mlp = models.MLP(100, (8,), 10, random_state=0)
    assert full_batch._row_blocked(mlp, X) is mlp
    sparse = scipy.sparse.csr_matrix(X)
    assert full_batch._row_blocked(linear, sparse) is linear


@needs_openblas
def test_the_blocked_fit_reaches_the_minimum_of_the_plain_products():
    X, y = teacher_problem(seed=3)
    blocked = models.Linear(100, 10, random_state=0)
    with threadpool_limits(1):
        assert full_batch._row_blocked(blocked, X) is not blocked
        fit_full_batch(blocked, "softmax", X, y, reg=1e-3)
    plain = models.Linear(100, 10, random_state=0)
    objective = Objective(plain, "softmax", reg=1e-3)
    minimise_full_batch(plain, lambda: objective.value_and_grads(X, y)[:2])
    best = [Objective(m, "softmax", reg=1e-3).value_and_grads(X, y)[0] for m in (blocked, plain)]
    assert abs(best[0] - best[1]) <= 1e-6 * best[1], best


def two_column_minimum(X, y, reg, weights=None):
    """The two-class softmax minimised over both columns (no shortcut), to a fine tolerance."""
    model = models.Linear(X.shape[1], 2, random_state=0)
    objective = Objective(model, "softmax", reg=reg)
    minimise_full_batch(model, lambda: objective.value_and_grads(X, y, weights)[:2], tol=1e-10)
    return model, objective.value_and_grads(X, y, weights)[0]


@pytest.mark.parametrize("weighted", [False, True])
def test_a_two_class_softmax_reaches_the_two_column_minimum(weighted):
    X, y = teacher_problem(n=400, d=12, c=2, seed=5)
    weights = np.random.default_rng(2).uniform(0.2, 3.0, len(y)) if weighted else None
    class_weight = np.array([1.0, 2.5]) if weighted else None
    folded = None if weights is None else weights * class_weight[y]
    reference, best = two_column_minimum(X, y, 1e-2, folded)
    model = models.Linear(12, 2, random_state=0)
    fit_full_batch(
        model,
        "softmax",
        X,
        y,
        reg=1e-2,
        sample_weight=weights,
        class_weight=class_weight,
        tol=1e-10,
    )
    value = Objective(model, "softmax", reg=1e-2).value_and_grads(X, y, folded)[0]
    assert abs(value - best) <= 1e-9 * best, (value, best)
    W = model.params["W"]
    np.testing.assert_allclose(W[:, 0], -W[:, 1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(W, reference.params["W"], atol=1e-6)


def test_without_a_penalty_the_two_class_columns_keep_their_start_mean():
    X, y = teacher_problem(n=300, d=5, c=2, seed=6)
    model = models.Linear(5, 2, random_state=0)
    start_W, start_b = model.params["W"].sum(axis=1), model.params["b"].sum()
    fit_full_batch(model, "softmax", X, y, reg=0.0, max_iter=50)
    np.testing.assert_allclose(model.params["W"].sum(axis=1), start_W, atol=1e-12)
    np.testing.assert_allclose(model.params["b"].sum(), start_b, atol=1e-12)


def test_the_two_class_callback_sees_the_two_column_model_and_its_objective():
    X, y = teacher_problem(n=300, d=5, c=2, seed=7)
    model = models.Linear(5, 2, random_state=0)
    seen = []

    def check(iteration, value, current):
        assert current is model
        seen.append((value, Objective(model, "softmax", reg=0.1).value_and_grads(X, y)[0]))
        return iteration == 4

    history = fit_full_batch(model, "softmax", X, y, reg=0.1, callback=check)
    assert len(seen) == 4 and history.stopped_by_callback
    np.testing.assert_allclose([v for v, _ in seen], [o for _, o in seen], rtol=1e-12)
    assert history.step_loss[1:] == [v for v, _ in seen]


def iris_with_a_huge_entry(value=1e200):
    """Standardised iris with one entry of ``value``: the audit's case whose gradient overflows."""
    X, y = standardised("iris")
    huge = X.copy()
    huge[3, 1] = value
    return X, huge, y


@pytest.mark.parametrize(
    ("make", "binary", "value", "loss"),
    [
        (lambda: LinearClassifier(loss="logistic", random_state=7), True, 1e200, 0.045),
        (lambda: SoftmaxClassifier(random_state=0), False, 1e200, 0.21),
        (lambda: LinearClassifier(loss="logistic", random_state=1), True, 1e100, 0.045),
        (lambda: SoftmaxClassifier(random_state=1), False, 1e100, 0.21),
        (lambda: SoftmaxClassifier(solver="gd", random_state=1), False, 1e100, 0.21),
    ],
)
def test_a_gradient_whose_square_overflows_still_trains(make, binary, value, loss):
    # row 3's score value·w starts on the wrong side. At 1e200 ‖g‖² overflowed, the first step
    # length 1/‖g‖ was 0 and no step was taken (n_iter_ 1, the random start kept, "reached
    # max_iter"). At 1e100 the first step's gradient change of 1e98 set H (or gradient descent's
    # next step) to ~1e-98: a step that changed nothing, taken as converged at losses of 0.52-0.89
    X, huge, y = iris_with_a_huge_entry(value)
    target = y > 0 if binary else y
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = make().fit(huge, target)
    assert est.history_.converged and est.n_iter_ == len(est.history_.train_loss) > 2
    assert est.history_.train_loss[-1] < loss and np.isfinite(est.coef_).all()
    assert est.score(X, target) > 0.9


def test_a_line_search_that_finds_nothing_finite_raises_diverged_naming_the_iteration():
    model = models.Linear(2, 1, random_state=0)
    calls = []

    def overflowing_after_the_first_step():  # ‖W - 3‖² + b², then inf wherever it is asked
        calls.append(1)
        W, b = model.params["W"], model.params["b"]
        value = float(np.sum((W - 3) ** 2) + b[0] ** 2) if len(calls) <= 2 else np.inf
        return value, {"W": 2 * (W - 3), "b": 2 * b}

    with pytest.raises(Diverged, match=r"in iteration 2: the objective was inf at every step"):
        minimise_full_batch(model, overflowing_after_the_first_step)
    first_step = [p.copy() for p in model.params.values()]
    assert all(np.isfinite(p).all() for p in first_step)
    calls.clear()
    again = models.Linear(2, 1, random_state=0)
    model.params.update({k: p.copy() for k, p in again.params.items()})
    minimise_full_batch(model, overflowing_after_the_first_step, max_iter=1)
    for kept, p in zip(first_step, model.params.values(), strict=True):
        np.testing.assert_array_equal(kept, p)  # the iterate before the failed search


def test_a_line_search_that_finds_only_explosions_raises_diverged():
    model = models.Linear(1, 1, random_state=0)
    calls = []

    def exploding_after_the_first_step():  # (w - 3)² + b² + 1, then 1e12 times larger, finite
        calls.append(1)
        W, b = model.params["W"], model.params["b"]
        value = float((W[0, 0] - 3) ** 2 + b[0] ** 2 + 1)
        return value * (1.0 if len(calls) <= 2 else 1e12), {"W": 2 * (W - 3), "b": 2 * b}

    with pytest.raises(Diverged, match=r"in iteration 2: the objective grew to .*e\+1"):
        minimise_full_batch(model, exploding_after_the_first_step)
    assert np.isfinite(model.params["W"]).all()


def test_a_stalled_line_search_warns_with_its_reason_not_max_iter():
    # alpha=1e200: the objective's changes near the minimum fall below float64's resolution
    # of its value long before the gradient test is met
    X, y = standardised("iris")
    with pytest.warns(ConvergenceWarning, match="line search found no step that decreases"):
        est = LinearClassifier(alpha=1e200, random_state=0).fit(X, y)
    assert est.solver_ == "lbfgs" and not est.history_.converged
    assert est.n_iter_ == len(est.history_.train_loss) < est.max_iter


def test_a_warm_start_at_the_minimum_takes_no_step_and_says_so():
    X, y = standardised("iris")
    est = SoftmaxClassifier(warm_start=True).fit(X, y)
    est.fit(X, y)
    assert est.history_.converged and est.history_.train_loss == [] and est.n_iter_ == 0


@pytest.mark.parametrize("make", [LinearClassifier, SoftmaxClassifier])
def test_a_penalty_too_strong_to_be_finite_is_named_not_raise_alpha(make):
    # alpha=1e308: 2·alpha·W overflows; the advice was to "standardise the features or raise alpha"
    X, y = standardised("iris")
    with pytest.raises(Diverged, match=r"starting weights \(iteration 0\)") as raised:
        make(alpha=1e308).fit(X, y)
    message = str(raised.value)
    assert "penalty's strength 1e+308 is too large" in message and "Lower alpha" in message
    assert "raise alpha" not in message and "Standardise" not in message


@pytest.mark.parametrize("seed", range(3))
def test_a_penalty_of_1e100_converges_to_weights_near_zero(seed):
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    # the minimum's weights are ~1e-100: once no step changes the value, neither a scaled step
    # nor a unit one, that is the minimum at float64 precision, not a failed search (Diverged)
    fitted = SoftmaxClassifier(alpha=1e100, random_state=seed).fit(X, y)
    assert fitted.history_.converged and np.abs(fitted.coef_).max() < 1e-60

"""Classifiers: accuracy against scikit-learn, probabilities, labels, class weights, streaming."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from losslab import datasets
from losslab.estimators import LinearClassifier, LinearSVM, MLPClassifier, SoftmaxClassifier


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.mark.parametrize(
    ("ours", "reference"),
    [
        (SoftmaxClassifier(random_state=0), LogisticRegression()),
        (LinearSVM(random_state=0), LinearSVC()),
    ],
    ids=["softmax_vs_LogisticRegression", "svm_vs_LinearSVC"],
)
def test_default_accuracy_on_digits_is_within_one_point_of_scikit_learn(
    digits_split, ours, reference
):
    X_train, X_test, y_train, y_test = digits_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = reference.fit(X_train, y_train).score(X_test, y_test)
        acc = ours.fit(X_train, y_train).score(X_test, y_test)
    assert acc >= ref - 0.01, (acc, ref)


def test_mlp_beats_both_linear_models_on_the_spiral():
    ds = datasets.load("spiral", random_state=0, n_samples=900)
    accs = {}
    for name, est in [
        ("mlp", MLPClassifier(hidden_layer_sizes=(100,), lr=1e-2, random_state=0)),
        ("softmax", SoftmaxClassifier(lr=1e-2, random_state=0)),
        ("svm", LinearSVM(lr=1e-2, random_state=0)),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            accs[name] = est.fit(ds.X_train, ds.y_train).score(ds.X_test, ds.y_test)
    assert accs["mlp"] > 0.9
    assert accs["mlp"] > max(accs["softmax"], accs["svm"]) + 0.2, accs


def test_predict_proba_exists_only_where_the_loss_defines_probabilities():
    assert hasattr(SoftmaxClassifier(), "predict_proba")
    assert hasattr(LinearClassifier(loss="logistic"), "predict_proba")
    assert hasattr(LinearClassifier(loss="modified_huber"), "predict_proba")
    assert not hasattr(LinearSVM(), "predict_proba")
    assert not hasattr(LinearClassifier(loss="hinge"), "predict_proba")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_modified_huber_probabilities_are_sgdclassifiers_for_the_same_coefficients(n_classes):
    from sklearn.linear_model import SGDClassifier

    X, y = load_digits(n_class=n_classes, return_X_y=True)
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-12)
    ours = LinearClassifier(loss="modified_huber", random_state=0).fit(X, y)
    assert ours.predict_proba(X).shape == (len(X), n_classes)
    reference = SGDClassifier(loss="modified_huber", max_iter=5, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(X, y)
    # every clipped case: scores beyond ±1, inside, and rows where every class scores <= -1
    for scale in (1.0, 0.1, 10.0):
        reference.coef_ = ours.coef_.astype(np.float64) * scale
        reference.intercept_ = ours.intercept_.astype(np.float64) * scale
        ours.coef_[...] *= scale
        ours.intercept_[...] *= scale
        expected = reference.predict_proba(X)
        np.testing.assert_allclose(ours.predict_proba(X), expected, rtol=1e-12, atol=1e-12)
        with np.errstate(divide="ignore"):
            np.testing.assert_allclose(ours.predict_log_proba(X), np.log(expected), rtol=1e-12)
        ours.coef_[...] /= scale
        ours.intercept_[...] /= scale
    # rows where every score is <= -1: one-vs-rest gives 0 to every class, then uniform
    ours.coef_[...], ours.intercept_[...] = 0.0, -2.0
    reference.coef_, reference.intercept_ = (
        np.zeros_like(ours.coef_),
        np.full(len(ours.coef_), -2.0),
    )
    expected = reference.predict_proba(X)
    np.testing.assert_array_equal(ours.predict_proba(X), expected)
    assert n_classes == 2 or np.all(expected == 1 / n_classes)


def test_fitted_attributes(digits_split):
    X_train, _, y_train, _ = digits_split
    est = SoftmaxClassifier(max_iter=3, tol=None, random_state=0).fit(X_train, y_train)
    assert est.coef_.shape == (10, 64) and est.intercept_.shape == (10,)
    assert est.classes_.tolist() == list(range(10))
    assert est.n_iter_ == 3 and est.history_.n_epochs == 3
    probs = est.predict_proba(X_train[:5])
    np.testing.assert_allclose(probs.sum(axis=1), 1)


def test_string_labels_and_binary_decision_function():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    y = np.where(X[:, 0] > 0, "cat", "dog")
    est = SoftmaxClassifier(lr=0.05, random_state=0).fit(X, y)
    assert set(est.predict(X)) <= {"cat", "dog"}
    decision = est.decision_function(X)
    assert decision.shape == (80,)
    np.testing.assert_array_equal(est.predict(X), est.classes_[(decision > 0).astype(int)])


def test_class_weight_balanced_and_dict_shift_predictions_toward_the_weighted_class():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (180, 2)), rng.normal(1.0, 1, (20, 2))]
    y = np.r_[np.zeros(180, int), np.ones(20, int)]
    plain = SoftmaxClassifier(lr=0.05, random_state=0).fit(X, y)
    balanced = SoftmaxClassifier(lr=0.05, class_weight="balanced", random_state=0).fit(X, y)
    heavy = SoftmaxClassifier(lr=0.05, class_weight={1: 50.0}, random_state=0).fit(X, y)
    n_plain, n_bal, n_heavy = ((m.predict(X) == 1).sum() for m in (plain, balanced, heavy))
    assert n_plain < n_bal < n_heavy


def test_partial_fit_streams_and_checks_its_labels(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    est = SoftmaxClassifier(lr=1e-2, random_state=0)
    with pytest.raises(ValueError, match="classes: must be given on the first call"):
        est.partial_fit(X_train[:10], y_train[:10])
    for chunk in np.array_split(np.arange(len(X_train)), 5):
        est.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
    assert est.score(X_test, y_test) > 0.85
    with pytest.raises(ValueError, match=r"y: labels \[11\] are not in classes"):
        est.partial_fit(X_train[:2], np.array([1, 11]))


def test_warm_start_continues_from_the_previous_weights(digits_split):
    X_train, _, y_train, _ = digits_split
    est = SoftmaxClassifier(
        solver="sgd", max_iter=2, tol=None, warm_start=True, random_state=0
    ).fit(X_train, y_train)
    W = est.coef_.copy()
    est.fit(X_train, y_train)
    assert est.history_.n_epochs == 4
    cold = SoftmaxClassifier(solver="sgd", max_iter=2, tol=None, random_state=0)
    cold.fit(X_train, y_train)
    np.testing.assert_array_equal(cold.coef_, W)
    assert not np.array_equal(est.coef_, W)


def test_convergence_warning_when_max_iter_ends_first(digits_split):
    X_train, _, y_train, _ = digits_split
    with pytest.warns(ConvergenceWarning, match="reached max_iter=2 epochs"):
        SoftmaxClassifier(solver="sgd", max_iter=2, random_state=0).fit(X_train, y_train)
    with pytest.warns(ConvergenceWarning, match="reached max_iter=2 iterations of the lbfgs"):
        SoftmaxClassifier(max_iter=2, random_state=0).fit(X_train, y_train)


def test_bad_input_errors(digits_split):
    X_train, _, y_train, _ = digits_split
    with pytest.raises(ValueError, match="NaN"):
        SoftmaxClassifier().fit(np.full((5, 3), np.nan), np.arange(5))
    with pytest.raises(ValueError, match="only one class"):
        SoftmaxClassifier().fit(X_train[:5], np.zeros(5))
    est = SoftmaxClassifier(max_iter=1, tol=None).fit(X_train, y_train)
    with pytest.raises(ValueError, match="X has 3 features, but SoftmaxClassifier is expecting 64"):
        est.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="loss: expected one of"):
        LinearClassifier(loss="hnige").fit(X_train, y_train)
    with pytest.raises(ValueError, match="optimizer: expected one of"):
        SoftmaxClassifier(optimizer="adamx").fit(X_train, y_train)
    with pytest.raises(ValueError, match="not a classification loss"):
        LinearClassifier(loss="mse").fit(X_train, y_train)


def test_full_batch_softmax_is_scikit_learns_multinomial_logistic_regression(digits_split):
    X, X_test, y, y_test = digits_split
    X, X_test, C = X / 16, X_test / 16, 0.1  # pixels in [0, 1]: a well-conditioned problem
    theirs = LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit(X, y)
    # sklearn minimises C·Σ CE + ½‖W‖²; losslab mean CE + alpha·‖W‖²: alpha = 1 / (2 C N)
    ours = SoftmaxClassifier(solver="lbfgs", alpha=1 / (2 * C * len(X)), tol=1e-9, max_iter=2000)
    ours.fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=2e-4)
    np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test), atol=1e-4)
    gd = SoftmaxClassifier(solver="gd", alpha=1 / (2 * C * len(X)), max_iter=300, tol=1e-9)
    with pytest.warns(ConvergenceWarning):  # steepest descent is slow: the warning says so
        gd.fit(X, y)
    assert gd.score(X_test, y_test) > 0.9
    with pytest.raises(ValueError, match="solver"):
        SoftmaxClassifier(solver="newton").fit(X, y)


def test_the_default_penalty_is_logistic_regressions_c_1(digits_split):
    # alpha="auto" = 1 / (2 n): SoftmaxClassifier() minimises LogisticRegression()'s objective
    X, X_test, y, _ = digits_split
    X, X_test = X[:400] / 16, X_test / 16
    y = y[:400]
    theirs = LogisticRegression(tol=1e-10, max_iter=5000).fit(X, y)
    ours = SoftmaxClassifier(tol=1e-9, max_iter=2000).fit(X, y)
    assert ours.alpha_ == 1 / (2 * 400) and ours.get_params()["alpha"] == "auto"
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=5e-4)
    np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test), atol=1e-4)
    assert SoftmaxClassifier(alpha=0.01).fit(X, y).alpha_ == 0.01
    assert MLPClassifier((4,), max_iter=2, tol=None).fit(X, y).alpha_ == 1e-4


def test_partial_fit_auto_penalty_counts_every_row_seen(digits_split):
    X, _, y, _ = digits_split
    clf = SoftmaxClassifier()
    clf.partial_fit(X[:100], y[:100], classes=np.unique(y))
    assert clf.alpha_ == 1 / 200
    clf.partial_fit(X[100:400], y[100:400])
    assert clf.alpha_ == 1 / 800  # ½‖W‖² on the summed loss of all 400 rows
    clf.partial_fit(X[:50], y[:50], classes=np.unique(y))  # a later call, not a new start
    assert clf.alpha_ == 1 / 900


def test_auto_on_two_classes_is_logistic_regressions_c_1_and_weights_are_repeated_rows():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    theirs = LogisticRegression(tol=1e-10, max_iter=5000).fit(X, y)
    ours = SoftmaxClassifier(tol=1e-9, max_iter=2000).fit(X, y)
    assert ours.alpha_ == 1 / len(X)  # two columns ±w/2: twice 1/(2n) is C=1 on w
    np.testing.assert_allclose(ours.coef_[1] - ours.coef_[0], theirs.coef_[0], atol=1e-4)
    # a weight of 2 on each row is each row twice: the same total, the same penalty
    twice = SoftmaxClassifier(tol=1e-9, max_iter=2000).fit(X, y, sample_weight=np.full(len(X), 2.0))
    doubled = SoftmaxClassifier(tol=1e-9, max_iter=2000).fit(np.vstack([X, X]), np.r_[y, y])
    assert twice.alpha_ == doubled.alpha_ == 1 / (2 * len(X))
    np.testing.assert_allclose(twice.coef_, doubled.coef_, atol=1e-5)


def test_partial_fit_after_fit_or_load_continues_the_auto_penalty(digits_split, tmp_path):
    from losslab.estimators import persist

    X, _, y, _ = digits_split
    clf = SoftmaxClassifier(max_iter=5, tol=None).fit(X[:300], y[:300])
    assert clf.alpha_ == 1 / 600
    persist.save(clf, tmp_path / "m.npz")
    loaded = persist.load_model(tmp_path / "m.npz")
    assert loaded.alpha_ == 1 / 600
    for est in (clf, loaded):
        est.partial_fit(X[300:400], y[300:400])
        assert est.alpha_ == 1 / 800  # the fit's 300 rows and these 100


@pytest.mark.parametrize("alpha", [-1.0, "strong", None])
def test_alpha_must_be_a_non_negative_number_or_auto(alpha, digits_split):
    X, _, y, _ = digits_split
    with pytest.raises(ValueError, match="'alpha' parameter"):
        SoftmaxClassifier(alpha=alpha).fit(X[:50], y[:50])


def text_like(n_docs, n_words, n_classes, words_per_doc=40, seed=0):
    """Sparse TF-IDF-like counts: Zipf word frequencies, each class favouring its own words."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_docs)
    zipf = 1.0 / np.arange(1, n_words + 1)
    topics = [rng.permutation(zipf) for _ in range(n_classes)]
    rows, cols = [], []
    for i, label in enumerate(y):
        mix = 0.7 * zipf / zipf.sum() + 0.3 * topics[label] / zipf.sum()
        words = rng.choice(n_words, size=words_per_doc, p=mix)
        rows.append(np.full(words_per_doc, i))
        cols.append(words)
    counts = sp.csr_matrix(
        (np.ones(n_docs * words_per_doc), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_docs, n_words),
    )
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data)
    return counts, y


def test_sparse_text_matches_logistic_regression_at_the_same_objective():
    X, y = text_like(1200, 3000, 4)
    X_train, X_test, y_train, y_test = X[:900], X[900:], y[:900], y[900:]
    # LogisticRegression(C=1) on the summed loss is alpha = 1 / (2 C n) on losslab's mean loss
    ours = SoftmaxClassifier(alpha=1 / (2 * 900), tol=1e-8, max_iter=2000).fit(X_train, y_train)
    reference = LogisticRegression(tol=1e-10, max_iter=5000).fit(X_train, y_train)
    assert ours.solver_ == "lbfgs"
    np.testing.assert_allclose(ours.coef_, reference.coef_, atol=2e-4)
    np.testing.assert_allclose(ours.intercept_, reference.intercept_, atol=2e-4)
    np.testing.assert_allclose(
        ours.predict_proba(X_test), reference.predict_proba(X_test), atol=1e-4
    )
    assert ours.score(X_test, y_test) == reference.score(X_test, y_test) > 0.5


@pytest.mark.parametrize(
    "estimator",
    [
        SoftmaxClassifier(random_state=0),
        SoftmaxClassifier(solver="sgd", max_iter=5, random_state=0),
        LinearClassifier(loss="hinge", solver="sgd", max_iter=5, random_state=0),
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0),
    ],
    ids=["lbfgs", "sgd", "hinge_sgd", "mlp"],
)
def test_sparse_input_trains_as_its_dense_copy(estimator):
    from sklearn.base import clone

    X, y = text_like(300, 500, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sparse = clone(estimator).fit(X, y)
        dense = clone(estimator).fit(X.toarray(), y)
    assert sparse.solver_ == dense.solver_
    for name, p in sparse.model_.params.items():
        np.testing.assert_allclose(p, dense.model_.params[name], rtol=1e-6, atol=1e-9)
    for form in (X, X.tocsc(), X.tocoo()):
        np.testing.assert_array_equal(sparse.predict(form), dense.predict(X.toarray()))
        np.testing.assert_allclose(
            sparse.decision_function(form), dense.decision_function(X.toarray()), atol=1e-9
        )


def test_sparse_x_is_never_densified():
    """100 stored values a row in 200,000 columns: dense, X would take 3.2 GB."""
    import tracemalloc

    import scipy.sparse as sp

    X = sp.random(2000, 200_000, density=5e-4, format="csr", random_state=0, dtype=np.float64)
    y = np.arange(2000) % 3
    tracemalloc.start()
    try:
        clf = SoftmaxClassifier(max_iter=20).fit(X, y)
        clf.predict(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.solver_ == "lbfgs"  # 100 values a row: full batch, as for dense data of that size
    # L-BFGS's own memory is most of the peak: 10 pairs of 600,003-entry vectors, 96 MB, and
    # a few weight-sized temporaries (4.8 MB each); a dense X would be 3.2 GB
    assert peak < 300e6, peak


def test_the_hinge_on_sparse_x_reaches_the_minimum_of_its_dense_copy():
    X, y = text_like(200, 300, 3)
    sparse = LinearSVM(solver="smoothing").fit(X, y)
    dense = LinearSVM().fit(X.toarray(), y)
    assert sparse.solver_ == dense.solver_ == "smoothing"
    assert sparse.history_.converged and dense.history_.converged
    np.testing.assert_allclose(
        sparse.history_.train_loss[-1], dense.history_.train_loss[-1], rtol=1e-6
    )
    np.testing.assert_array_equal(sparse.predict(X), dense.predict(X.toarray()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # auto on sparse X: smoothing for small problems of dense-ish rows (digits as CSR),
        # dual_cd for rows holding under spec.DENSE_ROWS of the columns (9.7% here)
        assert LinearSVM(max_iter=3).fit(X, y).solver_ == "dual_cd"
        dense_ish = X[:, :20].toarray() + 1.0  # every row holds every column
        assert LinearSVM(max_iter=3).fit(type(X)(dense_ish), y).solver_ == "smoothing"
    with pytest.raises(ValueError, match="solver: 'smoothing' takes a hinge loss"):
        SoftmaxClassifier(solver="smoothing").fit(X, y)


@pytest.mark.parametrize("alpha", ["auto", 0.01])
def test_class_weights_that_zero_every_weighted_row_are_one_error_naming_them(alpha):
    # each weight is valid, but the only classes sample_weight keeps weigh zero: "auto" blamed
    # alpha, a fixed alpha trained on nothing
    X = np.random.default_rng(0).standard_normal((30, 2))
    y = np.arange(30) % 3
    keep_two_classes = (y != 2).astype(float)
    clf = SoftmaxClassifier(alpha=alpha, class_weight={0: 0.0, 1: 0.0})
    with pytest.raises(ValueError, match=r"^class_weight: .* all weigh zero"):
        clf.fit(X, y, sample_weight=keep_two_classes)

"""The training loop: reproducibility, resume, the CS231n debugging checks, errors."""

import warnings

import numpy as np
import pytest

from losslab import config, datasets, losses, models, optim
from losslab.training import fit

DIGITS = datasets.load("digits", random_state=0)


def linear(n_outputs=10, seed=0, dtype=np.float64):
    return models.Linear(DIGITS.n_features, n_outputs, random_state=seed, dtype=dtype)


def train(model, **kw):
    options = {"optimizer": "adam", "lr": 1e-2, "epochs": 3, "random_state": 0, **kw}
    return fit(model, options.pop("loss", "softmax"), DIGITS.X_train, DIGITS.y_train, **options)


def test_same_seed_gives_bit_identical_weights_and_another_seed_does_not():
    a, b, c = linear(), linear(), linear()
    train(a)
    train(b)
    train(c, random_state=1)
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    assert not np.array_equal(a.params["W"], c.params["W"])


def test_resume_after_an_interrupted_run_gives_the_same_final_weights(tmp_path):
    ckpt = tmp_path / "checkpoint.npz"
    full = linear()
    train(full, epochs=6, optimizer="momentum", validation_fraction=0.1)

    def interrupt(epoch, logs, model):
        if epoch == 3:
            raise KeyboardInterrupt

    part = linear()
    with pytest.raises(KeyboardInterrupt):
        train(
            part,
            epochs=6,
            optimizer="momentum",
            validation_fraction=0.1,
            checkpoint=ckpt,
            callbacks=[interrupt],
        )
    resumed = linear()
    history = train(
        resumed,
        epochs=6,
        optimizer="momentum",
        validation_fraction=0.1,
        checkpoint=ckpt,
        resume=True,
    )
    np.testing.assert_array_equal(resumed.params["W"], full.params["W"])
    assert history.epoch == [1, 2, 3, 4, 5, 6]
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_resume_with_adam_restores_its_step_counter(tmp_path):
    ckpt = tmp_path / "c.npz"
    full = linear()
    train(full, epochs=4)
    part = linear()
    train(part, epochs=2, checkpoint=ckpt)
    resumed = linear()
    train(resumed, epochs=4, checkpoint=ckpt, resume=True)
    np.testing.assert_array_equal(resumed.params["W"], full.params["W"])


@pytest.mark.parametrize(("loss", "expected"), [("svm", 9.0), ("softmax", np.log(10))])
def test_initial_loss_with_small_weights_is_c_minus_1_or_ln_c(loss, expected):
    model = linear()
    # the first step's loss is measured before its update, at the starting weights
    history = fit(model, loss, DIGITS.X_train, DIGITS.y_train, lr=1e-3, epochs=1, batch_size=10_000)
    assert history.step_loss[0] == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("model_kind", ["linear", "mlp"])
def test_a_tiny_subset_is_overfit_to_near_zero_loss(model_kind):
    X, y = DIGITS.X_train[:20], DIGITS.y_train[:20]
    model = models.build(model_kind, 64, 10, hidden=(50,), random_state=0)
    history = fit(
        model, "softmax", X, y, optimizer="adam", lr=1e-2, epochs=300, batch_size=20, reg=0.0
    )
    assert history.train_loss[-1] < 0.01
    assert history.train_accuracy[-1] == 1.0


def test_batch_size_of_n_is_full_batch_gradient_descent():
    X, y = DIGITS.X_train[:50], DIGITS.y_train[:50]
    model = linear()
    W0 = model.params["W"].copy()
    history = fit(model, "softmax", X, y, optimizer="sgd", lr=0.5, epochs=1, batch_size=10_000)
    assert len(history.step_loss) == 1
    r = losses.softmax_cross_entropy(X @ W0, y)
    np.testing.assert_allclose(model.params["W"], W0 - 0.5 * X.T @ r.grad)


def test_step_losses_are_recorded_per_mini_batch():
    history = train(linear(), epochs=2, batch_size=100)
    steps_per_epoch = -(-len(DIGITS.X_train) // 100)
    assert len(history.step_loss) == 2 * steps_per_epoch
    assert len(history.train_loss) == len(history.train_accuracy) == 2


def test_regularization_pulls_weights_toward_zero_and_never_touches_biases():
    free, ridge = linear(), linear()
    train(free, reg=0.0, epochs=5)
    train(ridge, reg=0.5, epochs=5)
    assert np.abs(ridge.params["W"]).sum() < 0.5 * np.abs(free.params["W"]).sum()
    # a loss without gradient leaves only the penalty to move the parameters: b stays put
    model = linear()
    model.params["b"][...] = 0.25

    def flat(scores, target):
        return 0.0, np.zeros_like(scores)

    fit(model, flat, DIGITS.X_train, DIGITS.y_train, optimizer="sgd", lr=0.01, reg=10.0, epochs=1)
    assert np.all(model.params["b"] == 0.25)
    assert np.abs(model.params["W"]).sum() < 0.9 * np.abs(linear().params["W"]).sum()


def test_early_stopping_restores_the_best_validation_weights():
    model = linear()
    history = train(model, epochs=200, early_stopping=True, patience=3, tol=0.0, lr=0.05)
    assert history.converged and history.n_epochs < 200
    best = history.val_loss[history.best_epoch - 1]
    assert min(v for v in history.val_loss if v is not None) == best


def test_callback_can_stop_training():
    history = train(linear(), epochs=10, callbacks=[lambda epoch, logs, model: epoch == 2])
    assert history.n_epochs == 2 and history.stopped_by_callback


def test_schedule_changes_the_learning_rate_over_epochs():
    history = train(linear(), epochs=4, optimizer="sgd", lr=0.1, schedule="step")
    assert history.lr == pytest.approx([0.1] * 4)
    history = train(linear(), epochs=4, optimizer="sgd", lr=0.1, schedule="cosine")
    assert history.lr[0] > history.lr[-1]


def test_float32_training_keeps_float32():
    model = linear(dtype=np.float32)
    fit(model, "softmax", DIGITS.X_train.astype(np.float32), DIGITS.y_train, epochs=1)
    assert model.params["W"].dtype == np.float32


def test_binary_losses_train_one_vs_rest_and_regression_losses_fit_values():
    model = linear()
    history = train(model, loss="hinge", epochs=5)
    assert history.train_accuracy[-1] > 0.9
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 3
    reg_model = models.Linear(3, 1, random_state=0)
    fit(reg_model, "mse", X, y, optimizer="adam", lr=0.05, epochs=100, batch_size=32)
    np.testing.assert_allclose(reg_model.params["W"][:, 0], [1.0, -2.0, 0.5], atol=0.01)
    assert reg_model.params["b"][0] == pytest.approx(3.0, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"X": np.full((3, 64), np.nan)}, ValueError, "X: expected finite values"),
        (
            {"X": np.zeros((3, 5))},
            ValueError,
            r"X: expected shape \(N, 64\) for this model, got shape \(3, 5\)",
        ),
        ({"loss": "hnige"}, ValueError, "loss: expected one of"),
        ({"optimizer": "adamx"}, ValueError, "optimizer: expected one of"),
        ({"clip_grad_norm": -1.0}, ValueError, "^clip_grad_norm: expected None or a positive"),
        ({"clip_grad_norm": 0}, ValueError, "^clip_grad_norm: expected None or a positive"),
        ({"clip_grad_norm": np.nan}, ValueError, "^clip_grad_norm: expected None or a positive"),
        ({"clip_grad_norm": "1"}, ValueError, "^clip_grad_norm: expected None or a positive"),
        ({"loss": "bce"}, ValueError, "takes probabilities, not scores"),
        ({"loss": "triplet"}, ValueError, "fit trains classifiers and regressors"),
        ({"y": np.zeros(2, int)}, ValueError, "y: expected 3 targets"),
        (
            {"sample_weight": [1.0, -1.0, 1.0]},
            ValueError,
            "sample_weight: expected finite non-negative",
        ),
        ({"lr": 0.0}, ValueError, "^lr: expected a number > 0, got 0.0"),
        ({"lr": -0.5}, ValueError, "^lr: expected a number > 0, got -0.5"),
        ({"lr": np.inf}, ValueError, "^lr: expected a finite number"),
        ({"lr": np.nan}, ValueError, "^lr: expected a finite number"),
        ({"batch_size": 0}, ValueError, "^batch_size: expected a positive integer, got 0"),
        ({"batch_size": -5}, ValueError, "^batch_size: expected a positive integer, got -5"),
        ({"batch_size": 2.5}, ValueError, "^batch_size: expected a positive integer, got 2.5"),
        ({"batch_size": True}, ValueError, "^batch_size: expected a positive integer, got True"),
        ({"epochs": 0}, ValueError, "^epochs: expected a positive integer, got 0"),
        ({"patience": 0}, ValueError, "^patience: expected a positive integer, got 0"),
        ({"tol": -1.0}, ValueError, "^tol: expected a number >= 0, got -1.0"),
        ({"reg": -1e-3}, ValueError, "^reg: expected a number >= 0"),
        ({"reg": np.inf}, ValueError, "^reg: expected a finite number"),
        ({"random_state": -1}, ValueError, "^random_state: expected None or a non-negative"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, error, match):
    args = {"X": DIGITS.X_train[:3], "y": DIGITS.y_train[:3], "loss": "softmax", **kwargs}
    with pytest.raises(error, match=match):
        fit(linear(), args.pop("loss"), args.pop("X"), args.pop("y"), **args)


def test_numpy_integers_and_a_batch_larger_than_n_stay_valid():
    model = linear()
    history = train(model, batch_size=np.int64(10_000), epochs=np.int32(2), patience=np.int64(1))
    assert history.n_epochs == 2 and len(history.step_loss) == 2  # one full batch an epoch


def test_all_finite_needs_no_temporary_and_handles_overflowing_sums():
    from losslab.training.checks import all_finite

    X = np.ones((1000, 4))
    assert all_finite(X)
    X[500, 2] = np.nan
    assert not all_finite(X)
    big = np.full((10, 2), 1e308)  # finite entries whose sum overflows
    assert all_finite(big)
    big[3, 1] = np.inf
    assert not all_finite(big, block=4)
    # the sum runs in X's own dtype: float32 overflows sooner, and is still handled
    big32 = np.full((10, 2), 3e38, dtype=np.float32)
    assert all_finite(big32)
    big32[9, 0] = np.nan
    assert not all_finite(big32, block=4)


def test_labels_outside_the_classes_are_one_clear_error_before_training():
    X, y = DIGITS.X_train[:20], DIGITS.y_train[:20].copy()
    y[7] = 10  # the model has 10 score columns: labels 0..9
    with pytest.raises(ValueError, match=r"target: expected labels in \[0, 10\), got label 10"):
        fit(linear(), "softmax", X, y, batch_size=4, epochs=1)


def torch_full_batch(model, X, y, epochs, make_opt, make_schedule, max_norm):
    """torch's weights after ``epochs`` full-batch steps of mean cross-entropy from ``model``'s."""
    torch = pytest.importorskip("torch")
    W = torch.tensor(model.params["W"], requires_grad=True)
    b = torch.tensor(model.params["b"], requires_grad=True)
    opt = make_opt([W, b])
    scheduler = make_schedule(opt)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(X @ W + b, y).backward()
        torch.nn.utils.clip_grad_norm_([W, b], max_norm)
        opt.step()
        scheduler.step()
    return W.detach().numpy(), b.detach().numpy()


FAST = [False, True] if config.fast_available() else [False]


@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize("schedule", ["warmup_cosine", "onecycle"])
def test_adamw_clipped_and_scheduled_fit_follows_torch(fast, schedule):
    torch = pytest.importorskip("torch")
    L = torch.optim.lr_scheduler
    X, y, epochs, lr, max_norm = DIGITS.X_train[:300], DIGITS.y_train[:300], 40, 0.05, 0.5
    make_schedule = {
        "warmup_cosine": lambda opt: L.SequentialLR(
            opt,
            [
                L.LinearLR(opt, start_factor=0.1, total_iters=6),
                L.CosineAnnealingLR(opt, T_max=epochs - 6),
            ],
            milestones=[6],
        ),
        "onecycle": lambda opt: L.OneCycleLR(
            opt, max_lr=lr, total_steps=epochs, cycle_momentum=False
        ),
    }[schedule]
    ours_schedule = {
        "warmup_cosine": optim.warmup_cosine(lr, epochs, warmup_epochs=6, start_factor=0.1),
        "onecycle": "onecycle",
    }[schedule]
    model = linear(seed=1)
    W, b = torch_full_batch(
        model,
        X,
        y,
        epochs,
        lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=0.1),
        make_schedule,
        max_norm,
    )
    with config.fast(fast), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(
            model,
            "softmax",
            X,
            y,
            optimizer=optim.AdamW(weight_decay=0.1),
            lr=lr,
            schedule=ours_schedule,
            batch_size=len(X),  # one step per epoch, on the whole set as torch's
            epochs=epochs,
            clip_grad_norm=max_norm,
            random_state=0,
        )
    np.testing.assert_allclose(model.params["W"], W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.params["b"], b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fast", FAST)
def test_clipping_bounds_every_step_and_changes_the_path(fast):
    norms = []

    class Recorder(optim.SGD):
        def update(self, params, grads, state, lr):
            norms.append(np.sqrt(sum(float((g**2).sum()) for g in grads.values())))
            super().update(params, grads, state, lr)

    clipped, free = linear(), linear()
    with config.fast(fast):
        train(clipped, optimizer=Recorder(), clip_grad_norm=0.05, batch_size=32)
        train(free, optimizer="sgd", batch_size=32)
    assert max(norms) <= 0.05 * (1 + 1e-9) and len(norms) == 3 * -(-len(DIGITS.X_train) // 32)
    assert not np.allclose(clipped.params["W"], free.params["W"])


def test_onecycle_by_name_counts_the_mini_batches_of_the_run():
    torch = pytest.importorskip("torch")
    rates = []

    class Recorder(optim.SGD):
        def update(self, params, grads, state, lr):
            rates.append(lr)
            super().update(params, grads, state, lr)

    train(linear(), optimizer=Recorder(), lr=0.1, schedule="onecycle", epochs=4, batch_size=100)
    steps = 4 * -(-len(DIGITS.X_train) // 100)
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.1, total_steps=steps, cycle_momentum=False
    )
    expected = []
    for _ in range(steps):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(rates, expected, rtol=1e-10)


def plateau_run(model, schedule, **kw):
    return train(
        model,
        optimizer="sgd",
        lr=0.5,
        schedule=schedule,
        epochs=8,
        validation_fraction=0.2,
        **kw,
    )


def torch_plateau_rates(losses, lr, **options):
    """The rate of each epoch under torch's ReduceLROnPlateau told each epoch's loss after it."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
    rates = []
    for loss in losses:
        rates.append(opt.param_groups[0]["lr"])
        scheduler.step(loss)
    return rates


def test_plateau_follows_the_validation_loss_as_torch_would():
    options = {"patience": 0, "threshold": 0.15, "factor": 0.5}
    history = plateau_run(linear(), optim.plateau(0.5, **options))
    assert history.lr == pytest.approx(torch_plateau_rates(history.val_loss, 0.5, **options))
    assert history.lr[-1] < history.lr[0]  # the run did reach a plateau


def test_plateau_without_validation_follows_the_training_loss():
    options = {"patience": 0, "threshold": 0.5}
    history = train(
        linear(), optimizer="sgd", lr=0.5, epochs=6, schedule=optim.plateau(0.5, **options)
    )
    assert history.val_loss == [None] * 6
    assert history.lr == pytest.approx(torch_plateau_rates(history.train_loss, 0.5, **options))
    assert history.lr[-1] < history.lr[0]


def test_resume_with_plateau_replays_the_history_and_gives_the_same_weights(tmp_path):
    sched = optim.plateau(0.5, patience=0, threshold=0.15, factor=0.5)
    full = linear()
    full_history = plateau_run(full, sched)

    def interrupt(epoch, logs, model):
        if epoch == 4:
            raise KeyboardInterrupt

    ckpt = tmp_path / "checkpoint.npz"
    with pytest.raises(KeyboardInterrupt):
        plateau_run(linear(), sched, checkpoint=ckpt, callbacks=[interrupt])
    resumed = linear()
    history = plateau_run(resumed, sched, checkpoint=ckpt, resume=True)
    assert history.lr == full_history.lr and len(set(history.lr[4:])) > 1
    np.testing.assert_array_equal(resumed.params["W"], full.params["W"])

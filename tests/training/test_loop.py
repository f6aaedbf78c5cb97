"""The one training loop: every trainer takes its steps through training.loop, and what the
loop does (stop on divergence, callbacks, checkpoints, early stopping) it does for all of them."""

import numpy as np
import pytest

from losslab import MetricLearner, SoftmaxClassifier, fit, models, optim
from losslab.training import loop
from losslab.training.state import History, TrainState
from losslab.training.stopping import EarlyStopping
from losslab.web import playground


def blobs(n=120, d=4, c=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = rng.normal(size=(n, d)) + 3 * np.eye(c, d)[y]
    return X, y


def trainers():
    """The four ways losslab trains a model, each as a call on small data."""
    X, y = blobs()
    page = {**playground.make_points("blobs", 3, 5), "optimizer": "sgd", "lr": 0.1}

    def with_fit():
        fit(models.Linear(4, 3, random_state=0), "softmax", X, y, epochs=2)

    def with_metric_learner():
        MetricLearner(2, max_iter=2, random_state=0).fit(X, y)

    def with_playground():
        playground.step(page, n_steps=3)

    def with_local_sgd():
        da = pytest.importorskip("dask.array")
        distributed = pytest.importorskip("distributed")
        with distributed.Client(processes=False, n_workers=2, dashboard_address=None):
            X_d, y_d = da.from_array(X, chunks=40), da.from_array(y, chunks=40)
            SoftmaxClassifier(solver="sgd", max_iter=1, batch_size=8).fit(X_d, y_d)

    return {
        "fit": with_fit,
        "MetricLearner": with_metric_learner,
        "playground": with_playground,
        "local SGD on Dask": with_local_sgd,
    }


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", list(trainers()))
def test_every_trainer_runs_through_the_one_loop(name, monkeypatch):
    # wrap the loop's two functions once; each trainer must be seen by both
    seen = {"take_steps": 0, "run_epochs": 0}
    for function in seen:
        original = getattr(loop, function)

        def counting(*args, _original=original, _name=function, **kwargs):
            seen[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(loop, function, counting)
    trainers()[name]()
    assert seen["take_steps"] >= 1, name
    if name != "local SGD on Dask":  # there the workers take the steps, the driver runs the epochs
        assert seen["run_epochs"] == 1, name


def test_fit_that_diverges_stops_restores_the_last_finite_weights_and_says_why(monkeypatch):
    monkeypatch.setattr(loop, "EXPLOSION", np.inf)  # the overflow itself, not its growth
    X, y = blobs()
    model = models.Linear(4, 1, random_state=0)
    kept = []

    def remember(epoch, logs, m):
        kept.append({k: p.copy() for k, p in m.params.items()})

    # squared error with a step far too long: the weights grow geometrically until they overflow
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="lr: training diverged"):
        fit(model, "mse", X, y * 1.0, lr=3.0, epochs=500, callbacks=[remember])
    assert len(kept) >= 2  # it ran some epochs before the loss overflowed
    for k, p in model.params.items():
        assert np.all(np.isfinite(p))
        np.testing.assert_array_equal(p, kept[-1][k])


def test_a_loss_that_explodes_but_stays_finite_stops_with_the_last_epochs_weights():
    X, y = blobs()
    model = models.Linear(4, 1, random_state=0)
    kept = []

    def remember(epoch, logs, m):
        kept.append({k: p.copy() for k, p in m.params.items()})

    # a step 4x too long: the loss grows about 60-fold an epoch, and would overflow only
    # after a hundred epochs
    with pytest.raises(
        loop.Diverged, match=r"in epoch 3 \(the training loss grew to .*, over 1000 times"
    ):
        fit(model, "mse", X, y * 1.0, lr=0.5, epochs=500, callbacks=[remember])
    assert len(kept) == 2
    for k, p in model.params.items():
        np.testing.assert_array_equal(p, kept[-1][k])


def test_softmax_with_a_huge_learning_rate_stops_in_its_first_epoch():
    """The issue's case: iris with lr 1e4 went from a loss of 1.1 to 7.7e5 without a word."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for optimizer in ("sgd", "adam"):
        clf = SoftmaxClassifier(solver="sgd", optimizer=optimizer, lr=1e4, random_state=0)
        with pytest.raises(ValueError, match=r"in epoch 1 \(.*over 1000 times the 1\.09"):
            clf.fit(X, y)


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "sgd", "lr": 1.0, "batch_size": 1},  # one row a step
        {"optimizer": "adam", "lr": 10.0},  # the loss jumps to 4x its start
        {"optimizer": "momentum", "lr": 0.5, "batch_size": 4},
    ],
)
def test_healthy_noisy_sgd_is_not_stopped(options):
    X, y = blobs(seed=1)
    X = X + np.random.default_rng(1).normal(scale=2.0, size=X.shape)  # overlapping classes
    clf = SoftmaxClassifier(solver="sgd", max_iter=30, tol=None, random_state=0, **options)
    clf.fit(X, y)
    losses = np.array(clf.history_.train_loss)
    assert len(losses) == 30 and np.isfinite(losses).all()
    assert clf.score(X, y) > 0.5


def test_the_growth_check_needs_a_positive_start():
    history = History()
    loop.check_growth(1e9, history)  # nothing to compare with yet
    history.step_loss.append(0.0)
    loop.check_growth(1e9, history)  # a zero start gives no scale
    history.step_loss[0] = 2.0
    loop.check_growth(1999.0, history)
    with pytest.raises(loop.Diverged, match="grew to 2001, over 1000 times the 2 it"):
        loop.check_growth(2001.0, history)


def test_metric_learner_that_diverges_stops_with_finite_weights():
    X, y = blobs()
    learner = MetricLearner(2, optimizer="sgd", lr=1e305, max_iter=3, normalize=False)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="diverged"):
        learner.fit(X, y)
    assert all(np.all(np.isfinite(p)) for p in learner.model_.params.values())


class Quadratic:
    """Half the squared distance of the parameter from 3: the smallest thing a loop can train."""

    def __init__(self):
        self.params = {"w": np.zeros(1)}

    def value_and_grads(self, X, target, weights):
        w = self.params["w"]
        return float(0.5 * np.sum((w - 3) ** 2)), {"w": w - 3}, None


def run(model, epochs, *, lr=0.5, steps=2, **options):
    state = TrainState(optim.SGD(), {}, np.random.default_rng(0))
    history = History()

    def epoch():
        batches = [(None, np.zeros(1), None)] * steps
        totals = loop.take_steps(
            model.value_and_grads, model.params, state, batches, optim.constant(lr)
        )
        state.epoch += 1
        return {"epoch": state.epoch, "train_loss": totals.mean_loss, "lr": totals.lr}

    return loop.run_epochs(epoch, state, history, model, epochs, **options)


def test_run_epochs_records_checkpoints_and_asks_callbacks_each_epoch(tmp_path):
    model = Quadratic()
    calls = []
    history = run(
        model,
        3,
        checkpoint=tmp_path / "c.npz",
        callbacks=[lambda e, logs, m: calls.append((e, logs["train_loss"]))],
    )
    assert history.epoch == [1, 2, 3] and [e for e, _ in calls] == [1, 2, 3]
    assert history.train_loss == [loss for _, loss in calls]
    assert history.state.step == 6 and (tmp_path / "c.npz").is_file()
    np.testing.assert_allclose(model.params["w"], 3 - 3 * 0.5**6)


def test_a_callback_returning_true_stops_after_that_epoch():
    history = run(Quadratic(), 10, callbacks=[lambda e, logs, m: e == 2])
    assert history.n_epochs == 2 and history.stopped_by_callback


def test_early_stopping_checks_the_mean_of_each_window_and_keeps_the_best():
    # lr 2 overshoots to the mirror image each step: the loss never improves
    history = run(Quadratic(), 20, lr=2.0, stopping=EarlyStopping(0.0, 2, window=3))
    assert history.converged and history.n_epochs == 9  # checks after 3, 6 (stale 1), 9 (stale 2)

    # lr 2.5 overshoots further each step: the first epoch is the best, and its weights come back
    model = Quadratic()
    history = run(model, 50, lr=2.5, stopping=EarlyStopping(0.0, 2, keep_best=True))
    assert history.n_epochs == 3 and history.best_epoch == 1
    np.testing.assert_allclose(model.params["w"], 3 - 6.75)  # w - 3: -3, 4.5, -6.75 after 2 steps


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_a_non_finite_gradient_norm_stops_a_clipped_step_before_it_is_taken(bad):
    model = Quadratic()
    # a finite loss whose gradient is not: only the gradient's norm can show it
    model.value_and_grads = lambda X, t, w: (1.0, {"w": np.array([bad])}, None)
    state = TrainState(optim.SGD(), {}, np.random.default_rng(0))
    with pytest.raises(loop.Diverged, match=f"the gradient norm became {bad} at step 1"):
        loop.take_steps(
            model.value_and_grads,
            model.params,
            state,
            [(None, np.zeros(1), None)],
            optim.constant(0.1),
            clip_grad_norm=1.0,
        )
    assert model.params["w"][0] == 0.0 and state.step == 0


def test_clipping_scales_the_step_of_the_loop():
    model = Quadratic()  # gradient w - 3 = -3 at the start: norm 3, clipped to 1
    state = TrainState(optim.SGD(), {}, np.random.default_rng(0))
    batches = [(None, np.zeros(1), None)]
    loop.take_steps(
        model.value_and_grads, model.params, state, batches, optim.constant(0.5), clip_grad_norm=1.0
    )
    assert model.params["w"][0] == pytest.approx(0.5 * 3 / (3 + 1e-6))


def test_a_clipped_fit_that_diverges_still_stops_and_says_why():
    X, y = blobs()
    model = models.Linear(4, 1, random_state=0)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="lr: training diverged"):
        fit(model, "mse", X, y * 1.0, lr=3.0, epochs=500, clip_grad_norm=1e300)
    assert all(np.all(np.isfinite(p)) for p in model.params.values())


class LossLog:
    """A schedule that follows the loss, recording what the loop tells it."""

    def __init__(self):
        self.seen, self.resets = [], 0

    def __call__(self, epoch):
        return 0.1

    def reset(self):
        self.seen, self.resets = [], self.resets + 1

    def observe(self, loss):
        self.seen.append(loss)


def test_a_loss_following_schedule_replays_the_history_then_sees_each_epoch():
    model, schedule = Quadratic(), LossLog()
    history = run(model, 2, schedule=schedule)
    assert schedule.seen == history.train_loss and schedule.resets == 1
    state = history.state
    more = loop.run_epochs(
        lambda: {
            "epoch": setattr(state, "epoch", state.epoch + 1) or state.epoch,
            "train_loss": 7.0,
            "val_loss": 5.0,
        },
        state,
        history,
        model,
        4,
        schedule=schedule,
    )
    # the two epochs already run are replayed, then the validation loss is the one followed
    assert schedule.resets == 2 and schedule.seen == [*history.train_loss[:2], 5.0, 5.0]
    assert more.val_loss == [None, None, 5.0, 5.0]

"""fit's fused epoch takes the loop's steps: the same weights, losses and errors, and only where it applies."""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

import losslab
from losslab import config, losses, models, optim
from losslab.training import Diverged, Objective, TrainState, fused

pytestmark = pytest.mark.skipif(
    not config.fast_available(), reason="the fast extra (numba) is not installed"
)
RNG = np.random.default_rng(0)
X_DATA = RNG.standard_normal((203, 7))  # 203 rows: the last batch of each epoch is short
Y_DATA = RNG.integers(0, 4, 203)
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}


@pytest.fixture
def fused_calls(monkeypatch):
    """The fused epochs a fit ran: the calls of fused.LinearSteps."""
    calls = []
    original = fused.LinearSteps.__call__

    def counted(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(fused.LinearSteps, "__call__", counted)
    return calls


def train(on, dtype=np.float64, loss="softmax", X=None, epochs=3, **options):
    model = models.Linear(7, 4, dtype=dtype, random_state=0)
    options = {"lr": 0.05, "batch_size": 16, "random_state": 1, **options}
    X = X_DATA.astype(dtype) if X is None else X
    with config.fast(on):
        history = losslab.fit(model, loss, X, Y_DATA, epochs=epochs, **options)
    return model, history


def assert_same_run(reference, fast, dtype):
    (model, history), (fast_model, fast_history) = reference, fast
    for k, p in model.params.items():
        scale = max(1.0, float(np.abs(p).max()))
        np.testing.assert_allclose(fast_model.params[k], p, rtol=0, atol=TOLERANCE[dtype] * scale)
        assert fast_model.params[k].dtype == dtype
    rel = TOLERANCE[dtype]
    np.testing.assert_allclose(fast_history.step_loss, history.step_loss, rtol=rel)
    np.testing.assert_allclose(fast_history.train_loss, history.train_loss, rtol=rel)
    assert fast_history.train_accuracy == history.train_accuracy
    assert fast_history.lr == history.lr
    assert fast_history.state.step == history.state.step
    assert fast_history.state.opt_state.get("t") == history.state.opt_state.get("t")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", ["softmax", "svm", losses.get("svm").with_options(squared=True)])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("reg", [0.0, 0.01])
def test_the_fused_epoch_follows_the_numpy_steps(dtype, loss, optimizer, reg, fused_calls):
    options = {"optimizer": optimizer, "reg": reg, "schedule": "cosine", "loss": loss}
    reference = train(False, dtype, **options)
    assert fused_calls == []
    fast = train(True, dtype, **options)
    assert len(fused_calls) == 3  # every epoch
    assert_same_run(reference, fast, dtype)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 60),
    batch_size=st.integers(1, 70),
    loss=st.sampled_from(["softmax", "svm"]),
    optimizer=st.sampled_from(["sgd", "momentum", "adam"]),
    seed=st.integers(0, 2**16),
)
def test_any_rows_and_batch_size_give_the_loops_weights(rows, batch_size, loss, optimizer, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((rows, 5)), rng.integers(0, 3, rows)
    runs = []
    for on in (False, True):
        model = models.Linear(5, 3, random_state=seed)
        with config.fast(on):
            history = losslab.fit(model, loss, X, y, optimizer=optimizer, lr=0.1, reg=1e-3,
                                  batch_size=batch_size, epochs=2, random_state=seed)  # fmt: skip
        runs.append((model, history))
    assert_same_run(*runs, np.float64)


def test_hinge_margin_and_per_step_schedules_are_followed(fused_calls):
    options = {"optimizer": "adam", "schedule": "onecycle", "lr": 0.1}
    loss = losses.get("svm").with_options(margin=0.5)
    assert_same_run(
        train(False, loss=loss, **options), train(True, loss=loss, **options), np.float64
    )
    assert len(fused_calls) == 3


def test_validation_early_stopping_and_callbacks_see_the_same_epochs(fused_calls):
    seen = {}

    def run(on):
        logs = []
        options = {"validation_fraction": 0.2, "early_stopping": True, "schedule": "plateau"}
        result = train(
            on, epochs=6, optimizer="adam", callbacks=[lambda e, lg, m: logs.append(lg)], **options
        )
        seen[on] = logs
        return result

    reference, fast = run(False), run(True)
    assert_same_run(reference, fast, np.float64)
    assert len(fused_calls) == len(seen[True]) > 0
    for a, b in zip(seen[False], seen[True], strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-10)
        assert a["val_accuracy"] == b["val_accuracy"]


def test_a_second_call_continues_adams_count(fused_calls):
    def two_calls(on):
        model = models.Linear(7, 4, random_state=0)
        opt = optim.Adam()
        state = TrainState(opt, opt.init(model.params), np.random.default_rng(3))
        history = None
        with config.fast(on):
            for epochs in (1, 2):  # one more epoch per call, as partial_fit asks
                history = losslab.fit(model, "softmax", X_DATA, Y_DATA, optimizer=opt, lr=0.05,
                                      batch_size=32, epochs=epochs, state=state, history=history)  # fmt: skip
        return model, history

    reference, fast = two_calls(False), two_calls(True)
    assert_same_run(reference, fast, np.float64)
    assert fast[1].state.opt_state["t"] == 2 * 7
    assert len(fused_calls) == 2


def test_a_run_resumed_from_its_checkpoint_ends_where_the_whole_run_ends(tmp_path, fused_calls):
    checkpoint = tmp_path / "run.npz"
    whole, _ = train(True, epochs=4, optimizer="adam")
    train(True, epochs=2, optimizer="adam", checkpoint=checkpoint)
    resumed, history = train(True, epochs=4, optimizer="adam", checkpoint=checkpoint, resume=True)
    assert history.epoch == [1, 2, 3, 4]
    assert history.state.opt_state["t"] == 4 * 13
    for k, p in whole.params.items():
        np.testing.assert_array_equal(resumed.params[k], p)  # the same path: bit for bit
    assert len(fused_calls) == 4 + 2 + 2


def test_a_non_finite_loss_stops_at_the_same_step_with_the_same_message(fused_calls):
    errors, runs = [], []
    for on in (False, True):
        model = models.Linear(7, 4, random_state=0)
        history = losslab.History()
        # Adam's first step is lr / (1 - β₁) = inf: the second step's scores are not finite
        with config.fast(on), pytest.raises(Diverged) as caught:
            losslab.fit(model, "softmax", X_DATA, Y_DATA, optimizer="adam", lr=1e308,
                        batch_size=16, epochs=3, random_state=1, history=history)  # fmt: skip
        errors.append(str(caught.value))
        runs.append((model, history))
    assert errors[0] == errors[1]
    assert "training loss became nan at step 2" in errors[0]
    assert fused_calls != []
    (model, history), (fast_model, fast_history) = runs
    assert fast_history.step_loss == pytest.approx(history.step_loss, rel=1e-12)
    assert len(fast_history.step_loss) == 1
    for k, p in model.params.items():  # the weights before the epoch, restored
        np.testing.assert_array_equal(fast_model.params[k], p)
        np.testing.assert_array_equal(p, models.Linear(7, 4, random_state=0).params[k])


def case_for(
    model=None,
    loss="softmax",
    optimizer="adam",
    X=None,
    weights=None,
    clip=None,
    batch_size=64,
    **objective,
):
    """fused.linear_case for one change to the common case."""
    model = model or models.Linear(7, 4, random_state=0)
    opt = optim.get(optimizer)
    state = TrainState(opt, opt.init(model.params), np.random.default_rng(0))
    obj = Objective(model, losses.get(loss).for_task("multiclass"), **objective)
    X = X_DATA if X is None else X
    return fused.linear_case(obj, state, X, Y_DATA.astype(np.intp), weights, clip, batch_size)


def test_the_common_case_is_taken():
    assert case_for() is not None
    assert case_for(loss="svm", optimizer="momentum", reg=0.1) is not None
    assert (
        case_for(
            optimizer="sgd",
            X=X_DATA.astype(np.float32),
            model=models.Linear(7, 4, dtype=np.float32),
        )
        is not None
    )


@pytest.mark.parametrize(
    "change",
    [
        {"weights": np.ones(203)},
        {"clip": 1.0},
        {"batch_size": fused.MAX_BATCH + 1},
        {"model": models.MLP(7, (5,), 4, random_state=0)},
        {"loss": losses.get("softmax").with_options(label_smoothing=0.1)},
        {"loss": losses.get("softmax").with_options(class_weight=np.ones(4))},
        {"loss": losses.get("softmax").with_options(reduction="sum")},
        {"loss": "focal"},
        {"loss": losses.get("svm").with_options(kind="crammer_singer")},
        {"reg": 0.1, "penalty": "l1"},
        {"optimizer": "nesterov"},
        {"optimizer": "adamw"},
        {"optimizer": "rmsprop"},
        {"X": X_DATA.astype(np.float32)},  # float32 data, float64 weights: NumPy upcasts
        {"X": np.asfortranarray(X_DATA)},
        {"X": scipy.sparse.csr_matrix(X_DATA)},
    ],
    ids=lambda change: next(iter(change)) + ":" + type(next(iter(change.values()))).__name__,
)
def test_every_other_case_runs_the_loop(change):
    assert case_for(**change) is None


def test_fit_falls_back_where_the_case_does_not_apply(fused_calls):
    train(True, sample_weight=np.ones(203), epochs=1)
    train(True, clip_grad_norm=1.0, epochs=1)
    train(True, loss="focal", epochs=1)
    assert fused_calls == []

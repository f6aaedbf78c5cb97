"""The schedules against torch.optim.lr_scheduler, step for step, and their bad arguments."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losslab import optim

torch = pytest.importorskip("torch")
L = torch.optim.lr_scheduler


def torch_rates(make_scheduler, steps, lr):
    """The learning rate torch's scheduler gives each of ``steps`` optimizer steps."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    scheduler = make_scheduler(opt)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation notes on step(epoch)
        for _ in range(steps):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
    return np.array(rates)


def our_rates(schedule, steps, steps_per_epoch):
    """Our schedule asked as the loop asks it: at epoch + k / steps_per_epoch."""
    return np.array([schedule(k / steps_per_epoch) for k in range(steps)])


@pytest.mark.parametrize(
    ("total", "warmup", "steps_per_epoch", "start_factor", "min_lr"),
    [(120, 17, 8, 0.1, 1e-3), (40, 4, 1, 0.5, 0.0), (300, 30, 10, 1e-3, 0.02)],
)
def test_warmup_cosine_follows_torch_linear_then_cosine(
    total, warmup, steps_per_epoch, start_factor, min_lr
):
    lr = 0.3
    theirs = torch_rates(
        lambda opt: L.SequentialLR(
            opt,
            [
                L.LinearLR(opt, start_factor=start_factor, total_iters=warmup),
                L.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=min_lr),
            ],
            milestones=[warmup],
        ),
        total,
        lr,
    )
    ours = optim.warmup_cosine(
        lr,
        total / steps_per_epoch,
        warmup_epochs=warmup / steps_per_epoch,
        start_factor=start_factor,
        min_lr=min_lr,
    )
    np.testing.assert_allclose(our_rates(ours, total, steps_per_epoch), theirs, rtol=1e-10)


def test_warmup_cosine_defaults_start_at_zero_and_warm_up_a_tenth_of_the_run():
    sched = optim.schedule("warmup_cosine", 0.1, epochs=20)
    assert sched == optim.WarmupCosine(0.1, 20, 2.0, 0.0, 0.0)
    assert sched(0) == 0.0 and sched(1) == pytest.approx(0.05) and sched(2) == 0.1
    assert sched(20) == pytest.approx(0.0, abs=1e-15) and sched(25) == sched(20)
    # the default start (0) is the limit of torch's (start_factor > 0) as it goes to 0
    near = optim.warmup_cosine(0.1, 20, warmup_epochs=2, start_factor=1e-12)
    for e in np.linspace(0, 20, 41):
        assert sched(e) == pytest.approx(near(e), abs=1e-12)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"anneal": "linear"},
        {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
        {"pct_start": 0.5, "anneal": "linear", "div_factor": 3.0},
    ],
)
@pytest.mark.parametrize(("steps", "steps_per_epoch"), [(120, 8), (37, 1), (250, 25)])
def test_onecycle_follows_torch_onecycle_lr(options, steps, steps_per_epoch):
    lr = 0.4
    anneal = options.get("anneal", "cos")
    theirs = torch_rates(
        lambda opt: L.OneCycleLR(
            opt,
            max_lr=lr,
            total_steps=steps,
            cycle_momentum=False,
            **{k: v for k, v in options.items() if k != "anneal"},
            anneal_strategy=anneal,
        ),
        steps,
        lr,
    )
    ours = optim.schedule(
        "onecycle", lr, epochs=steps // steps_per_epoch, steps_per_epoch=steps_per_epoch, **options
    )
    np.testing.assert_allclose(our_rates(ours, steps, steps_per_epoch), theirs, rtol=1e-10)


def test_onecycle_stays_at_its_final_rate_after_the_run():
    sched = optim.onecycle(0.1, 10)
    assert sched(9) == pytest.approx(0.1 / 25 / 1e4) and sched(30) == sched(9)
    assert repr(sched) == (
        "OneCycle(lr=0.1, total_epochs=10, steps_per_epoch=1, pct_start=0.3, "
        "div_factor=25.0, final_div_factor=10000.0, anneal='cos')"
    )


PLATEAU_LOSSES = np.concatenate(
    [
        np.linspace(1.0, 0.5, 6),
        np.full(14, 0.5),
        0.5 - 1e-6 * np.arange(5),  # improvements smaller than the threshold do not count
        np.linspace(0.49, 0.3, 4),
        np.full(30, 0.3),
        [np.nan, 0.29, 0.2, 0.2, 0.2],
        np.random.default_rng(0).uniform(0.1, 0.3, 40),
    ]
)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"patience": 2, "factor": 0.5},
        {"patience": 1, "cooldown": 3, "factor": 0.3, "min_lr": 1e-3},
        {"patience": 0, "threshold": 0.0, "factor": 0.9, "min_lr": 0.05},
        {"patience": 3, "threshold": 0.1, "cooldown": 1, "eps": 1e-2},
    ],
)
def test_plateau_follows_torch_reduce_lr_on_plateau(options):
    lr = 0.1
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    theirs = L.ReduceLROnPlateau(opt, mode="min", threshold_mode="rel", **options)
    ours = optim.schedule("plateau", lr, **options)
    for epoch, loss in enumerate(PLATEAU_LOSSES, start=1):
        theirs.step(loss)
        ours.observe(loss)
        assert ours(epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12, abs=0), epoch


def test_plateau_reset_starts_over_and_the_repr_shows_the_settings():
    sched = optim.plateau(0.1, patience=0)
    sched.observe(1.0)
    sched.observe(1.0)
    assert sched(2) == pytest.approx(0.01)
    sched.reset()
    assert sched(0) == 0.1 and sched.best == math.inf
    assert repr(sched) == (
        "Plateau(lr=0.1, factor=0.1, patience=0, threshold=0.0001, cooldown=0, min_lr=0.0, "
        "eps=1e-08)"
    )


@settings(max_examples=50, deadline=None)
@given(
    lr=st.floats(1e-4, 10),
    total=st.integers(2, 200),
    warm=st.floats(0.01, 0.99),
    e=st.floats(0, 1.5),
)
def test_warmup_cosine_never_leaves_its_range_and_peaks_at_the_end_of_warm_up(lr, total, warm, e):
    sched = optim.warmup_cosine(lr, total, warmup_epochs=warm * total, min_lr=lr / 10)
    assert 0 <= sched(e * total) <= lr * (1 + 1e-12)
    assert sched(warm * total) == pytest.approx(lr)


@settings(max_examples=50, deadline=None)
@given(lr=st.floats(1e-4, 10), total=st.integers(2, 100), e=st.floats(0, 1))
def test_onecycle_never_leaves_its_range(lr, total, e):
    sched = optim.onecycle(lr, total, steps_per_epoch=4)
    assert lr / 25 / 1e4 * (1 - 1e-12) <= sched(e * total) <= lr * (1 + 1e-12)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: optim.warmup_cosine(0.1, 10, warmup_epochs=10), r"warmup_epochs: .*fewer than"),
        (lambda: optim.warmup_cosine(0.1, 10, warmup_epochs=12), r"warmup_epochs: .*got 12"),
        (lambda: optim.warmup_cosine(0.1, 10, warmup_epochs=-1), r"warmup_epochs: .*positive"),
        (lambda: optim.warmup_cosine(0.1, 10, start_factor=2), r"start_factor: .*\[0, 1\]"),
        (lambda: optim.warmup_cosine(0.1, 0), r"total_epochs: .*positive"),
        (lambda: optim.warmup_cosine(-0.1, 10), r"lr: .*positive"),
        (lambda: optim.warmup_cosine(0.1, 10, min_lr=-1), r"min_lr: .*non-negative"),
        (lambda: optim.onecycle(0.1, 10, pct_start=1.0), r"pct_start: .*\(0, 1\)"),
        (lambda: optim.onecycle(0.1, 10, anneal="cosine"), r"anneal: expected 'cos' or"),
        (lambda: optim.onecycle(0.1, 10, steps_per_epoch=0), r"steps_per_epoch: .*positive"),
        (lambda: optim.onecycle(0.1, 10, div_factor=0), r"div_factor: .*positive"),
        (lambda: optim.plateau(0.1, factor=1.0), r"factor: .*\(0, 1\)"),
        (lambda: optim.plateau(0.1, patience=-1), r"patience: .*non-negative integer"),
        (lambda: optim.plateau(0.1, cooldown=1.5), r"cooldown: .*non-negative integer"),
        (lambda: optim.plateau(0.1, threshold=-1e-4), r"threshold: .*non-negative"),
    ],
)
def test_bad_arguments_are_one_line_errors_naming_them(build, message):
    with pytest.raises(ValueError, match=message) as info:
        build()
    assert "\n" not in str(info.value)


def test_the_new_schedules_are_known_by_name():
    assert {"warmup_cosine", "onecycle", "plateau"} <= set(optim.SCHEDULES)
    assert isinstance(optim.schedule("plateau", 0.1), optim.Plateau)
    assert optim.schedule("onecycle", 0.1, epochs=5, steps_per_epoch=3).steps_per_epoch == 3

"""Optimizers against torch.optim (the same trajectories) and the schedules' shapes."""

import math

import numpy as np
import pytest

from losslab import optim

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)
A = RNG.standard_normal((5, 5))
A = A @ A.T + np.eye(5)  # a positive definite quadratic ½xᵀAx - bᵀx
B = RNG.standard_normal(5)


def quadratic_grad(x):
    return A @ x - B


def our_trajectory(opt, lr, steps=60):
    params = {"x": np.ones(5)}
    state = opt.init(params)
    for _ in range(steps):
        opt.update(params, {"x": quadratic_grad(params["x"])}, state, lr)
    return params["x"]


def torch_trajectory(make, steps=60):
    x = torch.ones(5, dtype=torch.float64, requires_grad=True)
    opt = make([x])
    for _ in range(steps):
        opt.zero_grad()
        x.grad = torch.from_numpy(quadratic_grad(x.detach().numpy()))
        opt.step()
    return x.detach().numpy()


T = torch.optim
CASES = {
    "sgd": (optim.SGD(), lambda p: T.SGD(p, lr=0.05)),
    "momentum": (optim.Momentum(0.9), lambda p: T.SGD(p, lr=0.05, momentum=0.9)),
    "nesterov": (optim.Nesterov(0.9), lambda p: T.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    "adagrad": (optim.AdaGrad(eps=1e-10), lambda p: T.Adagrad(p, lr=0.05, eps=1e-10)),
    "rmsprop": (optim.RMSProp(0.99, 1e-8), lambda p: T.RMSprop(p, lr=0.05, alpha=0.99, eps=1e-8)),
    "adam": (optim.Adam(), lambda p: T.Adam(p, lr=0.05)),
    "adamw": (optim.AdamW(), lambda p: T.AdamW(p, lr=0.05)),
    "adamw_strong_decay": (
        optim.AdamW(beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.3),
        lambda p: T.AdamW(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.3),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_optimizer_follows_the_torch_trajectory(name):
    ours, make = CASES[name]
    np.testing.assert_allclose(
        our_trajectory(ours, 0.05), torch_trajectory(make), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_every_optimizer_decreases_the_quadratic_and_updates_in_place(name):
    opt = optim.get(name)
    params = {"x": np.ones(5)}
    x = params["x"]
    state = opt.init(params)
    f = lambda z: 0.5 * z @ A @ z - B @ z  # noqa: E731
    start = f(x)
    for _ in range(200):
        opt.update(params, {"x": quadratic_grad(x)}, state, 0.02)
    assert params["x"] is x  # in place
    assert f(x) < start


def test_unknown_optimizer_and_schedule_names():
    with pytest.raises(ValueError, match=r"optimizer: expected one of .*, got 'adamx'"):
        optim.get("adamx")
    with pytest.raises(ValueError, match=r"schedule: expected one of .*, got 'linear'"):
        optim.schedule("linear", 0.1)


def test_schedules():
    assert optim.schedule("constant", 0.1)(7.5) == 0.1
    step = optim.schedule("step", 0.1, step_size=10, gamma=0.5)
    assert (step(0), step(9.9), step(10), step(25)) == (0.1, 0.1, 0.05, 0.025)
    assert optim.schedule("exponential", 0.1, gamma=0.9)(2) == pytest.approx(0.081)
    cos = optim.schedule("cosine", 0.1, epochs=10)
    assert (
        cos(0) == pytest.approx(0.1)
        and cos(5) == pytest.approx(0.05)
        and cos(10) == pytest.approx(0)
    )
    assert optim.schedule("invscaling", 0.1, power_t=0.5)(3) == pytest.approx(0.1 / math.sqrt(4))


def torch_run(make_opt, lrs, max_norm=None, shapes=((3, 4), (4,))):
    """torch: ``len(lrs)`` steps on a quadratic of two arrays, the lr set before each step."""
    params = [torch.ones(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    opt = make_opt(params)
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        for p, g in zip(params, two_array_grads([p.detach().numpy() for p in params]), strict=True):
            p.grad = torch.from_numpy(g)
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
    return [p.detach().numpy() for p in params]


def our_run(opt, lrs, max_norm=None, shapes=((3, 4), (4,))):
    params = {str(i): np.ones(s) for i, s in enumerate(shapes)}
    state = opt.init(params)
    for lr in lrs:
        grads = dict(zip(params, two_array_grads(list(params.values())), strict=True))
        if max_norm is not None:
            optim.clip_grad_norm(grads, max_norm)
        opt.update(params, grads, state, lr)
    return list(params.values())


def two_array_grads(arrays):
    """Gradients of Σ c_i (x_i - t_i)^4 / 4 + ..., steep enough that clipping bites early."""
    rng = np.random.default_rng(len(arrays))
    return [5 * (a - rng.standard_normal(a.shape)) ** 3 + a for a in arrays]


def test_adamw_follows_torch_under_a_changing_learning_rate():
    lrs = [optim.warmup_cosine(0.05, 10, warmup_epochs=2)(k / 20) for k in range(200)]
    theirs = torch_run(lambda p: T.AdamW(p, lr=0.05, weight_decay=0.05), lrs)
    ours = our_run(optim.AdamW(weight_decay=0.05), lrs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_adamw_is_adam_without_decay_and_has_a_readable_repr():
    lrs = [0.01] * 50
    for a, b in zip(
        our_run(optim.AdamW(weight_decay=0.0), lrs), our_run(optim.Adam(), lrs), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert repr(optim.get("adamw")) == "AdamW(beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.01)"
    assert repr(optim.get("momentum", momentum=0.5)) == "Momentum(momentum=0.5)"
    with pytest.raises(ValueError, match=r"^weight_decay: expected a non-negative number, got -1"):
        optim.AdamW(weight_decay=-1)


@pytest.mark.parametrize(
    ("make_ours", "make_theirs"),
    [
        (optim.SGD, lambda p: T.SGD(p, lr=0.01)),
        (optim.Adam, lambda p: T.Adam(p, lr=0.01)),
        (lambda: optim.AdamW(weight_decay=0.1), lambda p: T.AdamW(p, lr=0.01, weight_decay=0.1)),
    ],
)
@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e6])
def test_clipped_trajectories_follow_torch_clip_grad_norm(make_ours, make_theirs, max_norm):
    lrs = [0.01] * 100
    theirs = torch_run(make_theirs, lrs, max_norm)
    ours = our_run(make_ours(), lrs, max_norm)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 7.0, 100.0])
def test_clip_grad_norm_matches_torch(dtype, max_norm):
    rng = np.random.default_rng(3)
    ours = {
        "W": rng.standard_normal((5, 3)).astype(dtype),
        "b": rng.standard_normal(3).astype(dtype),
    }
    theirs = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype) for g in ours.values()]
    for p, g in zip(theirs, ours.values(), strict=True):
        p.grad = torch.from_numpy(g.copy())
    total = optim.clip_grad_norm(ours, max_norm)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert total == pytest.approx(float(expected), rel=rtol)
    for g, t in zip(ours.values(), theirs, strict=True):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=rtol)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_clip_grad_norm_leaves_a_non_finite_gradient_to_be_seen(bad):
    grads = {"W": np.array([[1.0, bad]]), "b": np.array([2.0])}
    total = optim.clip_grad_norm(grads, 1.0)
    assert not math.isfinite(total)
    assert grads["b"][0] == 2.0 and (np.isnan(grads["W"][0, 1]) or grads["W"][0, 1] == bad)


def test_clip_grad_norm_in_float32_does_not_overflow_the_sum_of_squares():
    grads = {"W": np.full(4, 1e20, dtype=np.float32)}  # squares overflow float32
    assert optim.clip_grad_norm(grads, 1.0) == pytest.approx(2e20, rel=1e-6)
    assert np.linalg.norm(grads["W"].astype(np.float64)) == pytest.approx(1.0, rel=1e-6)

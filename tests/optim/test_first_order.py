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
    with pytest.raises(ValueError, match=r"optimizer: expected one of .*, got 'adamw'"):
        optim.get("adamw")
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

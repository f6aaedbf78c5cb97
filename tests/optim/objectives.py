"""Rosenbrock's banana valley with its exact gradient and Hessian: the Newton and L-BFGS tests' objective."""

import numpy as np


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def rosenbrock_hess(x):
    return np.array([[2 - 400 * (x[1] - 3 * x[0] ** 2), -400 * x[0]], [-400 * x[0], 200.0]])


def rosenbrock_value_and_grad(x):
    return rosenbrock(x), rosenbrock_grad(x)

"""The typed package: py.typed ships, and the public functions of the typed modules are annotated.

mypy itself runs in .ci/run (its settings are in pyproject.toml); this test names any public
function of these modules that lost its annotations, so the checker keeps seeing them.
"""

from __future__ import annotations

import ast
import importlib.resources
from pathlib import Path

import pytest

import losslab

SRC = Path(losslab.__file__).parent

# every module here has each public function and method annotated (parameters and return)
TYPED = [
    "fast/__init__.py",
    "losses/binary.py",
    "losses/_fused.py",
    "plots.py",
    "report.py",
    "models.py",
    "regularizers.py",
    "info.py",
    "metrics.py",
    "training/state.py",
    "training/progress.py",
    "training/files.py",
    "training/figures.py",
    "training/checks.py",
    "training/batches.py",
    "training/objective.py",
    "training/full_batch.py",
    "training/smoothing.py",
    "training/stopping.py",
    "data/datasets.py",
    "data/sources.py",
    "data/formats/__init__.py",
    "data/formats/base.py",
    "data/formats/cifar.py",
    "data/formats/csv.py",
    "data/formats/npy.py",
    "data/formats/npz.py",
    "data/formats/parquet.py",
    "scale/dask_data.py",
    "scale/distributed.py",
    "scale/local_sgd.py",
    "scale/stream.py",
    "web/app.py",
    "web/playground.py",
    "losses/_custom.py",
    "losses/_registry.py",
    "losses/_result.py",
    "losses/regression.py",
    "losses/classification.py",
    "losses/counts.py",
    "losses/validation.py",
    "losses/distillation.py",
    "losses/margins.py",
    "losses/metric.py",
    "losses/poly.py",
    "losses/quantile.py",
    "losses/ranking.py",
    "optim/problems.py",
    "optim/compare.py",
    "optim/curvefit.py",
    "optim/least_squares.py",
    "optim/linalg.py",
    "optim/lm_step.py",
    "optim/mgh.py",
    "optim/newton.py",
    "optim/quasi_newton.py",
    "optim/residuals.py",
    "optim/result.py",
    "optim/trf.py",
    "optim/first_order.py",
    "optim/schedules.py",
    "diagnostics/compare.py",
    "diagnostics/landscape.py",
    "diagnostics/retrieval.py",
    "diagnostics/sanity.py",
    "diagnostics/search.py",
    "diagnostics/surfaces.py",
    "diagnostics/card.py",
    "diagnostics/doctor.py",
    "config.py",
    "examples.py",
    "benchmarks.py",
    "training/loop.py",
    "training/spec.py",
    "training/minibatch.py",
    "training/doctor.py",
    "runs.py",
    "estimators/base.py",
    "estimators/classifiers.py",
    "estimators/regressor.py",
    "estimators/persist.py",
    "estimators/metric_learning.py",
    "diagnostics/gradcheck.py",
    "diagnostics/batch_sizes.py",
    "diagnostics/overfit.py",
    "cli/lessons.py",
]


def unannotated(source: str) -> list[str]:
    """'name: what lacks a type' for each public function and public class method of ``source``."""
    missing = []

    def check(fn: ast.FunctionDef | ast.AsyncFunctionDef, owner: str = "") -> None:
        if fn.name.startswith("_") and fn.name not in ("__init__", "__call__"):
            return
        args = fn.args
        params = args.posonlyargs + args.args + args.kwonlyargs
        if owner and params and params[0].arg in ("self", "cls"):
            params = params[1:]
        params += [a for a in (args.vararg, args.kwarg) if a is not None]
        lacking = [p.arg for p in params if p.annotation is None]
        if fn.returns is None and (fn.name != "__init__" or not params):
            lacking.append("return")
        if lacking:
            missing.append(f"{owner}{fn.name}: {', '.join(lacking)}")

    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            check(node)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    check(item, f"{node.name}.")
    return missing


def test_the_package_declares_its_types():
    assert importlib.resources.files("losslab").joinpath("py.typed").is_file()


@pytest.mark.parametrize("module", TYPED)
def test_public_functions_are_annotated(module):
    assert unannotated((SRC / module).read_text(encoding="utf-8")) == []


def test_the_check_finds_what_lacks_a_type():
    source = """
def typed(x: int, *, y: str = "") -> bool: ...
def untyped(x, y: int): ...
def _private(x): ...
class Thing:
    def __init__(self, n: int): ...
    def method(self, a: int): ...
    def _helper(self, b): ...
"""
    assert unannotated(source) == ["untyped: x, return", "Thing.method: return"]

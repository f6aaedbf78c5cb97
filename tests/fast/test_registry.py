"""losslab.fast is a leaf that registers every kernel once; the rest of the package asks it."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import losslab
from losslab import config, fast, optim
from losslab.training import Objective, batches
from losslab.training.objective import add_l2

SRC = Path(losslab.__file__).parent
needs_numba = pytest.mark.skipif(
    not config.fast_available(), reason="the fast extra (numba) is not installed"
)


def imported_modules(path):
    """Absolute names of the modules a file imports, inside functions too."""
    package = "losslab." + ".".join(path.relative_to(SRC).parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.rstrip(".").split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_fast_imports_nothing_from_losslab_but_config():
    for path in (SRC / "fast").glob("*.py"):
        own = {m for m in imported_modules(path) if m.startswith("losslab.")}
        allowed = ("losslab.config", "losslab.fast")
        assert all(m.startswith(allowed) for m in own), (path.name, own)


def test_only_the_registry_imports_the_kernel_modules():
    kernel_modules = ("losslab.fast.losses", "losslab.fast.training", "losslab.fast.dual_cd")
    for path in SRC.rglob("*.py"):
        if path.parent.name == "fast":
            continue
        imports = imported_modules(path)
        assert not any(m.startswith(kernel_modules) for m in imports), path


def test_every_kernel_is_declared_by_one_numpy_reference():
    declared = fast.references()  # every module of losslab is imported by now
    assert set(declared) == set(fast.KERNELS)
    assert len({id(fn) for fn in declared.values()}) == len(declared)
    with pytest.raises(ValueError, match="name: expected one of"):
        fast.declare("no_such_kernel", lambda: None)


@needs_numba
def test_the_registry_follows_the_configuration():
    with config.fast(False):
        assert all(fast.kernel(name) is None for name in fast.KERNELS)
    with config.fast(True):
        assert all(callable(fast.kernel(name)) for name in fast.KERNELS)


def test_losslab_fast_0_turns_the_kernels_off_at_start_up():
    code = "from losslab import fast; print(fast.kernel('adam'))"
    env = {**os.environ, "LOSSLAB_FAST": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "None", out.stderr


def test_optim_flat_views_is_the_registrys_predicate():
    assert optim.flat_views is fast.flat_views
    assert not fast.flat_views(np.ones(3), np.ones(3, np.float32))
    assert not fast.flat_views(np.asfortranarray(np.ones((2, 3))))


@needs_numba
@pytest.mark.parametrize("X", [np.arange(60.0).reshape(20, 3), np.arange(60).reshape(20, 3)])
def test_batches_are_the_same_rows_on_both_paths(X):
    order = np.random.default_rng(0).permutation(20)
    y = np.arange(20)
    runs = []
    for on in (False, True):
        with config.fast(on):
            runs.append(
                [(idx, Xb.copy(), yb) for idx, Xb, yb, _ in batches.gathered(X, y, None, order, 8)]
            )
    for (idx, Xb, yb), (idx_fast, Xb_fast, yb_fast) in zip(*runs, strict=True):
        np.testing.assert_array_equal(idx_fast, idx)
        np.testing.assert_array_equal(Xb_fast, Xb)
        np.testing.assert_array_equal(Xb, X[idx])
        np.testing.assert_array_equal(yb_fast, yb)


@needs_numba
def test_the_l2_kernel_is_skipped_for_arrays_a_flat_view_cannot_update():
    from losslab import models

    model = models.Linear(4, 3, random_state=0)
    model.params["W"] = np.asfortranarray(model.params["W"])
    objective = Objective(model, "softmax", reg=0.5)
    results = []
    for on in (False, True):
        grads = {k: np.zeros_like(p) for k, p in model.params.items()}
        with config.fast(on):
            results.append((objective._add_penalty(grads), grads["W"]))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-12)
    np.testing.assert_array_equal(results[1][1], results[0][1])


@pytest.mark.parametrize("fast_on", [False, True])
def test_a_fused_function_takes_its_arguments_by_name_too(fast_on):
    # the wrapper shows the reference's signature, so calls by keyword must work on both paths
    W = np.arange(1.0, 2049.0).reshape(64, 32)
    by_position, by_name = np.zeros_like(W), np.zeros_like(W)
    with config.fast(fast_on):
        value = add_l2(W, 0.5, by_position)
        assert add_l2(W, strength=0.5, grad=by_name) == value
    np.testing.assert_array_equal(by_name, by_position)

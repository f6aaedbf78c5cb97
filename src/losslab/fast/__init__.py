"""Fused numba kernels (the ``fast`` extra): a leaf package, and the one registry of its kernels.

The NumPy code of the losses, the optimizers and the training step is the
reference; each kernel here computes what one reference computes, in one pass.
:data:`KERNELS` lists them all, with the arguments each can take. A reference
declares its kernel where it is defined::

    @fast.fused_by("adam")              # the kernel takes the same arguments
    def adam_step(param, grad, m, v, beta1, beta2, step, root_bc2, eps):
        ...                             # NumPy

and calling it runs the kernel when the fast path is on (see :mod:`losslab.config`)
and the kernel can take the arguments, else the NumPy code. A loss
declares its kernel through ``losses._fused.fused_by`` instead, because the
loss's options decide first. Code that resolves once, such as fit's per-batch
loss call, asks :func:`kernel`.

Importing this module does not import numba. In the automatic mode (the
default) the first kernel is loaded only once the calls that could have used
one have walked :data:`LOAD_AFTER_ELEMENTS` elements on the NumPy path, one
large input or many small ones: loading numba and the cached kernels costs
about half a second and 130 MB, which a student's calls on 3 × 3 arrays would
never win back. From then on every call that a kernel can take uses it.
``set_fast(True)`` uses the kernels from the first call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .. import config

if TYPE_CHECKING:
    import numpy as np

F = TypeVar("F", bound=Callable[..., Any])  # a decorated function keeps its own signature

# Elements walked on the NumPy path (first arguments of calls a kernel could take) before the
# kernels are loaded. `python bench/startup.py` (2 cores AMD EPYC, shared, 2026-11-30), two runs:
# loading numba, LLVM and the cached kernels costs L = 0.92 and 2.14 s in a fresh process; a
# kernel saves s = 8.7 and 7.8 ns per element over the NumPy path (cross-entropy, (262144, 100)
# float32), so L / s = 1.1e8 and 2.7e8 elements: the rent-or-buy point, where walking on with
# NumPy has cost what loading would have (switching there costs at most twice the better
# choice). 2**27 = 1.3e8 lies in that range; a student's 3 x 3 calls would need millions to reach it.
LOAD_AFTER_ELEMENTS = 1 << 27
_walked = [0]  # elements walked on the NumPy path so far, by calls a kernel could have taken


def flat_views(*arrays: np.ndarray) -> bool:
    """True when numba kernels can update these arrays through flat views: one float dtype,
    all C-contiguous (a flat view of another layout is a copy, and writes to it are lost).

    Parameters
    ----------
    *arrays : ndarray
        At least one; typically a parameter, its gradient and the optimizer's moments.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> W = np.zeros((3, 2))
    >>> flat_views(W, np.ones((3, 2)))
    True
    >>> flat_views(W, np.ones((2, 3)).T), flat_views(W, np.ones((3, 2), np.float32))
    (False, False)
    """
    dtype = arrays[0].dtype
    return (
        dtype.kind == "f"
        and all(a.dtype == dtype for a in arrays)
        and all(a.flags.c_contiguous for a in arrays)
    )


def _scores_in_rows(output, target):
    # the loss kernels walk C-contiguous rows; they copy other layouts into them first
    return output.ndim >= 1 and output.dtype.kind == "f"


def _linear_arrays(X, labels, order, batch_size, W, b, reg, loss, rule, *outputs):
    # dense rows of X, and parameters and moments that flat views update: one float dtype, C order
    moments = [a for arrays in rule[3:] if arrays is not None for a in arrays]
    matrices = hasattr(X, "flags") and X.ndim == 2 and W.ndim == 2 and b.ndim == 1
    return matrices and flat_views(X, W, b, *moments)


# name: ("module.function" in this package, when(*args): the arguments the kernel can take)
KERNELS = {
    # losses: (output, target, *options, reduction) -> (value, grad), or None (see losses/_fused.py)
    "softmax_cross_entropy": ("losses.softmax_cross_entropy", _scores_in_rows),
    "softmax_focal": ("losses.softmax_focal", _scores_in_rows),
    "multiclass_hinge": ("losses.multiclass_hinge", _scores_in_rows),
    "sigmoid_binary_cross_entropy": ("losses.sigmoid_binary_cross_entropy", _scores_in_rows),
    # the training step: each takes the arguments of its NumPy reference
    "adam": ("training.adam_step", lambda param, grad, m, v, *hyper: flat_views(param, grad, m, v)),
    "add_l2": ("training.add_l2", lambda W, strength, grad: flat_views(W, grad)),
    "argmax_hits": ("training.argmax_hits", lambda scores, labels: scores.dtype.kind == "f"),
    # fit's whole epoch of a linear classifier (training/fused.py says when)
    "linear_epoch": ("training.linear_epoch", _linear_arrays),
    # the hinge losses' dual coordinate descent, one epoch (training/dual_cd.py)
    "hinge_dual_epoch": ("dual_cd.hinge_dual_epoch", lambda data, *rest: data.dtype == "float64"),
    "row_taker": (
        "training.row_taker",
        # a dense array's rows (a scipy.sparse X has no flags: its own indexing takes them)
        lambda X, batch_size: (
            hasattr(X, "flags") and X.ndim == 2 and X.flags.c_contiguous and X.dtype.kind == "f"
        ),
    ),
}

_references: dict[str, object] = {}  # kernel name -> the NumPy function that declared it


def declare(name: str, reference: Callable[..., Any]) -> None:
    """Record that kernel ``name`` computes what ``reference`` (NumPy) computes.

    :func:`fused_by` calls it; the tests use :func:`references` to run every kernel
    against its reference.

    Parameters
    ----------
    name : str
        A key of :data:`KERNELS`.
    reference : callable
        The NumPy function.

    Raises
    ------
    ValueError
        If ``name`` is not a kernel of :data:`KERNELS`.

    Examples
    --------
    >>> declare("adamw", lambda *args: None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: name: expected one of softmax_cross_entropy, ..., got 'adamw' instead
    """
    if name not in KERNELS:
        raise ValueError(f"name: expected one of {', '.join(KERNELS)}, got {name!r} instead")
    _references[name] = reference


def references() -> dict[str, object]:
    """{kernel name: the NumPy function it stands in for}, for the modules imported so far.

    Returns
    -------
    dict of str to callable
        A copy: changing it changes nothing here.

    Examples
    --------
    >>> import losslab.training  # declares the training step's kernels
    >>> references()["adam"].__name__, references()["add_l2"].__module__
    ('adam_step', 'losslab.training.objective')
    """
    return dict(_references)


def kernel(name: str, elements: int = 0) -> Callable[..., Any] | None:
    """The kernel called ``name`` when the fast path is on and loaded or worth loading, else None.

    ``elements``: the size of the input the caller is about to walk (counted
    towards :data:`LOAD_AFTER_ELEMENTS` when the kernels are not loaded yet).
    The caller makes sure the kernel can take its arguments (``KERNELS[name][1]``).

    Parameters
    ----------
    name : str
        A key of :data:`KERNELS`.
    elements : int, default 0
        The number of elements of the call's input.

    Returns
    -------
    callable or None
        The compiled kernel (loading numba the first time), or None: use the NumPy
        reference.

    Examples
    --------
    >>> from losslab import config
    >>> with config.fast(False):
    ...     kernel("adam") is None
    True
    >>> with config.fast(None):  # automatic: an empty call never loads the kernels
    ...     (kernel("adam") is not None) == loaded()
    True
    """
    return _load(name) if config.fast_on() and worth_loading(elements) else None


def loaded() -> bool:
    """Whether the kernel modules (and numba) have been loaded in this process.

    Returns
    -------
    bool
        Once True, it stays True, and in automatic mode every call a kernel can take
        uses it.

    Examples
    --------
    >>> import sys
    >>> loaded() <= ("numba" in sys.modules)  # loaded kernels mean numba is imported
    True
    """
    return _load.cache_info().currsize > 0


def worth_loading(elements: int) -> bool:
    """Whether to use the kernels for a call on ``elements`` elements (counted if not yet).

    True when the kernels are forced or already loaded; otherwise ``elements`` is
    added to the elements walked on the NumPy path, and the answer is whether they
    now reach :data:`LOAD_AFTER_ELEMENTS` (the rent-or-buy point of loading numba).

    Parameters
    ----------
    elements : int
        The size of the call's input.

    Returns
    -------
    bool

    Examples
    --------
    >>> from losslab import config
    >>> with config.fast(True):
    ...     worth_loading(9)  # forced: even a 3 x 3 call uses the kernels
    True
    """
    if config.fast_forced() or loaded():
        return True
    _walked[0] += elements
    return _walked[0] >= LOAD_AFTER_ELEMENTS


def fused_by(name: str) -> Callable[[F], F]:
    """Decorator: kernel ``name`` takes the decorated NumPy function's arguments and returns
    what it returns; calls run it when the fast path is on and it can take them.

    The decorated function keeps its name, docstring and signature (the NumPy
    reference stays reachable as ``__wrapped__``) and is declared as the kernel's
    reference (:func:`declare`). Its arguments are positional only.

    Parameters
    ----------
    name : str
        A key of :data:`KERNELS`; its test ``KERNELS[name][1]`` says which arguments
        the kernel can take.

    Returns
    -------
    callable
        The decorator.

    Raises
    ------
    KeyError
        If ``name`` is not a kernel of :data:`KERNELS`.

    Examples
    --------
    ``losslab.training.objective.add_l2`` is declared with ``@fast.fused_by("add_l2")``:

    >>> import numpy as np
    >>> from losslab import config
    >>> from losslab.training.objective import add_l2
    >>> references()["add_l2"] is add_l2.__wrapped__
    True
    >>> grad = np.zeros(2)
    >>> with config.fast(False):  # the NumPy reference
    ...     add_l2(np.array([1.0, 2.0]), 0.5, grad), grad.tolist()
    (2.5, [1.0, 2.0])
    """
    when = KERNELS[name][1]

    def declared(reference):
        declare(name, reference)

        signature = inspect.signature(reference)

        @functools.wraps(reference)
        def call(*args, **kwargs):
            if kwargs:  # the kernels take positional arguments: bind names to positions
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                args = bound.args
            if config.fast_on() and when(*args) and worth_loading(_size(args[0])):
                return _load(name)(*args)
            return reference(*args)

        return call

    return declared


def _size(first):
    return getattr(first, "size", 0)


@functools.cache
def _load(name):
    from . import dual_cd, losses, training  # numba is imported here, with the first kernel

    module, function = KERNELS[name][0].split(".")
    return getattr({"losses": losses, "training": training, "dual_cd": dual_cd}[module], function)

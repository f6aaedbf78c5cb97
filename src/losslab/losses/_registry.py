"""Losses by name: ``losses.get("svm")``, ``losses.get("focal", gamma=1.0)``, or your own function.

Each entry binds a loss function to default options and says what task it
serves, so training code can pick the right target encoding and know whether
the loss defines probabilities. A plain function ``f(output, target) ->
(value, grad)`` is a loss too: ``get(f)``, or ``register("name", f, task=...)``
to call it by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import (
    _custom,
    binary,
    classification,
    counts,
    distillation,
    margins,
    metric,
    poly,
    quantile,
    ranking,
    regression,
)
from ._result import LossResult

TASKS = ("multiclass", "binary", "regression", "ranking", "metric")


@dataclass(frozen=True)
class Loss:
    """A named loss with bound options; calling it calls the function.

    ``loss(output, *targets, **kwargs)`` is ``fn(output, *targets, **options,
    **kwargs)``: what the call passes overrides what was bound. Built by
    :func:`get`; :func:`register` adds your own to the catalogue.

    Parameters
    ----------
    name : str
        The canonical name (or a plain function's ``__name__``).
    fn : callable
        ``fn(output, *targets, **options) -> LossResult``.
    task : {"multiclass", "binary", "regression", "ranking", "metric"} or None
        What the loss is for; None for a plain function whose caller decides
        (:meth:`for_task`).
    options : dict, optional
        Keyword arguments bound to every call, e.g. ``{"margin": 2.0}``.
    probabilistic : bool, default False
        Whether its scores define class probabilities (``predict_proba``).

    Examples
    --------
    >>> import numpy as np
    >>> from losslab import losses
    >>> svm = losses.get("svm", margin=2.0)
    >>> svm
    Loss('multiclass_hinge', margin=2.0)
    >>> svm.task, svm.with_options(margin=1.0).options
    ('multiclass', {'margin': 1.0})
    >>> float(svm(np.zeros((1, 3)), np.array([0])).value)  # (C - 1) · margin at zero scores
    4.0
    """

    name: str
    fn: Callable[..., LossResult]
    task: str | None  # None: a plain function whose task its caller decides (for_task)
    options: dict[str, Any] = field(default_factory=dict)
    probabilistic: bool = False  # defines class probabilities (predict_proba)

    def __call__(self, output: Any, *targets: Any, **kwargs: Any) -> LossResult:
        return self.fn(output, *targets, **{**self.options, **kwargs})

    def with_options(self, **options: Any) -> Loss:
        """This loss with ``options`` bound on top of those it has (each checked, see :meth:`bind`)."""
        return self.bind(options)

    def bind(self, options: Mapping[str, Any], argument: str = "loss_options") -> Loss:
        """This loss with ``options`` bound on top of those it has, each one an option it takes.

        Parameters
        ----------
        options : mapping of str to any
            Keyword options of the loss function, e.g. ``{"gamma": 1.0}``.
        argument : str, default "loss_options"
            The name the user gave the options by, for the error (``--loss-option``
            on the command line).

        Returns
        -------
        Loss

        Raises
        ------
        ValueError
            An option the function does not take, naming ``argument``, the option
            and the options it does take.

        Examples
        --------
        >>> get("focal").bind({"gamma": 1.0})
        Loss('softmax_focal', gamma=1.0)
        >>> get("svm").bind({"zzz": 1}, "--loss-option")
        Traceback (most recent call last):
        ...
        ValueError: --loss-option: multiclass_hinge has no option 'zzz'; its options: margin, squared, kind, class_weight, sample_weight, reduction
        """
        known = option_names(self.fn) if options else None  # a signature costs ~20 µs
        unknown = [k for k in options if known is not None and k not in known]
        if unknown:
            takes = f"its options: {', '.join(known)}" if known else "it takes no options"
            raise ValueError(f"{argument}: {self.name} has no option {unknown[0]!r}; {takes}")
        return Loss(self.name, self.fn, self.task, {**self.options, **options}, self.probabilistic)

    def for_task(self, task: str) -> Loss:
        """This loss, with ``task`` as its task if it has none yet (a plain function's)."""
        if self.task is not None:
            return self
        return Loss(self.name, self.fn, _check_task(task), self.options, self.probabilistic)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"Loss({self.name!r}{', ' if opts else ''}{opts})"


def option_names(fn: Callable) -> tuple[str, ...] | None:
    """The keyword options ``fn`` takes (parameters with a default); None when it takes any.

    None also for a function without a signature (a builtin): its call will tell.

    Parameters
    ----------
    fn : callable
        A loss function ``fn(output, *targets, **options)``.

    Returns
    -------
    tuple of str or None

    Examples
    --------
    >>> option_names(lambda output, target, gamma=2.0: None)
    ('gamma',)
    >>> option_names(lambda output, target, **options: None) is None
    True
    """
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(p.name for p in parameters if p.kind in keyword and p.default is not p.empty)


def _entry(fn, task, probabilistic=False, **options):
    return (fn, task, probabilistic, options)


# canonical name -> (function, task, probabilistic, default options)
_CATALOGUE = {
    "multiclass_hinge": _entry(classification.multiclass_hinge, "multiclass"),
    "crammer_singer": _entry(classification.multiclass_hinge, "multiclass", kind="crammer_singer"),
    "squared_hinge": _entry(classification.multiclass_hinge, "multiclass", squared=True),
    "softmax_cross_entropy": _entry(classification.softmax_cross_entropy, "multiclass", True),
    "categorical_cross_entropy": _entry(classification.categorical_cross_entropy, "multiclass"),
    "softmax_focal": _entry(classification.softmax_focal, "multiclass", True),
    "poly1_cross_entropy": _entry(poly.poly1_cross_entropy, "multiclass", True),
    "kl_divergence": _entry(distillation.kl_divergence, "multiclass", True),
    "sigmoid_binary_cross_entropy": _entry(binary.sigmoid_binary_cross_entropy, "binary", True),
    "binary_cross_entropy": _entry(binary.binary_cross_entropy, "binary"),
    "sigmoid_focal": _entry(binary.sigmoid_focal, "binary", True),
    "hinge": _entry(binary.hinge, "binary"),
    "binary_squared_hinge": _entry(binary.hinge, "binary", squared=True),
    "modified_huber": _entry(binary.modified_huber, "binary"),
    "perceptron": _entry(binary.perceptron, "binary"),
    "soft_margin": _entry(margins.soft_margin, "binary"),
    "multilabel_soft_margin": _entry(margins.multilabel_soft_margin, "binary"),
    "squared_error": _entry(regression.squared_error, "regression"),
    "absolute_error": _entry(regression.absolute_error, "regression"),
    "huber": _entry(regression.huber, "regression"),
    "smooth_l1": _entry(regression.smooth_l1, "regression"),
    "log_cosh": _entry(regression.log_cosh, "regression"),
    "pinball": _entry(quantile.pinball, "regression"),
    "epsilon_insensitive": _entry(quantile.epsilon_insensitive, "regression"),
    "squared_epsilon_insensitive": _entry(quantile.epsilon_insensitive, "regression", squared=True),
    "poisson_nll": _entry(counts.poisson_nll, "regression"),
    "gaussian_nll": _entry(counts.gaussian_nll, "regression"),
    "tweedie_deviance": _entry(counts.tweedie_deviance, "regression"),
    "margin_ranking": _entry(ranking.margin_ranking, "ranking"),
    "triplet_margin": _entry(ranking.triplet_margin, "ranking"),
    "cosine_embedding": _entry(margins.cosine_embedding, "ranking"),
    "hinge_embedding": _entry(margins.hinge_embedding, "ranking"),
    "batch_triplet": _entry(ranking.batch_triplet, "metric"),
    "contrastive": _entry(ranking.contrastive, "metric"),
    "soft_nearest_neighbour": _entry(metric.soft_nearest_neighbour, "metric"),
    "supervised_contrastive": _entry(metric.supervised_contrastive, "metric"),
    "multi_similarity": _entry(metric.multi_similarity, "metric"),
    # embeddings, labels and one weight vector per class (the proxies it learns)
    "arcface": _entry(metric.arcface, "metric"),
}

ALIASES = {
    "svm": "multiclass_hinge",
    "hinge_multiclass": "multiclass_hinge",
    "weston_watkins": "multiclass_hinge",
    "ww": "multiclass_hinge",
    "cs": "crammer_singer",
    "svm_squared": "squared_hinge",
    "softmax": "softmax_cross_entropy",
    "cross_entropy": "softmax_cross_entropy",
    "ce": "softmax_cross_entropy",
    "log_loss": "softmax_cross_entropy",
    "nll": "categorical_cross_entropy",
    "focal": "softmax_focal",
    "bce_with_logits": "sigmoid_binary_cross_entropy",
    "logistic": "sigmoid_binary_cross_entropy",
    "bce": "binary_cross_entropy",
    "binary_hinge": "hinge",
    "mse": "squared_error",
    "l2": "squared_error",
    "mae": "absolute_error",
    "l1": "absolute_error",
    "ranking": "margin_ranking",
    "triplet": "batch_triplet",
    "pairwise": "contrastive",
    "poly1": "poly1_cross_entropy",
    "polyloss": "poly1_cross_entropy",
    "kl": "kl_divergence",
    "kl_div": "kl_divergence",
    "distillation": "kl_divergence",
    "soft_margin_loss": "soft_margin",
    "multilabel_soft_margin_loss": "multilabel_soft_margin",
    "quantile": "pinball",
    "pinball_loss": "pinball",
    "svr": "epsilon_insensitive",
    "poisson": "poisson_nll",
    "gaussian": "gaussian_nll",
    "tweedie": "tweedie_deviance",
    "cosine_embedding_loss": "cosine_embedding",
    "hinge_embedding_loss": "hinge_embedding",
    "soft_nearest_neighbor": "soft_nearest_neighbour",
    "snn": "soft_nearest_neighbour",
    "supcon": "supervised_contrastive",
    "ntxent": "supervised_contrastive",
    "nt_xent": "supervised_contrastive",
    "infonce": "supervised_contrastive",
    "ms": "multi_similarity",
    "angular_margin": "arcface",
}


def available() -> list[str]:
    """Canonical loss names, in catalogue order.

    Returns
    -------
    list of str
        Every name :func:`get` accepts besides the aliases (see :data:`ALIASES`).

    Examples
    --------
    >>> from losslab import losses
    >>> names = losses.available()
    >>> "softmax_cross_entropy" in names and "multiclass_hinge" in names
    True
    """
    return list(_CATALOGUE)


def canonical_name(name: str) -> str:
    """The catalogue's name for a name or an alias (case and hyphens ignored).

    Parameters
    ----------
    name : str
        A canonical name or an alias, e.g. ``"softmax"``, ``"SVM"``, ``"cross-entropy"``.

    Returns
    -------
    str
        The canonical name.

    Raises
    ------
    ValueError
        ``loss: expected one of ...`` for a name the catalogue does not know.

    Examples
    --------
    >>> from losslab.losses import canonical_name
    >>> canonical_name("softmax"), canonical_name("SVM")
    ('softmax_cross_entropy', 'multiclass_hinge')
    """
    key = str(name).lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in _CATALOGUE:
        known = ", ".join(sorted(set(_CATALOGUE) | set(ALIASES)))
        raise ValueError(f"loss: expected one of {known}; got {name!r} instead")
    return key


def get(name: str | Callable, *, task: str | None = None, **options: Any) -> Loss:
    """The loss called ``name`` with ``options`` bound; a plain function becomes a loss.

    Parameters
    ----------
    name : str, Loss or callable
        A canonical name or an alias; ``"package.module:function"`` (imported);
        a :class:`Loss`; or a function ``f(output, target, **options) -> (value,
        grad)`` (see :func:`register` for what it may return).
    task : {"multiclass", "binary", "regression", "ranking", "metric"}, optional
        The task of a plain function. None leaves it to the caller (``fit`` and the
        estimators infer it, see :meth:`Loss.for_task`); a catalogue loss keeps its own.
    **options
        Bound options, passed to the function on every call.

    Returns
    -------
    Loss

    Raises
    ------
    ValueError
        An unknown name, or an option the function does not take (naming
        ``loss_options``, see :meth:`Loss.bind`).

    Examples
    --------
    >>> get("focal", gamma=1.0)
    Loss('softmax_focal', gamma=1.0)
    >>> def half_squared(pred, y):
    ...     return 0.5 * (pred - y) ** 2, pred - y
    >>> get(half_squared, task="regression").name
    'half_squared'
    """
    if isinstance(name, Loss):
        return name.bind(options).for_task(task) if task else name.bind(options)
    if isinstance(name, str) and ":" in name:
        name = _custom.import_function(name)
    if callable(name):
        fn = _custom.PlainLoss(name, _function_name(name))
        return Loss(fn.__name__, fn, None if task is None else _check_task(task)).bind(options)
    key = canonical_name(name)
    fn, entry_task, probabilistic, defaults = _CATALOGUE[key]
    return Loss(key, fn, entry_task, defaults, probabilistic).bind(options)


def _function_name(f):
    """f's name; with its module where it is a built-in loss's (never mistaken for the built-in)."""
    name = getattr(f, "__name__", type(f).__name__)
    if name in _CATALOGUE and name not in _REGISTERED:
        return f"{getattr(f, '__module__', None) or 'own'}.{name}"
    return name


def register(
    name: str,
    f: Callable,
    *,
    task: str,
    probabilistic: bool = False,
    check_gradient: bool = True,
    aliases: tuple[str, ...] = (),
) -> Loss:
    """Add a plain function to the registry, so that ``get(name)`` (and every ``loss=name``) finds it.

    Parameters
    ----------
    name : str
        Its canonical name; it may replace a loss registered earlier, not a built-in one.
    f : callable
        ``f(output, target) -> (value, grad)``: ``value`` the mean loss with ``grad`` its
        gradient with respect to ``output`` (of output's shape), or one loss per sample
        (shape (N,) or the output's) with ``grad`` the gradient of their sum; the
        latter also takes ``sample_weight`` and every reduction.
    task : {"multiclass", "binary", "regression", "ranking", "metric"}
        Which targets it takes (class labels, 0/1, values, ..., see DESIGN.md).
    probabilistic : bool
        Whether its scores define probabilities (softmax or sigmoid), for ``predict_proba``.
    check_gradient : bool
        Check ``grad`` against centred finite differences on a small random input of
        the task first; a wrong gradient is an error naming the loss.
    aliases : tuple of str
        Other names for it.

    Returns
    -------
    Loss

    Examples
    --------
    >>> import numpy as np
    >>> def half_squared(pred, y):
    ...     return 0.5 * (pred - y) ** 2, pred - y
    >>> register("half_squared", half_squared, task="regression")
    Loss('half_squared')
    >>> round(get("half_squared")(np.array([1.0, 3.0]), np.zeros(2)).value, 2)
    2.5
    >>> unregister("half_squared")
    """
    key = _check_new_name(name, "name")
    task = _check_task(task)
    keys = [_check_new_name(alias, "aliases") for alias in aliases]
    if check_gradient and (error := _custom.gradient_error(f, key, task)) is not None:
        raise ValueError(error)
    _REGISTERED.update([key, *keys])
    _CATALOGUE[key] = _entry(_custom.PlainLoss(f, key), task, bool(probabilistic))
    ALIASES.update(dict.fromkeys(keys, key))
    return get(key)


def unregister(name: str) -> None:
    """Remove a loss that :func:`register` added, with its aliases (built-in losses stay).

    Parameters
    ----------
    name : str
        The name it was registered under.

    Examples
    --------
    >>> register("zero", lambda s, y: (0.0, 0 * s), task="regression", check_gradient=False)
    Loss('zero')
    >>> unregister("zero")
    >>> "zero" in available()
    False
    """
    key = str(name).lower().replace("-", "_")
    if key not in _REGISTERED or key not in _CATALOGUE:
        raise ValueError(f"name: expected a loss added by register, got {name!r} instead")
    del _CATALOGUE[key]
    for alias in [a for a, target in ALIASES.items() if target == key]:
        del ALIASES[alias]
        _REGISTERED.discard(alias)
    _REGISTERED.discard(key)


# the names register() added: they may be registered again, the built-in ones may not
_REGISTERED: set[str] = set()


def _check_new_name(name, argument):
    if not isinstance(name, str) or not name or ":" in name:
        raise ValueError(f"{argument}: expected a loss name, got {name!r} instead")
    key = name.lower().replace("-", "_")
    if (key in _CATALOGUE or key in ALIASES) and key not in _REGISTERED:
        raise ValueError(f"{argument}: {name!r} is already a built-in loss; choose another name")
    return key


def _check_task(task):
    if task not in TASKS:
        raise ValueError(f"task: expected one of {', '.join(TASKS)}, got {task!r} instead")
    return task

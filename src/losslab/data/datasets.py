"""Datasets by name, split deterministically and standardised on the training part only.

``load(name)`` accepts:

- ``"iris"``, ``"digits"``, ``"wine"``, ``"breast_cancer"``: bundled with scikit-learn;
- ``"blobs"``, ``"moons"``, ``"spiral"``, ``"circles"``: generated from ``random_state``;
- a path to a ``.csv``, ``.npy`` or ``.parquet`` file (the last column is the label
  unless ``target`` names another, by header name or index; see
  :mod:`losslab.data.formats` for each format's rules);
- a path to a ``.npz`` file holding arrays ``X`` and ``y`` (read without pickle);
- ``"cifar10:DIR"``: the CIFAR-10 python batches a user already has on disk.

Nothing is downloaded. Class labels become 0..C-1; ``class_names`` keeps the originals.
``stream(path, batch_size)`` reads a file too big for memory in shuffled mini-batches,
by the same rules.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import formats, sources
from .formats import load_cifar10 as load_cifar10  # re-exported: a name of losslab.data
from .formats import read_npz as read_npz  # re-exported: a name of losslab.data
from .formats.base import StrPath, Target
from .formats.cifar import IMAGE_SHAPE

BUNDLED = ("iris", "digits", "wine", "breast_cancer")
GENERATED = ("blobs", "moons", "spiral", "circles")


@dataclass
class Dataset:
    """Train/validation/test splits of one dataset (features standardised on train).

    Attributes
    ----------
    name : str
        What :func:`load` was given (a file's name for a path).
    X_train, X_val, X_test : ndarray of shape (n, D)
        The features of each split.
    y_train, y_val, y_test : int ndarray of shape (n,)
        Class labels 0..C-1.
    class_names : list
        The original label of each class, in label order.
    feature_names : list of str
        The features' names (from a file's header, or x0, x1, ...).
    image_shape : tuple or None
        E.g. (8, 8) for digits: rows of W can be shown as images.
    mean, scale : ndarray of shape (D,) or None
        The standardisation, computed on the training split only.
    n_classes, n_features : int
        C and D.

    Examples
    --------
    >>> ds = load("iris")
    >>> ds.summary()
    'iris: 105 train / 15 val / 30 test, 4 features, 3 classes'
    >>> ds.class_names
    ['setosa', 'versicolor', 'virginica']
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list
    feature_names: list
    image_shape: tuple | None = None  # e.g. (8, 8) for digits: rows of W can be shown as images
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        """The number of classes (of ``class_names``)."""
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        """The number of features, D."""
        return self.X_train.shape[1]

    def summary(self) -> str:
        """One line: the sizes of the splits, features and classes."""
        return (
            f"{self.name}: {len(self.X_train)} train / {len(self.X_val)} val / {len(self.X_test)} test, "
            f"{self.n_features} features, {self.n_classes} classes"
        )


def available() -> list[str]:
    """The names :func:`load` knows without a path: bundled, then generated.

    Returns
    -------
    list of str
        The bundled sets, then the generated ones.

    Examples
    --------
    >>> available()
    ['iris', 'digits', 'wine', 'breast_cancer', 'blobs', 'moons', 'spiral', 'circles']

    References
    ----------
    scikit-learn's toy datasets: https://scikit-learn.org/stable/datasets/toy_dataset.html;
    CS231n's spiral: https://cs231n.github.io/neural-networks-case-study/
    """
    return list(BUNDLED + GENERATED)


def load(
    name: StrPath,
    *,
    test_size: float = 0.2,
    val_size: float = 0.1,
    standardize: bool = True,
    random_state: int = 0,
    target: Target = None,
    n_samples: int | None = None,
    dtype: Any = np.float64,
) -> Dataset:
    """Load ``name`` and split it into train/validation/test (stratified, seeded).

    Parameters
    ----------
    name : str or path
        A bundled set ("iris", "digits", "wine", "breast_cancer"), a generated one
        ("blobs", "moons", "spiral", "circles"), a ``.csv``/``.npy``/``.parquet``/
        ``.npz`` path, or ``"cifar10:DIR"``.
    test_size, val_size : float, default 0.2 and 0.1
        Fractions of the whole data set.
    standardize : bool, default True
        Scale features to zero mean and unit variance with the training split's
        statistics only.
    random_state : int, default 0
        Seeds the split (and a generated set).
    target : str or int, optional
        A file's label column, by header name or index (default: the last).
    n_samples : int, optional
        Rows of a generated set.
    dtype : dtype, default float64
        Of the features.

    Returns
    -------
    Dataset
        The three splits, standardised on the training split when asked.

    Examples
    --------
    >>> ds = load("digits", test_size=0.25, val_size=0.0)
    >>> ds.X_train.shape, ds.X_test.shape, ds.image_shape
    ((1347, 64), (450, 64), (8, 8))

    References
    ----------
    The bundled sets are scikit-learn's: ``sklearn.datasets.load_iris`` (Fisher, 1936),
    ``load_digits`` (UCI optical digits), ``load_wine``, ``load_breast_cancer``
    (Wisconsin diagnostic).
    """
    X, y, feature_names, image_shape, label = _read(name, target, n_samples, random_state)
    _check_data(X, y)
    class_names, y = np.unique(y, return_inverse=True)
    if len(class_names) < 2:
        raise ValueError(f"data: expected at least 2 classes, got only {class_names.tolist()}")
    X_train, y_train, X_val, y_val, X_test, y_test = _split(X, y, test_size, val_size, random_state)
    mean = scale = None
    if standardize:
        (X_train, X_val, X_test), mean, scale = _standardized(X_train, X_val, X_test)
    X_train, X_val, X_test = (
        np.ascontiguousarray(A, dtype=dtype) for A in (X_train, X_val, X_test)
    )
    names = [c.item() if hasattr(c, "item") else c for c in class_names]
    return Dataset(
        label,
        X_train,
        y_train,
        X_val,
        y_val,
        X_test,
        y_test,
        names,
        feature_names,
        image_shape,
        mean,
        scale,
    )


def _check_data(X, y):
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(
            f"data: expected X of shape (N, D) and N labels, got {X.shape} and {len(y)}"
        )
    if X.shape[1] < 1:
        raise ValueError("data: expected at least 1 feature column besides the labels, got 0")
    if len(X) < 3:
        raise ValueError(f"data: expected at least 3 samples to split, got {len(X)}")
    if not np.all(np.isfinite(X)):
        raise ValueError("data: X contains NaN or infinite values")


def _standardized(X_train, *others):
    """(standardised arrays, mean, scale), the statistics taken on ``X_train``.

    Finite features near the float64 limit (1e308) overflow the plain mean and
    standard deviation; those columns are divided by their largest magnitude first.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean, scale = X_train.mean(axis=0), X_train.std(axis=0)
    if np.isfinite(mean).all() and np.isfinite(scale).all():
        scale[scale == 0] = 1.0  # constant features stay constant instead of becoming NaN
        return [(A - mean) / scale for A in (X_train, *others)], mean, scale
    magnitude = np.abs(X_train).max(axis=0)
    magnitude[magnitude == 0] = 1.0
    mu, sigma = (X_train / magnitude).mean(axis=0), (X_train / magnitude).std(axis=0)
    constant = sigma == 0
    sigma[constant] = 1.0 / magnitude[constant]  # the plain rule's scale of 1
    arrays = [(A / magnitude - mu) / sigma for A in (X_train, *others)]
    return arrays, mu * magnitude, np.where(constant, 1.0, sigma * magnitude)


def _split(X, y, test_size, val_size, random_state):
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1 or not 0 <= val_size < 1 or test_size + val_size >= 1:
        raise ValueError(
            f"test_size/val_size: expected fractions with sum < 1, got {test_size} and {val_size}"
        )
    stratify = y if np.bincount(y).min() >= 3 else None
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=stratify
    )
    if val_size == 0:
        return X_rest, y_rest, X_rest[:0], y_rest[:0], X_test, y_test
    rel = val_size / (1 - test_size)
    stratify = y_rest if np.bincount(y_rest).min() >= 3 else None
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=rel, random_state=random_state, stratify=stratify
    )
    return X_train, y_train, X_val, y_val, X_test, y_test


def split_rows(
    X: Any, y: np.ndarray, *, test_size: float, random_state: int | None, source: StrPath
) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    """(X_train, y_train, X_test, y_test) of a file's rows, stratified when every class has two.

    For data read whole (any X that scikit-learn's ``train_test_split`` takes,
    a scipy.sparse matrix included). A file too small to hold every class on
    both sides is one error that says so, naming the file.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix of shape (N, D)
        The rows.
    y : ndarray of shape (N,)
        Their labels.
    test_size : float
        The share of the rows held out.
    random_state : int or None
        Seeds the split.
    source : str or os.PathLike
        The file the rows came from, for the message.

    Returns
    -------
    tuple
        ``(X_train, y_train, X_test, y_test)``.

    Raises
    ------
    ValueError
        Fewer than two classes, or too few rows per class for the split.

    Examples
    --------
    >>> X, y = np.arange(8.0).reshape(4, 2), np.array([0, 1, 0, 1])
    >>> split_rows(X, y, test_size=0.2, random_state=0, source="tiny.svm")
    Traceback (most recent call last):
    ...
    ValueError: data: too few rows per class to hold out a 20% test split: tiny.svm has 4 rows in 2 classes (2 in the smallest); a stratified split needs at least 6 rows
    """
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(y, return_counts=True)
    if len(counts) < 2:
        raise ValueError(f"data: expected at least 2 classes, got only {classes.tolist()}")
    stratify = y if counts.min() >= 2 else None
    if stratify is not None and not _holds_every_class(len(y), len(counts), test_size):
        needed = next(
            n for n in itertools.count(len(y)) if _holds_every_class(n, len(counts), test_size)
        )
        why = f"a stratified split needs at least {needed} rows"
        raise _too_few_rows(source, counts, test_size, why)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=stratify
    )
    if len(np.unique(y_train)) < 2:  # unstratified: the test rows took a whole class
        raise _too_few_rows(source, counts, test_size, "the test rows took a whole class")
    return X_train, y_train, X_test, y_test


def _holds_every_class(n_rows, n_classes, test_size):
    """Whether a stratified split of ``n_rows`` has room for every class on both sides."""
    n_test = math.ceil(test_size * n_rows)  # train_test_split's count
    return min(n_test, n_rows - n_test) >= n_classes


def _too_few_rows(source, counts, test_size, why):
    return ValueError(
        f"data: too few rows per class to hold out a {test_size:.0%} test split: "
        f"{Path(source).name} has {counts.sum()} rows in {len(counts)} classes "
        f"({counts.min()} in the smallest); {why}"
    )


def _read(name, target, n_samples, random_state):
    """(X, y, feature_names, image_shape, display name) for any supported source."""
    name = str(name)
    if name in BUNDLED:
        return _bundled(name)
    if name in GENERATED:
        X, y = generate(name, n_samples=n_samples or 600, random_state=random_state)
        return X, y, ["x1", "x2"], None, name
    if name.startswith("cifar10:"):
        X, y = load_cifar10(name.split(":", 1)[1])
        return X, y, [f"pixel{i}" for i in range(X.shape[1])], IMAGE_SHAPE, "cifar10"
    path = Path(name)
    if path.suffix.lower() in formats.READERS:
        X, y, features = formats.read(path, target)
        return X, y, features, None, path.name
    if sources.is_sparse_file(path):  # a Dataset's splits are dense and standardised
        raise ValueError(
            f"data: {path.name} is sparse (svmlight); read it with "
            "losslab.data.formats.read_svmlight, or train on it with losslab train --data"
        )
    known = ", ".join(available())
    kinds = ", ".join(formats.READERS)
    raise ValueError(f"data: expected one of {known}, a {kinds} path, or cifar10:DIR; got {name!r}")


def _bundled(name):
    from sklearn import datasets as sk

    loader = {
        "iris": sk.load_iris,
        "digits": sk.load_digits,
        "wine": sk.load_wine,
        "breast_cancer": sk.load_breast_cancer,
    }[name]
    bunch = loader()
    image_shape = (8, 8) if name == "digits" else None
    y = np.asarray(bunch.target_names)[bunch.target] if name != "digits" else bunch.target
    return bunch.data, y, list(map(str, bunch.feature_names)), image_shape, name


def generate(
    name: str,
    *,
    n_samples: int = 600,
    n_classes: int = 3,
    noise: float | None = None,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D toy classification problem: blobs, moons, circles or the CS231n spiral.

    Parameters
    ----------
    name : {"blobs", "moons", "circles", "spiral"}
        Which problem.
    n_samples : int, default 600
        Points in all.
    n_classes : int, default 3
        Of blobs and the spiral (moons and circles have two).
    noise : float, optional
        The problem's own default when None (0.2 for moons and the spiral, 0.1
        for circles).
    random_state : int, default 0
        Seeds the points.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : int ndarray of shape (n_samples,)
        Their classes.

    Examples
    --------
    >>> X, y = generate("moons", n_samples=100)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])

    References
    ----------
    ``sklearn.datasets.make_blobs``, ``make_moons``, ``make_circles``; CS231n,
    "Putting it together": https://cs231n.github.io/neural-networks-case-study/
    """
    from sklearn import datasets as sk

    rng = np.random.default_rng(random_state)
    seed = int(rng.integers(2**31 - 1))
    if name == "blobs":
        return sk.make_blobs(
            n_samples, centers=n_classes, n_features=2, cluster_std=1.2, random_state=seed
        )
    if name == "moons":
        return sk.make_moons(n_samples, noise=0.2 if noise is None else noise, random_state=seed)
    if name == "circles":
        return sk.make_circles(
            n_samples, noise=0.1 if noise is None else noise, factor=0.5, random_state=seed
        )
    if name == "spiral":
        return spiral(
            n_samples // n_classes, n_classes, noise=0.2 if noise is None else noise, rng=rng
        )
    raise ValueError(f"data: expected one of {', '.join(GENERATED)}, got {name!r}")


def spiral(
    n_per_class: int,
    n_classes: int,
    *,
    noise: float = 0.2,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """CS231n's spiral: each class an arm of a spiral, not linearly separable.

    Parameters
    ----------
    n_per_class : int
        Points per arm.
    n_classes : int
        Arms, one per class.
    noise : float, default 0.2
        Standard deviation of the angle's noise.
    rng : Generator, optional
        Default: ``np.random.default_rng(0)``.

    Returns
    -------
    X : ndarray of shape (n_per_class * n_classes, 2)
        The points.
    y : int ndarray of shape (n_per_class * n_classes,)
        Their classes (arms).

    Examples
    --------
    >>> X, y = spiral(100, 3)
    >>> X.shape, np.bincount(y).tolist()
    ((300, 2), [100, 100, 100])

    References
    ----------
    CS231n, "Putting it together": https://cs231n.github.io/neural-networks-case-study/
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    X = np.zeros((n_per_class * n_classes, 2))
    y = np.zeros(n_per_class * n_classes, dtype=np.intp)
    for k in range(n_classes):
        idx = slice(n_per_class * k, n_per_class * (k + 1))
        r = np.linspace(0.0, 1, n_per_class)
        theta = np.linspace(k * 4, (k + 1) * 4, n_per_class) + noise * rng.standard_normal(
            n_per_class
        )
        X[idx] = np.c_[r * np.sin(theta), r * np.cos(theta)]
        y[idx] = k
    return X, y


def read_csv(path: StrPath, target: Target = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X float64, y, feature_names) of a CSV file, by the rules of :mod:`losslab.data.formats.csv`.

    A header row is detected; the label is the last column unless ``target``
    names another.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    target : str or int, optional
        The label column, by header name or index.

    Returns
    -------
    X : ndarray of shape (n, D), float64
        The features.
    y : ndarray of shape (n,)
        The labels as written (numbers or strings).
    feature_names : list of str
        From the header, or x0, x1, ... without one.

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "small.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("x1,x2,label\\n1,2,a\\n3,4,b\\n")
    >>> X, y, names = read_csv(path)
    >>> X.tolist(), y.tolist(), names
    ([[1.0, 2.0], [3.0, 4.0]], ['a', 'b'], ['x1', 'x2'])
    >>> tmp.cleanup()
    """
    return formats.csv.read(path, target)


# the stone of seed 002: height f(t) = a t² + b t + c, with a = -g/2
TRAJECTORY_TRUTH = {"a": -4.9, "b": 20.0, "c": 1.5}


def trajectory(
    n: int = 50,
    *,
    noise: float = 0.5,
    outlier_fraction: float = 0.1,
    outlier_size: float = 15.0,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A thrown stone's measured height over time, with noise and a few gross outliers.

    Heights follow f(t) = -4.9 t² + 20 t + 1.5 (metres, seconds) for t in [0, 4],
    plus Gaussian noise of ``noise`` m; ``outlier_fraction`` of the points are
    off by up to ``outlier_size`` m (a sensor glitch), the case where L2 fails
    and a robust loss does not.

    Parameters
    ----------
    n : int, default 50
        Measurements, evenly spaced over 4 seconds.
    noise : float, default 0.5
        Standard deviation of the measurement noise, in metres.
    outlier_fraction : float, default 0.1
        The share of measurements that are gross outliers.
    outlier_size : float, default 15.0
        The largest outlier, in metres (each is 0.5 to 1 times this, either sign).
    random_state : int, default 0
        Seeds the noise and the outliers.

    Returns
    -------
    t : ndarray of shape (n,)
        The times, in seconds.
    height : ndarray of shape (n,)
        The measured heights, in metres.

    Examples
    --------
    >>> t, height = trajectory()
    >>> t.shape, float(t[-1])
    ((50,), 4.0)

    References
    ----------
    P. J. Huber, *Robust Statistics* (1981), on gross outliers; the robust ``loss`` options of
    ``scipy.optimize.least_squares``.
    """
    rng = np.random.default_rng(random_state)
    t = np.linspace(0.0, 4.0, n)
    a, b, c = TRAJECTORY_TRUTH.values()
    height = a * t**2 + b * t + c + noise * rng.standard_normal(n)
    n_out = round(outlier_fraction * n)
    idx = rng.choice(n, size=n_out, replace=False)
    height[idx] += outlier_size * rng.uniform(0.5, 1.0, n_out) * rng.choice([-1.0, 1.0], n_out)
    return t, height


def read_xy(source: StrPath, *, target: Target = None) -> tuple[np.ndarray, np.ndarray]:
    """Two columns (x, y) for curve fitting: ``"trajectory"`` or a file (first column x, the label y).

    The file is a ``.csv``, ``.npy`` or ``.parquet`` path; y is its last column
    unless ``target`` names another.

    Parameters
    ----------
    source : "trajectory" or path
        The generated throw (:func:`trajectory`) or a file.
    target : str or int, optional
        The y column, by header name or index.

    Returns
    -------
    x, y : ndarray of shape (m,)
        Finite float64 values; a ValueError names the first row that is not.

    Examples
    --------
    >>> x, y = read_xy("trajectory")
    >>> x.shape, y.shape
    ((50,), (50,))
    """
    if str(source) == "trajectory":
        return trajectory()
    X, y, _ = formats.read(Path(source), target)
    if np.asarray(y).dtype.kind not in "fiu" or X.ndim != 2 or X.shape[1] < 1:
        raise ValueError(f"{source}: expected numeric columns x and y")
    x, y = X[:, 0], np.asarray(y, dtype=np.float64)
    for name, values in (("x", x), ("y", y)):
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise ValueError(f"{source}: {name} of data row {bad[0] + 1} is {values[bad[0]]}")
    return x, y


def stream(
    path: StrPath,
    batch_size: int = 256,
    *,
    target: Target = None,
    chunk_rows: int = 65536,
    **options: Any,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches (X float32, y) from a ``.npy``, Parquet or CSV file too big for memory.

    Opens the file as a chunked source; ``options`` (shuffle, buffer_rows, seed,
    holdout_every, test) are those of :func:`losslab.stream.stream`. Memory stays
    about ``buffer_rows + chunk_rows`` rows whatever the file's size.

    Parameters
    ----------
    path : str or Path
        A ``.npy``, ``.parquet`` or ``.csv`` file; the label is its last column
        unless ``target`` names another.
    batch_size : int, default 256
        Rows per batch.
    target : str or int, optional
        The label column, by name or index (default: the last).
    chunk_rows : int, default 65536
        Rows read at a time.
    **options
        ``shuffle``, ``buffer_rows``, ``seed``, ``holdout_every``, ``test``.

    Returns
    -------
    iterator of (X, y)
        X of shape (batch_size, D), float32, and y of shape (batch_size,); the
        last batch may be shorter.

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "big.npy")
    >>> np.save(path, np.c_[np.arange(10.0), np.arange(10) % 2])  # one feature, then the label
    >>> [len(y) for X, y in stream(path, batch_size=4, shuffle=False)]
    [4, 4, 2]
    >>> tmp.cleanup()
    """
    return sources.stream(sources.open_source(path, target, chunk_rows), batch_size, **options)

"""One self-contained HTML file summarising a run directory (``losslab report RUN_DIR``).

Sections: configuration, sanity check, metrics, training curves, landscape and
every other figure in the directory, the confusion matrix and per-class
precision/recall on the test split (recomputed from ``model.npz`` and the run's
data). Images are embedded as base64 and the styles are inline, so the file
opens offline and can be mailed as it is.
"""

from __future__ import annotations

import base64
import html
import json
from os import PathLike
from pathlib import Path

import numpy as np

from . import data as datasets
from . import plots
from .estimators import persist
from .training import files

SECTIONS = (
    "Configuration",
    "Sanity check",
    "Metrics",
    "Training curves",
    "Confusion matrix",
    "Per-class precision and recall",
    "Figures",
)

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 1.6em; color: #333; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #bbb; padding: 4px 10px; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.4em 0; } .pass { color: #176e17; } .fail { color: #b00; }
"""


def build_report(run_dir: str | PathLike[str]) -> str:
    """The report's HTML for ``run_dir`` (a directory written by ``losslab train --out`` or another command).

    Each of :data:`SECTIONS` is present; a section whose file is missing says so
    instead of failing, so any command's output directory makes a report. The
    confusion matrix needs ``config.json`` (naming the data and the loss) and
    ``model.npz``; it is recomputed on the data set's test split and also written to
    ``RUN_DIR/confusion_matrix.png``.

    Parameters
    ----------
    run_dir : str or path
        The run directory: ``config.json``, ``metrics.json``, ``model.npz`` and
        ``*.png`` are read when present.

    Returns
    -------
    str
        A complete HTML document, images embedded as base64 and styles inline.

    Raises
    ------
    ValueError
        If ``run_dir`` is not a directory or a JSON file is unreadable or not an object.

    See Also
    --------
    write_report : writes this to a file.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     run = Path(tmp)
    ...     _ = (run / "config.json").write_text(json.dumps({"lr": 0.1}))
    ...     sanity = {"ok": True, "measured": 1.0987, "expected": 1.0986}
    ...     _ = (run / "metrics.json").write_text(json.dumps({"sanity": sanity, "test_acc": 0.9}))
    ...     page = build_report(run)
    >>> page.startswith("<!doctype html>"), all(f"<h2>{name}</h2>" in page for name in SECTIONS)
    (True, True)
    >>> "<b>PASS</b>: initial loss 1.0987" in page, "<td>test_acc</td><td>0.9000</td>" in page
    (True, True)
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise ValueError(f"{run}: no such run directory")
    parts = [f"<h1>losslab report: {html.escape(run.name)}</h1>"]
    config = _read_json(run / "config.json")
    metrics = _read_json(run / "metrics.json")
    parts.append(
        _section(
            "Configuration",
            _table(config.items()) if config else "<p>no config.json in this directory</p>",
        )
    )
    parts.append(_section("Sanity check", _sanity(metrics)))
    shown = {"sanity"}
    rows = [(k, _fmt(v)) for k, v in metrics.items() if k not in shown] if metrics else []
    parts.append(
        _section("Metrics", _table(rows) if rows else "<p>no metrics.json in this directory</p>")
    )
    curve = run / "loss_curve.png"
    parts.append(
        _section("Training curves", _img(curve) if curve.exists() else "<p>no loss_curve.png</p>")
    )
    matrix, per_class = _test_evaluation(run, config)
    parts.append(_section("Confusion matrix", matrix))
    parts.append(_section("Per-class precision and recall", per_class))
    others = sorted(
        p for p in run.glob("*.png") if p.name not in ("loss_curve.png", "confusion_matrix.png")
    )
    parts.append(
        _section(
            "Figures",
            "".join(f"<h3>{html.escape(p.stem)}</h3>{_img(p)}" for p in others) or "<p>none</p>",
        )
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>losslab report</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )


def write_report(run_dir: str | PathLike[str], path: str | PathLike[str] | None = None) -> Path:
    """Write :func:`build_report`'s HTML to ``path`` (default: ``RUN_DIR/report.html``); the path.

    The file is written atomically: a reader never sees half a report.

    Parameters
    ----------
    run_dir : str or path
        The run directory.
    path : str or path, optional
        Where to write; default ``run_dir / "report.html"``.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        As :func:`build_report`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_report(tmp)
    ...     written.name, "no metrics.json in this directory" in written.read_text()
    ('report.html', True)
    """
    path = Path(path) if path is not None else Path(run_dir) / "report.html"
    files.atomic_write_text(path, build_report(run_dir))
    return path


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class): rows are true classes, columns predictions.

    Parameters
    ----------
    y_true : ndarray of shape (N,), int
        True labels in [0, n_classes).
    y_pred : ndarray of shape (N,), int
        Predicted labels in [0, n_classes).
    n_classes : int
        C; classes absent from both still get a row and a column.

    Returns
    -------
    ndarray of shape (C, C), int
        ``matrix[i, j]`` counts the samples of class i predicted as j; the diagonal
        holds the correct predictions.

    See Also
    --------
    precision_recall : per-class scores from this matrix.

    Examples
    --------
    >>> confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3).tolist()
    [[1, 1, 0], [0, 1, 0], [0, 1, 0]]

    References
    ----------
    scikit-learn's ``sklearn.metrics.confusion_matrix`` (the same layout).
    """
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Per-class (precision, recall, support) from a confusion matrix (rows: true, columns: predicted).

    .. math::

        \text{precision}_c = \frac{M_{cc}}{\sum_i M_{ic}}, \qquad
        \text{recall}_c = \frac{M_{cc}}{\sum_j M_{cj}}

    A class never predicted has precision 0, one never present recall 0 (as
    scikit-learn's ``zero_division`` default), never NaN.

    Parameters
    ----------
    matrix : ndarray of shape (C, C)
        As :func:`confusion_matrix` returns it.

    Returns
    -------
    precision : ndarray of shape (C,), float
    recall : ndarray of shape (C,), float
    support : ndarray of shape (C,), int
        The number of true samples of each class (the row sums).

    Examples
    --------
    >>> matrix = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    >>> precision, recall, support = precision_recall(matrix)
    >>> precision.round(4).tolist(), recall.tolist(), support.tolist()
    ([1.0, 0.3333, 0.0], [0.5, 1.0, 0.0], [2, 1, 1])

    References
    ----------
    scikit-learn's ``sklearn.metrics.precision_recall_fscore_support(average=None)``.
    """
    tp = np.diag(matrix).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(matrix.sum(0) > 0, tp / matrix.sum(0), 0.0)
        recall = np.where(matrix.sum(1) > 0, tp / matrix.sum(1), 0.0)
    return precision, recall, matrix.sum(1)


def _test_evaluation(run, config):
    model_path = run / "model.npz"
    if not config or not model_path.exists():
        return "<p>needs config.json and model.npz</p>", "<p>needs config.json and model.npz</p>"
    if not all(isinstance(config.get(k), str) for k in ("data", "loss")):
        note = "<p>config.json names no data set and loss to evaluate the model on</p>"
        return note, note
    from .losses import get
    from .training.objective import predict_labels

    ds = datasets.load(
        config["data"], random_state=config.get("seed", 0), target=config.get("target")
    )
    model = persist.load_model(model_path)
    y_pred = predict_labels(get(config["loss"]), model(ds.X_test))
    matrix = confusion_matrix(ds.y_test, y_pred, ds.n_classes)
    plots.confusion_figure(matrix, ds.class_names, run / "confusion_matrix.png")
    precision, recall, support = precision_recall(matrix)
    rows = [
        (str(c), f"{p:.3f}", f"{r:.3f}", str(n))
        for c, p, r, n in zip(ds.class_names, precision, recall, support, strict=True)
    ]
    table = _table(rows, header=("class", "precision", "recall", "support"))
    return _img(run / "confusion_matrix.png"), table


def _sanity(metrics):
    sanity = (metrics or {}).get("sanity")
    if not sanity:
        return "<p>no sanity check recorded</p>"
    verdict = "PASS" if sanity["ok"] else "FAIL"
    return (
        f"<p class='{verdict.lower()}'><b>{verdict}</b>: initial loss {sanity['measured']:.4f}, "
        f"expected {sanity['expected']:.4f} (the loss at zero scores: ln C for softmax, C − 1 for the SVM)</p>"
    )


def _section(title, body):
    return f"<h2>{html.escape(title)}</h2>{body}"


def _table(rows, header=("name", "value")):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(path):
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"<img alt='{html.escape(Path(path).stem)}' src='data:image/png;base64,{data}'>"


def _fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else value


def _read_json(path):
    if not path.exists():
        return None
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value

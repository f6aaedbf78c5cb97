"""Files without pickle: arrays as ``.npz`` plus a JSON header, written atomically; training checkpoints.

Every file holds numeric arrays and one string array ``__header__`` with JSON
(format name, version, what the file is). Loading uses ``allow_pickle=False``,
so a foreign or malicious file can never run code: it is a clear ``ValueError``.
Before any array is read, the size each member declares is checked against the
bytes it holds, so a small file cannot make the reader allocate gigabytes.
Writes go to a temporary file in the same directory and are then renamed, so an
interrupted run never leaves a half-written file. Model files (estimators/persist.py) use the same format.

A checkpoint keeps the history's lists (one loss per step, one row per epoch)
out of its header, in an append-only side file ``.NAME.history-TOKEN.jsonl``:
each epoch appends its new entries, so writing a checkpoint costs the same at
epoch 1,000 as at epoch 1. The header records how many bytes and entries of the
side file belong to it; anything appended after it (a run killed between the
two writes) is ignored.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import tempfile
import weakref
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from .state import History, TrainState

FORMAT = "losslab"
VERSION = 2  # the newest file version this losslab reads
CHECKPOINT_VERSION = 2  # 2: the history's lists in a side file; 1: in the header
StrPath = str | os.PathLike[str]  # a file name, as str or pathlib.Path
_LISTS = tuple(f.name for f in dataclasses.fields(History) if f.default_factory is list)


def atomic_write_bytes(path: StrPath, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write(file_object)`` on a temporary file, then rename it to ``path``.

    The temporary file is ``.NAME.<random>.tmp`` in ``path``'s directory (created
    if missing), flushed to disk before the rename, so ``path`` holds either its
    old content or the whole new one, never a part. If ``write`` raises, the
    temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    write : callable
        ``write(f)`` writes the content to the binary file object ``f``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write_bytes(Path(d) / "out.bin", lambda f: f.write(b"abc"))
    ...     print((Path(d) / "out.bin").read_bytes(), [p.name for p in Path(d).iterdir()])
    b'abc' ['out.bin']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: StrPath, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_write_bytes`).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    text : str
        Its new content.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write_text(Path(d) / "sub" / "note.txt", "λ = 0.1")
    ...     print((Path(d) / "sub" / "note.txt").read_text(encoding="utf-8"))
    λ = 0.1
    """
    atomic_write_bytes(path, lambda f: f.write(text.encode("utf-8")))


def remove_stale_temporaries(directory: StrPath, names: Iterable[str]) -> None:
    """Delete the temporary files a killed :func:`atomic_write_bytes` left for ``names``.

    Parameters
    ----------
    directory : str or os.PathLike
        Where the files are written.
    names : iterable of str
        The file names (not paths) whose ``.NAME.*.tmp`` leftovers go.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / ".model.npz.abc123.tmp").write_bytes(b"half a file")
    ...     remove_stale_temporaries(d, ["model.npz"])
    ...     print(list(Path(d).iterdir()))
    []
    """
    for name in names:
        for tmp in Path(directory).glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)


def check_finite_arrays(arrays: Mapping[str, np.ndarray], who: str, what: str) -> None:
    """Refuse to write a NaN or an infinity: saved weights are weights that predict or resume.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        What is about to be written; "param/NAME" keys are the model's parameters.
    who : str
        The writer, first in the message ("save", "checkpoint").
    what : str
        The file, last in the message ("a model file").

    Raises
    ------
    ValueError
        Naming the first array that holds a non-finite value, and how many it holds.

    Examples
    --------
    >>> check_finite_arrays({"param/W": np.array([1.0, np.nan])}, "save", "a model file")
    Traceback (most recent call last):
    ...
    ValueError: save: parameter W holds 1 non-finite values (NaN or inf); a model file keeps only finite numbers
    """
    for key, array in arrays.items():
        values = np.asarray(array)
        if values.dtype.kind in "fc" and not np.isfinite(values).all():
            name = key.removeprefix("param/")
            kind = "parameter" if key.startswith("param/") else "array"
            raise ValueError(
                f"{who}: {kind} {name} holds {np.size(values) - np.isfinite(values).sum()} "
                f"non-finite values (NaN or inf); {what} keeps only finite numbers"
            )


def save_arrays(path: StrPath, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> None:
    """Write ``arrays`` (name -> numeric array) and ``header`` (JSON-able dict) atomically.

    The file is an ``.npz`` (what :func:`numpy.savez` writes) with one more member,
    ``__header__``: a JSON string of ``{"format": "losslab", "version": 1, **header}``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (any name; ``np.savez`` does not add ``.npz`` to an open file).
    arrays : mapping of str to ndarray
        Numeric arrays (bool, int, float) of any shape.
    header : mapping of str to JSON-able values
        What the file is; ``"kind"`` names it for :func:`load_arrays`.

    Raises
    ------
    TypeError
        An array is not numeric (objects and strings would need pickle to read).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_arrays(Path(d) / "w.npz", {"W": np.eye(2)}, {"kind": "weights", "note": "id"})
    ...     arrays, header = load_arrays(Path(d) / "w.npz", "weights")
    >>> arrays["W"].tolist(), header["note"], header["format"]
    ([[1.0, 0.0], [0.0, 1.0]], 'id', 'losslab')
    """
    for name, a in arrays.items():
        if np.asarray(a).dtype.kind not in "biuf":
            raise TypeError(
                f"{name}: only numeric arrays are saved, got dtype {np.asarray(a).dtype}"
            )
    meta = json.dumps({"format": FORMAT, "version": 1, **header})
    members: dict[str, Any] = {"__header__": np.array(meta), **arrays}
    atomic_write_bytes(path, lambda f: np.savez(f, **members))


def check_declared_sizes(path: StrPath) -> None:
    """ValueError unless every array of the ``.npz`` at ``path`` holds the bytes its shape declares.

    Only the members' small ``.npy`` headers are read: a lying header (a 1 KB
    file claiming 10⁷ × 10⁷) is refused before anything is allocated.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` file.

    Raises
    ------
    ValueError
        A member is not a ``.npy`` array, or its bytes differ from what its shape
        and dtype declare.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.savez(Path(d) / "a.npz", x=np.zeros(3))
    ...     check_declared_sizes(Path(d) / "a.npz")  # consistent: nothing happens
    ...     with zipfile.ZipFile(Path(d) / "cut.npz", "w") as z:  # a header claiming 3 floats
    ...         z.writestr("x.npy", zipfile.ZipFile(Path(d) / "a.npz").read("x.npy")[:-8])
    ...     check_declared_sizes(Path(d) / "cut.npz")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...cut.npz: array 'x' declares shape (3,) (24 bytes) but holds 16 bytes
    """
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as f:
                shape, dtype = _npy_header(f, info.filename)
                if dtype.hasobject:
                    continue  # refused by allow_pickle=False when read
                declared = math.prod(shape) * dtype.itemsize
                held = info.file_size - f.tell()
            if declared != held:
                raise ValueError(
                    f"{path}: array {info.filename.removesuffix('.npy')!r} declares shape "
                    f"{shape} ({declared} bytes) but holds {held} bytes"
                )


def _npy_header(f, name):
    """(shape, dtype) from a ``.npy`` member's header, reading nothing else."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except ValueError as exc:
        raise ValueError(f"member {name!r} is not a .npy array ({exc})") from None
    return shape, dtype


def load_arrays(path: StrPath, kind: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save_arrays`; ``kind`` is the expected header kind.

    Read with ``allow_pickle=False`` after :func:`check_declared_sizes`, so any
    other file is a ``ValueError`` saying what is wrong, never code run nor
    memory exhausted.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    kind : str
        The ``"kind"`` its header must have ("checkpoint", "model", ...).

    Returns
    -------
    arrays : dict of str to ndarray
        Every array but the header.
    header : dict
        The JSON header (``format``, ``version``, ``kind`` and what the writer added).

    Raises
    ------
    ValueError
        No such file, not a losslab file, a newer file version, or another kind.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_arrays(Path(d) / "w.npz", {"W": np.ones(2)}, {"kind": "weights"})
    ...     load_arrays(Path(d) / "w.npz", "checkpoint")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...w.npz: expected a losslab checkpoint file, got a 'weights' file
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        check_declared_sizes(path)
        with np.load(path, allow_pickle=False) as data:
            if "__header__" not in data.files:
                raise ValueError(f"{path}: not a losslab file (no header)")
            header = json.loads(str(data["__header__"]))
            arrays = {k: data[k] for k in data.files if k != "__header__"}
    except (zipfile.BadZipFile, OSError, EOFError, json.JSONDecodeError, KeyError) as exc:
        raise ValueError(
            f"{path}: not a readable losslab file ({type(exc).__name__}: {exc})"
        ) from None
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a readable losslab file ({exc})") from None
    _check_header(path, header, kind)
    return arrays, header


def _check_header(path, header, kind):
    if not isinstance(header, dict):
        raise ValueError(f"{path}: not a losslab file (its header is not a JSON object)")
    if header.get("format") != FORMAT:
        raise ValueError(f"{path}: not a losslab file (format {header.get('format')!r})")
    version = header.get("version", 0)
    if not isinstance(version, int):
        raise ValueError(f"{path}: not a losslab file (version {version!r})")
    if version > VERSION:
        raise ValueError(f"{path}: written by a newer losslab (file version {version})")
    if header.get("kind") != kind:
        raise ValueError(
            f"{path}: expected a losslab {kind} file, got a {header.get('kind')!r} file"
        )


# --- training checkpoints ------------------------------------------------------------------


def save_checkpoint(path: StrPath, model: Any, state: TrainState, history: History) -> None:
    """Model parameters, optimizer state, shuffling RNG state and history, atomically.

    The history's new entries go to the side file first; the checkpoint that
    counts them is written after, so either write may be interrupted safely.
    ``losslab.fit(..., checkpoint=path)`` calls it after every epoch.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file; its side file ``.NAME.history-TOKEN.jsonl`` goes beside it.
    model : Model
        Its ``params`` are saved.
    state : TrainState
        Epoch and step counts, the optimizer's state and the shuffling generator's state.
    history : History
        The run's record so far.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from losslab import models, optim
    >>> model = models.Linear(2, 2, random_state=0)
    >>> adam = optim.Adam()
    >>> state = TrainState(adam, adam.init(model.params), np.random.default_rng(0), epoch=3)
    >>> history = History(epoch=[1, 2, 3], train_loss=[0.9, 0.7, 0.6])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_checkpoint(Path(d) / "run.ckpt", model, state, history)
    ...     other = models.Linear(2, 2, random_state=1)
    ...     fresh = TrainState(optim.Adam(), adam.init(other.params), np.random.default_rng(5))
    ...     state2, history2 = load_checkpoint(Path(d) / "run.ckpt", other, fresh)
    ...     remove_checkpoint(Path(d) / "run.ckpt")
    ...     left = list(Path(d).iterdir())
    >>> state2.epoch, history2.train_loss, left
    (3, [0.9, 0.7, 0.6], [])
    >>> bool(np.array_equal(other.params["W"], model.params["W"]))
    True
    """
    path = Path(path)
    arrays = {f"param/{k}": p for k, p in model.params.items()}
    scalars = {}
    for key, value in state.opt_state.items():
        if isinstance(value, dict):
            arrays.update({f"opt/{key}/{k}": a for k, a in value.items()})
        else:
            scalars[key] = value
    # training restores the last finite weights before it stops: a NaN here is a bug, not a state
    check_finite_arrays(arrays, "checkpoint", "a checkpoint")
    log, started = _HistoryLog.for_history(path, history)
    header = {
        "kind": "checkpoint",
        "version": CHECKPOINT_VERSION,
        "epoch": state.epoch,
        "step": state.step,
        "optimizer": type(state.optimizer).__name__,
        "opt_scalars": scalars,
        "rng": _jsonable(state.shuffle_rng.bit_generator.state),
        "history": {k: v for k, v in history.as_dict().items() if k not in _LISTS},
        "history_log": log.append(history),
    }
    save_arrays(path, arrays, header)
    if started:  # the checkpoint now names the new side file: earlier ones are garbage
        _remove_history_logs(path, keep=log.name)


def load_checkpoint(path: StrPath, model: Any, state: TrainState) -> tuple[TrainState, History]:
    """Restore ``model`` and ``state`` in place from a checkpoint; returns (state, history).

    Nothing is changed unless the whole checkpoint is consistent; temporary files
    of writes that were killed are removed.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_checkpoint` (its side file beside it).
    model : Model
        Of the architecture saved; its parameters are overwritten.
    state : TrainState
        With the optimizer the checkpoint was written with; its optimizer state,
        generator and counts are overwritten.

    Returns
    -------
    state : TrainState
        ``state``, restored.
    history : History
        The run's record up to the checkpoint.

    Raises
    ------
    ValueError
        Not a checkpoint, another optimizer or model shape, a corrupt or missing
        history file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from losslab import models, optim
    >>> model = models.Linear(2, 2, random_state=0)
    >>> state = TrainState(optim.SGD(), {}, np.random.default_rng(0), epoch=1, step=4)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_checkpoint(Path(d) / "run.ckpt", model, state, History(epoch=[1]))
    ...     adam = optim.Adam()
    ...     load_checkpoint(Path(d) / "run.ckpt", model,
    ...                     TrainState(adam, adam.init(model.params), np.random.default_rng(0)))
    ...     # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...run.ckpt: checkpoint was written with SGD, not Adam
    """
    path = Path(path)
    remove_stale_temporaries(path.parent, [path.name])
    arrays, header = load_arrays(path, "checkpoint")
    try:
        restored = _restored_state(path, arrays, header, model, state)
        history = _restored_history(path, header)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: corrupt checkpoint ({type(exc).__name__}: {exc})") from None
    params, opt_arrays, rng = restored
    for k, p in model.params.items():
        p[...] = params[k]
    for target, saved in opt_arrays:
        target[...] = saved
    state.opt_state.update(header["opt_scalars"])
    state.shuffle_rng.bit_generator.state = rng.bit_generator.state
    state.epoch, state.step = header["epoch"], header["step"]
    return state, history


def _restored_state(path, arrays, header, model, state):
    """(parameters, optimizer arrays, shuffling RNG) of the checkpoint, checked against ``state``."""
    if header["optimizer"] != type(state.optimizer).__name__:
        raise ValueError(
            f"{path}: checkpoint was written with {header['optimizer']}, "
            f"not {type(state.optimizer).__name__}"
        )
    for name in ("epoch", "step"):
        if not isinstance(header[name], int) or header[name] < 0:
            raise ValueError(f"{name} is {header[name]!r}, expected a count")
    scalars = {k for k, v in state.opt_state.items() if not isinstance(v, dict)}
    saved = header["opt_scalars"]
    if not isinstance(saved, dict) or set(saved) != scalars:
        raise ValueError(f"opt_scalars {saved!r}, expected {sorted(scalars)}")
    if not all(isinstance(v, (int, float)) and np.isfinite(v) for v in saved.values()):
        raise ValueError(f"opt_scalars {saved!r} are not finite numbers")
    params = {k: _matching(path, arrays, f"param/{k}", p) for k, p in model.params.items()}
    opt_arrays = [
        (a, _matching(path, arrays, f"opt/{key}/{k}", a))
        for key, value in state.opt_state.items()
        if isinstance(value, dict)
        for k, a in value.items()
    ]
    rng = np.random.Generator(type(state.shuffle_rng.bit_generator)())
    rng.bit_generator.state = header["rng"]
    return params, opt_arrays, rng


def _matching(path, arrays, name, like):
    saved = arrays.get(name)
    if saved is None or saved.shape != like.shape:
        raise ValueError(f"{path}: checkpoint does not match this model ({name})")
    return saved


def _restored_history(path, header):
    fields = dict(header["history"])
    if header.get("version", 1) >= 2:
        fields.update(_HistoryLog.read(path, header["history_log"]))
    return History(**fields)


def remove_checkpoint(path: StrPath) -> None:
    """Delete the checkpoint at ``path`` and its history, if there are any.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint file; a missing one is not an error.

    Examples
    --------
    See :func:`save_checkpoint`; removing what is not there does nothing:

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     remove_checkpoint(Path(d) / "never-written.ckpt")
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    _remove_history_logs(path, keep=None)
    _OPEN_LOGS.pop(str(path.resolve()), None)


def _remove_history_logs(path, keep):
    for log in path.parent.glob(f".{path.name}.history-*.jsonl"):
        if log.name != keep:
            log.unlink(missing_ok=True)


class _HistoryLog:
    """The append-only side file of one checkpoint: one JSON line of new entries per save.

    The log remembers the History it was written from; a different History
    (a new run, or one read back on resume) starts a new side file once.
    """

    def __init__(self, path, history):
        self.name = f".{path.name}.history-{secrets.token_hex(4)}.jsonl"
        self.file = path.parent / self.name
        self.history = weakref.ref(history)
        self.counts = dict.fromkeys(_LISTS, 0)
        self.size = 0

    @classmethod
    def for_history(cls, path, history):
        """(the log to append ``history`` to, whether it is a new side file)."""
        key = str(path.resolve())
        log = _OPEN_LOGS.get(key)
        if log is not None and log.continues(history):
            return log, False
        log = _OPEN_LOGS[key] = cls(path, history)
        return log, True

    def continues(self, history):
        return (
            self.history() is history
            and all(len(getattr(history, k)) >= n for k, n in self.counts.items())
            and self.file.is_file()
            and self.file.stat().st_size == self.size
        )

    def append(self, history):
        """Append the entries added since the last save; what the checkpoint records of the log."""
        new = {k: getattr(history, k)[n:] for k, n in self.counts.items()}
        line = json.dumps({k: v for k, v in new.items() if v}) + "\n"
        parent = self.file.parent
        parent.mkdir(parents=True, exist_ok=True)
        with open(self.file, "ab") as f:
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        self.size += len(line.encode("utf-8"))
        self.counts = {k: len(getattr(history, k)) for k in _LISTS}
        return {"file": self.name, "bytes": self.size, "counts": self.counts}

    @staticmethod
    def read(path, record):
        """The history's lists as the checkpoint recorded them (later appends are ignored)."""
        name, size, counts = record["file"], record["bytes"], record["counts"]
        if Path(name).name != name or not name.startswith(f".{path.name}.history-"):
            raise ValueError(f"{path}: corrupt checkpoint (history file {name!r})")
        try:
            with open(path.parent / name, "rb") as f:
                text = f.read(size).decode("utf-8")
        except FileNotFoundError:
            raise ValueError(
                f"{path}: its history file {name} is missing (it travels with the checkpoint)"
            ) from None
        except OSError as exc:
            raise ValueError(f"{path}: cannot read its history ({exc})") from None
        lists = {k: [] for k in _LISTS}
        for line in text.splitlines():
            for k, values in json.loads(line).items():
                lists[k].extend(values)
        if len(text.encode("utf-8")) != size or any(len(lists[k]) != counts[k] for k in _LISTS):
            raise ValueError(f"{path}: its history file {name} is incomplete")
        return lists


_OPEN_LOGS: dict[
    str, _HistoryLog
] = {}  # checkpoint path -> the history log last written for it in this process


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.integer):
        return int(obj)
    return obj

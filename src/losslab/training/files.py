"""Files without pickle: arrays as ``.npz`` plus a JSON header, written atomically; training checkpoints.

Every file holds numeric arrays and one string array ``__header__`` with JSON
(format name, version, what the file is). Loading uses ``allow_pickle=False``,
so a foreign or malicious file can never run code: it is a clear ``ValueError``.
Writes go to a temporary file in the same directory and are then renamed, so an
interrupted run never leaves a half-written file. Model files (estimators/persist.py) use the same format.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .state import History

FORMAT = "losslab"
VERSION = 1


def atomic_write_bytes(path, write):
    """Call ``write(file_object)`` on a temporary file, then rename it to ``path``."""
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


def atomic_write_text(path, text):
    atomic_write_bytes(path, lambda f: f.write(text.encode("utf-8")))


def save_arrays(path, arrays, header):
    """Write ``arrays`` (name -> numeric array) and ``header`` (JSON-able dict) atomically."""
    for name, a in arrays.items():
        if np.asarray(a).dtype.kind not in "biuf":
            raise TypeError(
                f"{name}: only numeric arrays are saved, got dtype {np.asarray(a).dtype}"
            )
    meta = json.dumps({"format": FORMAT, "version": VERSION, **header})
    atomic_write_bytes(path, lambda f: np.savez(f, __header__=np.array(meta), **arrays))


def load_arrays(path, kind):
    """Read a file written by :func:`save_arrays`; ``kind`` is the expected header kind."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
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
    if header.get("format") != FORMAT:
        raise ValueError(f"{path}: not a losslab file (format {header.get('format')!r})")
    if header.get("version", 0) > VERSION:
        raise ValueError(f"{path}: written by a newer losslab (file version {header['version']})")
    if header.get("kind") != kind:
        raise ValueError(
            f"{path}: expected a losslab {kind} file, got a {header.get('kind')!r} file"
        )
    return arrays, header


# --- training checkpoints ------------------------------------------------------------------


def save_checkpoint(path, model, state, history):
    """Model parameters, optimizer state, shuffling RNG state and history, atomically."""
    arrays = {f"param/{k}": p for k, p in model.params.items()}
    scalars = {}
    for key, value in state.opt_state.items():
        if isinstance(value, dict):
            arrays.update({f"opt/{key}/{k}": a for k, a in value.items()})
        else:
            scalars[key] = value
    header = {
        "kind": "checkpoint",
        "epoch": state.epoch,
        "step": state.step,
        "optimizer": type(state.optimizer).__name__,
        "opt_scalars": scalars,
        "rng": _jsonable(state.shuffle_rng.bit_generator.state),
        "history": history.as_dict(),
    }
    save_arrays(path, arrays, header)


def load_checkpoint(path, model, state):
    """Restore ``model`` and ``state`` in place from a checkpoint; returns (state, history)."""
    arrays, header = load_arrays(path, "checkpoint")
    if header["optimizer"] != type(state.optimizer).__name__:
        raise ValueError(
            f"{path}: checkpoint was written with {header['optimizer']}, "
            f"not {type(state.optimizer).__name__}"
        )
    for k, p in model.params.items():
        saved = arrays.get(f"param/{k}")
        if saved is None or saved.shape != p.shape:
            raise ValueError(f"{path}: checkpoint does not match this model (parameter {k})")
        p[...] = saved
    for key, value in state.opt_state.items():
        if isinstance(value, dict):
            for k in value:
                value[k][...] = arrays[f"opt/{key}/{k}"]
    state.opt_state.update(header["opt_scalars"])
    state.shuffle_rng.bit_generator.state = header["rng"]
    state.epoch, state.step = header["epoch"], header["step"]
    return state, History(**header["history"])


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.integer):
        return int(obj)
    return obj

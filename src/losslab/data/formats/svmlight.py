"""svmlight / libsvm text: one sparse row per line, read as scipy.sparse CSR, whole or in chunks.

A line is ``<label> [qid:<n>] <index>:<value> <index>:<value> ... [# comment]``:

- The label is a number (int64 when every label of the file is whole, else
  float64; decided once per file, so every chunk holds labels of one kind). A
  multilabel line (``1,3``) is refused.
- ``qid:<n>`` (the query of a ranking file) is ignored, as by scikit-learn's
  ``load_svmlight_file`` without ``query_id``.
- Indices are non-negative integers, strictly increasing within a line; values
  are finite numbers. Explicit zeros are kept as stored values.
- Indices are 0- or 1-based: with ``zero_based="auto"`` (the default, as
  scikit-learn's) the file is 1-based (every index shifted down by one) unless
  some line holds the index 0. ``zero_based=True`` or ``False`` states it.
- ``n_features`` is given, or inferred as the largest index + 1 (after the
  shift); it must be known before the first chunk, so opening a file makes one
  pass over it (which also checks every line, records where each chunk starts
  so chunks can be read in any order, and decides the label kind).
- Empty and comment-only lines are skipped; errors name the line as a person
  counts them (from 1).

The features are never densified: a chunk of ``chunk_rows`` rows holds only its
stored values. References: Joachims, "Making large-scale SVM learning
practical" (SVMlight, 1999); Chang & Lin, LIBSVM (2011); scikit-learn's
``sklearn.datasets.load_svmlight_file``, which tests compare against.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from .base import Chunk, Source, StrPath, Target

SUFFIXES = (".svm", ".svmlight", ".libsvm")
PARSE_ROWS = 4096  # rows parsed at once: bounds the text's temporaries, not the chunk's size
ZeroBased = bool | Literal["auto"]


@dataclass
class _Block:
    """One chunk's rows parsed: labels, CSR structure with the file's own indices, line numbers."""

    labels: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    lines: np.ndarray  # the file line number of each row


@dataclass
class _Scan:
    """What the first pass learns: where each chunk starts, the indices' range, the labels' kind."""

    offsets: list[int] = field(default_factory=list)  # byte offset of each chunk's first line
    first_lines: list[int] = field(default_factory=list)  # the line number there
    sizes: list[int] = field(default_factory=list)  # rows per chunk
    min_index: tuple[int, int] | None = None  # (index, line) of the smallest index
    max_index: tuple[int, int] | None = None  # (index, line) of the largest
    whole_labels: bool = True


class SvmlightSource(Source):
    """An svmlight/libsvm file in chunks of ``chunk_rows`` rows, each a CSR matrix.

    Parameters
    ----------
    path : str or PathLike
        An existing file.
    target : None
        The label is each line's first field; any other value is refused.
    chunk_rows : int, default 65536
    dtype : dtype, default float32
        Of the stored values.
    n_features : int, optional
        Columns of X (default: the largest index + 1).
    zero_based : bool or "auto", default "auto"
        Whether index 0 is the first feature; "auto" decides by the file (see
        the module's rules).

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "small.svm")
    >>> with open(path, "w") as f:
    ...     _ = f.write("1 1:0.5 3:2\\n0 2:1  # a comment\\n1 qid:7 3:4\\n")
    >>> source = SvmlightSource(path, chunk_rows=2)
    >>> source.n_features, source.chunk_sizes()
    (3, [2, 1])
    >>> chunk = next(source.chunks())
    >>> chunk.X.toarray(), chunk.y
    (array([[0.5, 0. , 2. ],
           [0. , 1. , 0. ]], dtype=float32), array([1, 0]))
    >>> tmp.cleanup()

    References
    ----------
    T. Joachims, "Making large-scale SVM learning practical", in *Advances in Kernel Methods*
    (1999) (the SVMlight format); ``sklearn.datasets.load_svmlight_file``.
    """

    def __init__(
        self,
        path: StrPath,
        target: Target = None,
        chunk_rows: int = 65536,
        dtype: Any = np.float32,
        *,
        n_features: int | None = None,
        zero_based: ZeroBased = "auto",
    ) -> None:
        super().__init__(path, target, chunk_rows, dtype)
        if target is not None:
            raise ValueError(
                f"target: an svmlight file's label is the first field of each line, got {target!r}"
            )
        if zero_based not in (True, False, "auto"):
            raise ValueError(f"zero_based: expected True, False or 'auto', got {zero_based!r}")
        self._cached: _Block | None = None
        self.scan = self._scan()
        self.shift = self._shift(zero_based)
        self.n_features = self._n_features(n_features)
        self.feature_names = [f"x{j}" for j in range(self.n_features)]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (sent to a Dask worker) without a cached whole-file chunk: its scan is enough."""
        return self.__dict__ | {"_cached": None}

    def chunk_sizes(self) -> list[int]:
        """The rows of each chunk, found by the checking pass when the file was opened."""
        return list(self.scan.sizes)

    def chunks(self, order: Iterable[int] | None = None) -> Iterator[Chunk]:
        """Yield the chunks (X as CSR), in ``order`` of chunk numbers when given (any order)."""
        starts = np.concatenate([[0], np.cumsum(self.scan.sizes)])
        with open(self.path, "rb") as f:
            for k in range(len(self.scan.sizes)) if order is None else order:
                block = self._cached
                if block is None:
                    f.seek(self.scan.offsets[k])
                    block = _read_block(f, self.scan.sizes[k], self.scan.first_lines[k], self)[0]
                index_type = np.int32 if self.n_features < 2**31 else np.int64
                X = sp.csr_matrix(
                    (
                        self._values(block),
                        (block.indices - self.shift).astype(index_type),
                        block.indptr.astype(index_type),
                    ),
                    shape=(len(block.labels), self.n_features),
                )
                y = block.labels if not self.scan.whole_labels else block.labels.astype(np.int64)
                yield Chunk(X, y, np.arange(starts[k], starts[k + 1]))

    def _values(self, block: _Block) -> np.ndarray:
        """The block's values in the source's dtype; one beyond its range is an error naming the line."""
        with np.errstate(over="ignore"):
            values = block.values.astype(self.dtype)
        if not np.all(np.isfinite(values)):
            at = int(np.flatnonzero(~np.isfinite(values))[0])
            line = block.lines[np.searchsorted(block.indptr, at, side="right") - 1]
            raise ValueError(
                f"{self.path}: line {line}: the value {block.values[at]:g} is beyond {self.dtype} "
                "(streamed features are float32)"
            )
        return values

    def _scan(self) -> _Scan:
        """One pass: parse (and so check) every chunk, keep where each starts and the index range."""
        scan = _Scan()
        offset, line_no = 0, 1
        with open(self.path, "rb") as f:
            while True:
                block, n_lines, used = _read_block(f, self.chunk_rows, line_no, self)
                if not used:
                    break
                if len(block.labels):
                    scan.offsets.append(offset)
                    scan.first_lines.append(line_no)
                    scan.sizes.append(len(block.labels))
                    _update(scan, block)
                    self._cached = block
                offset += used
                line_no += n_lines
        if not scan.sizes:
            raise ValueError(f"{self.path}: no data lines (expected '<label> <index>:<value> ...')")
        if len(scan.sizes) > 1:
            self._cached = None  # several chunks: each is read again when asked for
        return scan

    def _shift(self, zero_based: ZeroBased) -> int:
        """1 for a 1-based file (its indices shifted down), 0 for a 0-based one."""
        smallest = self.scan.min_index
        if zero_based == "auto":
            return int(smallest is not None and smallest[0] > 0)
        if zero_based is False and smallest is not None and smallest[0] == 0:
            raise ValueError(
                f"{self.path}: line {smallest[1]} holds index 0, but zero_based=False "
                "(1-based indices start at 1)"
            )
        return int(zero_based is False)

    def _n_features(self, n_features: int | None) -> int:
        largest = self.scan.max_index
        needed = 0 if largest is None else largest[0] - self.shift + 1
        if n_features is None:
            return max(needed, 1)
        if int(n_features) < 1:
            raise ValueError(f"n_features: expected a positive integer, got {n_features}")
        if int(n_features) < needed:
            assert largest is not None
            raise ValueError(
                f"n_features: {n_features} given, but line {largest[1]} of {self.path} "
                f"holds feature index {largest[0]} ({needed} features)"
            )
        return int(n_features)


def _update(scan: _Scan, block: _Block) -> None:
    """Fold a parsed chunk into the scan's index range and label kind."""
    if len(block.indices):
        lo, hi = int(np.argmin(block.indices)), int(np.argmax(block.indices))
        rows = np.searchsorted(block.indptr, [lo, hi], side="right") - 1
        found = [
            (int(block.indices[p]), int(block.lines[r]))
            for p, r in zip((lo, hi), rows, strict=True)
        ]
        if scan.min_index is None or found[0][0] < scan.min_index[0]:
            scan.min_index = found[0]
        if scan.max_index is None or found[1][0] > scan.max_index[0]:
            scan.max_index = found[1]
    labels = block.labels
    scan.whole_labels &= bool(np.all(labels == np.round(labels)) and np.all(np.abs(labels) < 2**53))


def _read_rows(f, rows: int) -> tuple[list[bytes], int]:
    """Lines up to and including the ``rows``-th data line, and the bytes they take."""
    lines, used, found = [], 0, 0
    for line in f:
        lines.append(line)
        used += len(line)
        found += bool(_body(line))
        if found == rows:
            break
    return lines, used


def _read_block(f, rows: int, first_line: int, source: Source) -> tuple[_Block, int, int]:
    """The next ``rows`` data rows of ``f`` as one _Block, the lines and the bytes they took.

    Parsed ``PARSE_ROWS`` rows at a time, so the text's temporaries (the lines,
    joined, as numbers) stay a few MB whatever the chunk's size.
    """
    blocks, n_lines, used = [], 0, 0
    while rows > 0:
        lines, piece = _read_rows(f, min(rows, PARSE_ROWS))
        if not piece:
            break
        blocks.append(_parse(lines, first_line + n_lines, source))
        rows -= len(blocks[-1].labels)
        n_lines, used = n_lines + len(lines), used + piece
    if len(blocks) <= 1:
        return (blocks[0] if blocks else _parse([], first_line, source)), n_lines, used
    starts = np.cumsum([0, *(b.indptr[-1] for b in blocks[:-1])])  # values before each piece
    indptr = np.concatenate([[0], *(b.indptr[1:] + s for b, s in zip(blocks, starts, strict=True))])
    labels, indices, values, numbers = (
        np.concatenate([getattr(b, name) for b in blocks])
        for name in ("labels", "indices", "values", "lines")
    )
    return _Block(labels, indptr, indices, values, numbers), n_lines, used


def _body(line: bytes) -> bytes:
    """A line without its comment and surrounding whitespace."""
    return line.split(b"#", 1)[0].strip()


def _parse(lines: list[bytes], first_line: int, source: Source) -> _Block:
    """The data lines among ``lines`` (the first is line ``first_line`` of the file) as a _Block.

    The numbers of all lines are parsed at once by NumPy; any failure is then
    traced to its line by :func:`_fault`, which names it.
    """
    labels, rests, line_nos = [], [], []
    for k, line in enumerate(lines):
        body = _body(line)
        if not body:
            continue
        head, *rest = body.split(None, 1)
        tail = rest[0] if rest else b""
        if tail.startswith(b"qid:"):  # a ranking file's query: ignored
            tail = [*tail.split(None, 1), b""][1]
        labels.append(head)
        rests.append(tail)
        line_nos.append(first_line + k)
    counts = np.array([r.count(b":") for r in rests], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    try:
        label_values = np.array(labels, dtype=np.bytes_).astype(np.float64)
        pairs = _numbers(b" ".join(rests).replace(b":", b" "))
        tokens = np.array([len(r.split()) for r in rests], dtype=np.int64)
        if not np.array_equal(tokens, counts) or pairs.size != 2 * indptr[-1]:
            raise ValueError("not index:value pairs")
        block = _Block(label_values, indptr, _indices(pairs[0::2]), pairs[1::2], np.array(line_nos))
        _check_order(block)
    except ValueError:
        raise _fault(labels, rests, line_nos, source) from None
    return block


def _numbers(text: bytes) -> np.ndarray:
    """Every whitespace-separated number of ``text``; ValueError when one is not a number."""
    if not text.strip():
        return np.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # a partial read: the text is malformed
        try:
            return np.fromstring(text.decode("ascii"), dtype=np.float64, sep=" ")
        except (DeprecationWarning, UnicodeDecodeError) as exc:
            raise ValueError(str(exc)) from None


def _indices(raw: np.ndarray) -> np.ndarray:
    """Feature indices as int64; ValueError unless each is a whole number in [0, 2**53)."""
    if not np.all((raw >= 0) & (raw < 2**53) & (raw == np.floor(raw))):
        raise ValueError("not a non-negative whole index")
    return raw.astype(np.int64)


def _check_order(block: _Block) -> None:
    """ValueError unless the indices increase strictly within each row, and every value is finite."""
    steps = np.diff(block.indices) <= 0
    starts = np.zeros(len(block.indices), dtype=bool)
    starts[block.indptr[:-1][block.indptr[:-1] < len(starts)]] = True
    if np.any(steps & ~starts[1:]) or not np.all(np.isfinite(block.values)):
        raise ValueError("unordered indices or non-finite values")
    if not np.all(np.isfinite(block.labels)):
        raise ValueError("non-finite label")


def _fault(labels, rests, line_nos, source) -> ValueError:
    """The one-line error naming the first malformed line and what is wrong with it."""
    where = source.path
    for label, rest, line in zip(labels, rests, line_nos, strict=True):
        text = label.decode("ascii", "replace")
        if b"," in label:
            return ValueError(f"{where}: line {line}: multilabel lines ({text}) are not read")
        if not _is_finite_number(label):
            return ValueError(f"{where}: line {line}: the label {text!r} is not a finite number")
        previous = -1
        for token in rest.split():
            problem = _pair_problem(token, previous)
            if problem:
                return ValueError(f"{where}: line {line}: {problem}")
            previous = int(float(token.split(b":")[0]))
    return ValueError(f"{where}: cannot read the lines from {line_nos[0]} to {line_nos[-1]}")


def _pair_problem(token: bytes, previous: int) -> str | None:
    """What is wrong with one ``index:value`` token (None when nothing)."""
    text = token.decode("ascii", "replace")
    parts = token.split(b":")
    if len(parts) != 2:
        return f"expected index:value, got {text!r}"
    index, value = parts
    if not _is_finite_number(index) or float(index) < 0 or float(index) != int(float(index)):
        return f"the index in {text!r} is not a non-negative integer"
    if not _is_finite_number(value):
        return f"the value in {text!r} is not a finite number"
    if int(float(index)) <= previous:
        return f"indices must increase along a line; {text!r} follows index {previous}"
    return None


def _is_finite_number(cell: bytes) -> bool:
    try:
        return bool(np.isfinite(float(cell)))
    except ValueError:
        return False


def read(
    path: StrPath,
    target: Target = None,
    *,
    n_features: int | None = None,
    zero_based: ZeroBased = "auto",
) -> tuple[sp.csr_matrix, np.ndarray, list[str]]:
    """(X CSR float64, y, feature_names) of a whole svmlight/libsvm file, by the rules above.

    Parameters
    ----------
    path : str or PathLike
        The svmlight/libsvm file.
    target : None
        An svmlight file's label is each line's first field; any other value is refused.
    n_features : int, optional
        Columns of X (default: the largest index + 1).
    zero_based : bool or "auto", default "auto"
        Whether index 0 is the first feature; "auto" decides by the file.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n, D), float64
    y : ndarray of shape (n,)
        int64 when every label is whole, else float64.
    feature_names : list of str
        x0, x1, ...

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "small.svm")
    >>> with open(path, "w") as f:
    ...     _ = f.write("2 1:1.5 4:-1\\n3 2:2\\n")
    >>> X, y, _ = read(path)
    >>> X.shape, X.nnz, y.tolist()
    ((2, 4), 3, [2, 3])
    >>> tmp.cleanup()

    References
    ----------
    T. Joachims, "Making large-scale SVM learning practical", in *Advances in Kernel Methods*
    (1999) (the SVMlight format); ``sklearn.datasets.load_svmlight_file``.
    """
    source = SvmlightSource(
        path,
        target,
        chunk_rows=2**62,
        dtype=np.float64,
        n_features=n_features,
        zero_based=zero_based,
    )
    X, y = source.read()
    return sp.csr_matrix(X), y, list(source.feature_names)

"""``losslab.stream``: the documented home of streaming training (see :mod:`losslab.scale.stream`)."""

from .data.sources import (
    Chunk,
    CsvSource,
    NpySource,
    ParquetSource,
    Source,
    StreamStats,
    open_source,
    stream,
    streaming_statistics,
)
from .scale.stream import fit_stream, score_stream

__all__ = [
    "Chunk",
    "CsvSource",
    "NpySource",
    "ParquetSource",
    "Source",
    "StreamStats",
    "fit_stream",
    "open_source",
    "score_stream",
    "stream",
    "streaming_statistics",
]

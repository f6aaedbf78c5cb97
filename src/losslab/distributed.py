"""``losslab.distributed``: the documented home of training on Dask (see :mod:`losslab.scale`)."""

from .scale.dask_data import (
    Shard,
    ShardedData,
    as_dask_arrays,
    class_counts,
    connect,
    get_client,
    is_dask,
    read,
    shard,
)
from .scale.distributed import LocalSGD, fit, full_batch_objective, predict

__all__ = [
    "LocalSGD",
    "Shard",
    "ShardedData",
    "as_dask_arrays",
    "class_counts",
    "connect",
    "fit",
    "full_batch_objective",
    "get_client",
    "is_dask",
    "predict",
    "read",
    "shard",
]

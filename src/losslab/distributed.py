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
from .scale.distributed import fit, full_batch_objective, predict
from .scale.local_sgd import LocalSGD

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

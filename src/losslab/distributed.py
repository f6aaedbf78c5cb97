"""``losslab.distributed``: the documented home of training on Dask (see :mod:`losslab.scale`).

``fit(estimator, X, y, ...)`` fits a losslab estimator (it asks the estimator for
its ``training_spec()`` and hands the result back through ``set_trained``);
``train(spec, X, y, ...)`` trains a :class:`~losslab.training.spec.TrainSpec`
with no estimator involved and returns a :class:`~losslab.training.spec.TrainResult`.
"""

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
from .scale.distributed import fit, full_batch_objective, predict, train
from .scale.local_sgd import LocalSGD
from .training.spec import TrainResult, TrainSpec

__all__ = [
    "LocalSGD",
    "Shard",
    "ShardedData",
    "TrainResult",
    "TrainSpec",
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
    "train",
]

"""One labelled problem written as .npy, Parquet and CSV (with a header), for the reading tests."""

import numpy as np


def write_labelled_files(directory, n=12_000):
    """{"X", "y", "npy", "parquet", "csv"}: 6 float32 features, 4 classes, labels in the last column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    X = (3 * rng.standard_normal((n, 6)) + 1).astype(np.float32)
    y = (X @ rng.standard_normal((6, 4))).argmax(axis=1)
    arr = np.column_stack([X, y]).astype(np.float32)
    np.save(directory / "data.npy", arr)
    pq.write_table(
        pa.table({**{f"x{i}": X[:, i] for i in range(6)}, "label": y}),
        directory / "data.parquet",
        row_group_size=2000,
    )
    np.savetxt(
        directory / "data.csv",
        arr,
        delimiter=",",
        header=",".join([*(f"x{i}" for i in range(6)), "label"]),
        comments="",
    )
    return {
        "X": X,
        "y": y,
        "npy": directory / "data.npy",
        "parquet": directory / "data.parquet",
        "csv": directory / "data.csv",
    }

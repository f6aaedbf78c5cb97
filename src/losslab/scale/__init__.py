"""Training at scale: streaming from files larger than memory, and data-parallel training on Dask."""

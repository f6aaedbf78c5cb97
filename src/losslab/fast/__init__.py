"""Fused numba kernels (the ``fast`` extra): a leaf package; the NumPy code is the reference."""

"""Optimizers racing on 2-D surfaces."""

import numpy as np
import pytest

from losslab.diagnostics import surfaces


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_newton_wins_the_race_and_everyone_stays_finite(name):
    paths = surfaces.race(name, steps=100)
    assert set(paths) == set(surfaces.RACERS)
    assert all(np.all(np.isfinite(p)) for p in paths.values())
    rows = {r[0]: r for r in surfaces.summary(name, paths)}
    if name in ("rosenbrock", "beale", "saddle"):
        assert rows["Newton"][2] < 1e-6
        assert rows["GD"][2] > rows["Newton"][2]

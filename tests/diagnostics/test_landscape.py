"""Loss landscapes: slices around the trained point, directions, the projected path."""

import numpy as np
import pytest

from losslab import datasets, losses, models
from losslab.diagnostics import landscape


def test_landscape_slices_and_projects_the_path():
    ds = datasets.load("iris", random_state=0)
    main, plain, ridge = landscape.train_and_slice(ds, "softmax", epochs=5, resolution=9)
    assert main.values.shape == (9, 9) and main.line.shape == (9,)
    assert main.path.shape == (6, 2)  # start + 5 epochs
    np.testing.assert_allclose(
        main.path[-1], [0, 0], atol=1e-9
    )  # the path ends at the slice's center
    assert np.all(ridge.values > plain.values)  # the penalty only adds


def test_center_value_is_the_objective_at_the_trained_point():
    ds = datasets.load("iris", random_state=0)
    main, _, _ = landscape.train_and_slice(ds, "softmax", epochs=3, resolution=5)
    assert main.center_value == main.values[2, 2] == main.line[2]
    assert main.center_value == pytest.approx(main.path_values[-1], rel=1e-6)


def test_training_path_records_the_start_and_every_epoch():
    ds = datasets.load("iris", random_state=0)
    net = models.Linear(ds.n_features, ds.n_classes, random_state=0)
    start = net.params["W"].copy()
    path = landscape.training_path(net, losses.get("softmax"), ds.X_train, ds.y_train, epochs=4)
    assert len(path) == 5
    np.testing.assert_array_equal(path[0]["W"], start)
    np.testing.assert_array_equal(path[-1]["W"], net.params["W"])
    assert path[-1]["W"] is not net.params["W"]  # copies, not views of the trained weights


def test_filter_normalised_directions_match_each_column_norm():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((5, 4)), "b1": np.ones(4)}
    d = landscape.random_direction(params, rng)
    np.testing.assert_allclose(
        np.linalg.norm(d["W1"], axis=0), np.linalg.norm(params["W1"], axis=0)
    )
    assert not d["b1"].any()


def test_projection_recovers_known_coordinates():
    center = {"W": np.zeros((3, 2))}
    d1, d2 = {"W": np.eye(3, 2)}, {"W": np.ones((3, 2))}
    path = [{"W": 2 * d1["W"] - 0.5 * d2["W"]}]
    np.testing.assert_allclose(landscape.project(path, center, d1, d2), [[2.0, -0.5]])

"""The playground's JSON API: every endpoint, good and bad requests."""

import json

import numpy as np
import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from losslab import losses
from losslab.web import create_app, playground

client = TestClient(create_app())


def a_state(**overrides):
    points = playground.make_points("blobs", 3, 10, seed=1)
    return {**points, "loss": "softmax", "reg": 1e-3, "lr": 0.5, "optimizer": "sgd", **overrides}


def test_index_and_static_files_are_served_without_external_resources():
    page = client.get("/")
    assert page.status_code == 200 and "losslab playground" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    for name in ("app.js", "style.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and "https://" not in r.text


def test_catalogue_lists_losses_optimizers_and_datasets():
    cat = client.get("/api/catalogue").json()
    assert set(cat["losses"]) == {"svm", "crammer_singer", "squared_hinge", "softmax", "focal"}
    assert cat["losses"]["focal"] == ["gamma"] and "adam" in cat["optimizers"]


@pytest.mark.parametrize("kind", playground.DATASETS)
def test_dataset_endpoint_generates_points_in_the_box(kind):
    r = client.post(
        "/api/dataset", json={"kind": kind, "n_classes": 3, "n_per_class": 12, "seed": 2}
    ).json()
    pts = np.array(r["points"])
    assert np.abs(pts[:, :2]).max() <= playground.BOX
    assert set(pts[:, 2].astype(int)) == set(range(r["n_classes"]))


def test_evaluate_returns_what_the_library_computes():
    state = a_state(params={"W": [[1.0, -1.0, 0.5], [0.2, 0.3, -0.4]], "b": [0.1, 0.0, -0.1]})
    r = client.post("/api/evaluate", json={"state": state, "selected": 0}).json()
    X = np.array(state["points"])[:, :2]
    y = np.array(state["points"])[:, 2].astype(int)
    scores = X @ np.array(state["params"]["W"]) + np.array(state["params"]["b"])
    expected = losses.softmax_cross_entropy(scores, y).value
    assert r["data_loss"] == pytest.approx(expected, rel=1e-9)
    assert r["reg_loss"] == pytest.approx(1e-3 * np.sum(np.square(state["params"]["W"])))
    assert r["total_loss"] == pytest.approx(r["data_loss"] + r["reg_loss"])
    np.testing.assert_allclose(r["scores"], scores, atol=1e-6)
    assert len(r["grid"]["label"]) == 40 and len(r["comparison"]) == 5
    svm = client.post(
        "/api/evaluate", json={"state": {**state, "loss": "svm", "margin": 2.0}}
    ).json()
    assert svm["data_loss"] == pytest.approx(losses.multiclass_hinge(scores, y, margin=2.0).value)


@pytest.mark.parametrize("optimizer", playground.OPTIMIZERS)
def test_steps_lower_the_loss_and_return_the_optimizer_state(optimizer):
    state = a_state(
        optimizer=optimizer,
        lr=0.05 if optimizer in ("adam", "adamw", "rmsprop", "adagrad") else 0.5,
    )
    before = client.post("/api/evaluate", json={"state": state}).json()["total_loss"]
    r = client.post("/api/step", json={"state": state, "steps": 20}).json()
    assert len(r["curve"]) == 20 and r["step_count"] == 20
    state.update(params=r["params"], opt_state=r["opt_state"], step_count=r["step_count"])
    after = client.post("/api/evaluate", json={"state": state}).json()["total_loss"]
    assert after < before


def test_mini_batches_and_mlp_and_randomize():
    state = a_state(model="mlp", hidden=8, batch_size=5)
    r = client.post("/api/step", json={"state": state, "steps": 3}).json()
    assert set(r["params"]) == {"W1", "b1", "W2", "b2"}
    p = client.post("/api/randomize", json={"state": a_state()}).json()["params"]
    assert np.array(p["W"]).shape == (2, 3)


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/evaluate", b"{not json", 400, "malformed JSON"),
        ("/api/evaluate", b"[1, 2]", 400, "expected a JSON object"),
        ("/api/evaluate", json.dumps({"state": 3}).encode(), 400, "state: expected a JSON object"),
        (
            "/api/evaluate",
            json.dumps({"state": {"loss": "hnige"}}).encode(),
            400,
            "loss: expected one of",
        ),
        (
            "/api/step",
            json.dumps({"state": {"optimizer": "lion", "points": [[0, 0, 0]]}}).encode(),
            400,
            "optimizer: expected one of",
        ),
        ("/api/dataset", json.dumps({"kind": "mnist"}).encode(), 400, "dataset: expected one of"),
        (
            "/api/evaluate",
            json.dumps({"state": {"points": [[0, 0, 7]]}}).encode(),
            400,
            "labels must be integers in [0, 3)",
        ),
        (
            "/api/evaluate",
            json.dumps({"state": {"points": [[0, 0]]}}).encode(),
            400,
            "points: expected a list of [x, y, label]",
        ),
        (
            "/api/evaluate",
            json.dumps({"state": {"params": {"W": [[1.0]], "b": [0.0]}}}).encode(),
            400,
            "params: W must have shape [2, 3]",
        ),
        (
            "/api/evaluate",
            json.dumps({"state": {"points": [[0.0, 0.0, 0]] * 1001}}).encode(),
            413,
            "at most 1000 points",
        ),
        (
            "/api/step",
            json.dumps({"state": a_state(), "steps": 10_000}).encode(),
            400,
            "steps: expected an integer in [1, 500]",
        ),
        ("/api/evaluate", b"{" + b" " * 600_000 + b"}", 413, "request: at most"),
        ("/api/nothing", b"{}", 404, "no such endpoint"),
    ],
)
def test_bad_requests_get_clear_4xx_errors(path, body, status, message):
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert message in r.json()["error"]

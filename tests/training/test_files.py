"""Files without pickle: declared sizes checked before reading, checkpoints whose cost per epoch
stays constant, and what an interrupted write leaves behind."""

import json
import zipfile

import numpy as np
import pytest

from losslab import models, optim
from losslab.training import files
from losslab.training.state import History, TrainState


def lying_npz(path, shape=(10**7, 10**7), name="X"):
    """A tiny ``.npz`` whose member declares ``shape`` float64 but holds 16 bytes."""
    with zipfile.ZipFile(path, "w") as archive, archive.open(f"{name}.npy", "w") as f:
        header = {"descr": "<f8", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(f, header)
        f.write(np.zeros(2).tobytes())
    return path


def test_a_member_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    path = lying_npz(tmp_path / "lie.npz")
    assert path.stat().st_size < 1000
    with pytest.raises(ValueError, match=r"declares shape \(10000000, 10000000\)"):
        files.check_declared_sizes(path)
    with pytest.raises(ValueError, match="declares shape"):
        files.load_arrays(path, "model")


def test_honest_arrays_pass_the_size_check_compressed_or_not(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.ones((3, 4)), y=np.arange(3), s=np.array("text"))
    np.savez_compressed(tmp_path / "b.npz", X=np.ones((300, 4)), e=np.empty((0, 5)))
    files.check_declared_sizes(tmp_path / "a.npz")
    files.check_declared_sizes(tmp_path / "b.npz")


def test_a_header_that_is_not_a_json_object_is_a_clear_error(tmp_path):
    path = tmp_path / "list.npz"
    np.savez(path, __header__=np.array("[1, 2]"))
    with pytest.raises(ValueError, match="not a JSON object"):
        files.load_arrays(path, "checkpoint")


def _setup(seed=0):
    model = models.Linear(3, 2, random_state=seed)
    opt = optim.get("adam")
    return model, TrainState(opt, opt.init(model.params), np.random.default_rng(seed))


def _history(epochs, steps_per_epoch=5):
    history = History()
    _extend(history, 0, epochs, steps_per_epoch)
    return history


def _extend(history, start, stop, steps_per_epoch=5):
    for e in range(start, stop):
        history.step_loss.extend(
            1.0 / (e * steps_per_epoch + s + 1) for s in range(steps_per_epoch)
        )
        history.epoch.append(e + 1)
        history.train_loss.append(1.0 / (e + 1))
        history.train_accuracy.append(None)
        history.val_loss.append(0.1 * e)
        history.val_accuracy.append(None)
        history.lr.append(1e-2)
        history.seconds.append(0.001 * e)


def test_checkpoint_history_round_trips_exactly(tmp_path):
    path = tmp_path / "checkpoint.npz"
    model, state = _setup()
    state.epoch, state.step = 7, 35
    history = _history(7)
    history.best_epoch = 4
    files.save_checkpoint(path, model, state, history)
    restored_model, restored_state = _setup(seed=1)
    restored_state, restored = files.load_checkpoint(path, restored_model, restored_state)
    assert restored == history
    assert (restored_state.epoch, restored_state.step) == (7, 35)
    np.testing.assert_array_equal(restored_model.params["W"], model.params["W"])


def test_a_checkpoint_of_non_finite_weights_is_refused_and_the_last_one_kept(tmp_path):
    path = tmp_path / "checkpoint.npz"
    model, state = _setup()
    files.save_checkpoint(path, model, state, _history(2))
    kept = path.read_bytes()
    model.params["b"][0] = np.nan
    with pytest.raises(ValueError, match=r"^checkpoint: parameter b holds 1 non-finite values"):
        files.save_checkpoint(path, model, state, _history(3))
    assert path.read_bytes() == kept  # nothing written over the last good checkpoint


def test_checkpoint_cost_per_epoch_is_constant(tmp_path):
    """The checkpoint's size does not grow with the history; each save appends only its epoch."""
    path = tmp_path / "checkpoint.npz"
    model, state = _setup()
    history = History()
    sizes, appended = [], []
    for epoch in range(300):
        _extend(history, epoch, epoch + 1)
        log = _glob_first(tmp_path)
        before = log.stat().st_size if log else 0
        files.save_checkpoint(path, model, state, history)
        (log,) = tmp_path.glob(".checkpoint.npz.history-*.jsonl")
        sizes.append(path.stat().st_size)
        appended.append(log.stat().st_size - before)
    assert max(sizes) - min(sizes) < 256  # the digits of the counts, nothing more
    assert max(appended[1:]) < 2 * min(appended[1:])
    _, restored = files.load_checkpoint(path, *_setup())
    assert restored == history


def _glob_first(tmp_path):
    return next(tmp_path.glob(".checkpoint.npz.history-*.jsonl"), None)


def test_entries_appended_after_the_last_checkpoint_are_ignored(tmp_path):
    path = tmp_path / "checkpoint.npz"
    model, state = _setup()
    history = _history(3)
    files.save_checkpoint(path, model, state, history)
    with open(_glob_first(tmp_path), "a") as log:  # killed between the two writes
        log.write('{"epoch": [4], "step_loss": [0.5')
    _, restored = files.load_checkpoint(path, *_setup())
    assert restored == history


def test_a_new_run_in_the_same_place_starts_a_new_history_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    model, state = _setup()
    files.save_checkpoint(path, model, state, _history(3))
    other = History()
    _extend(other, 0, 1, steps_per_epoch=2)
    files.save_checkpoint(path, model, state, other)
    assert len(list(tmp_path.glob(".checkpoint.npz.history-*.jsonl"))) == 1
    _, restored = files.load_checkpoint(path, *_setup())
    assert restored == other


def test_a_version_1_checkpoint_with_the_history_in_its_header_still_loads(tmp_path):
    path = tmp_path / "old.npz"
    model, state = _setup()
    history = _history(2)
    header = {
        "kind": "checkpoint",
        "epoch": 2,
        "step": 10,
        "optimizer": "Adam",
        "opt_scalars": {k: v for k, v in state.opt_state.items() if not isinstance(v, dict)},
        "rng": files._jsonable(state.shuffle_rng.bit_generator.state),
        "history": history.as_dict(),
    }
    arrays = {f"param/{k}": p for k, p in model.params.items()}
    for key, value in state.opt_state.items():
        if isinstance(value, dict):
            arrays.update({f"opt/{key}/{k}": a for k, a in value.items()})
    files.save_arrays(path, arrays, header)
    _, restored = files.load_checkpoint(path, *_setup())
    assert restored == history


@pytest.mark.parametrize("field", ["epoch", "step", "rng", "optimizer", "opt_scalars", "history"])
def test_a_checkpoint_missing_a_header_field_is_a_clear_error_and_changes_nothing(tmp_path, field):
    path = tmp_path / "checkpoint.npz"
    model, state = _setup()
    files.save_checkpoint(path, model, state, _history(2))
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays.pop("__header__")))
    del header[field]
    np.savez(path, __header__=np.array(json.dumps(header)), **arrays)
    target_model, target_state = _setup(seed=1)
    before = target_model.params["W"].copy()
    with pytest.raises(ValueError, match=str(path)):
        files.load_checkpoint(path, target_model, target_state)
    np.testing.assert_array_equal(target_model.params["W"], before)
    assert target_state.epoch == 0


def test_stale_temporaries_of_a_killed_write_are_removed_on_resume(tmp_path):
    path = tmp_path / "checkpoint.npz"
    model, state = _setup()
    files.save_checkpoint(path, model, state, _history(1))
    stale = tmp_path / ".checkpoint.npz.k1ll3d.tmp"
    stale.write_bytes(b"half a file")
    files.load_checkpoint(path, *_setup())
    assert not stale.exists()


def test_a_checkpoint_whose_history_file_is_missing_says_so(tmp_path):
    path = tmp_path / "checkpoint.npz"
    model, state = _setup()
    files.save_checkpoint(path, model, state, _history(2))
    _glob_first(tmp_path).unlink()
    with pytest.raises(ValueError, match=r"history file .* is missing"):
        files.load_checkpoint(path, *_setup())

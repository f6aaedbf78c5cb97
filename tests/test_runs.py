"""runs.TrainConfig.validate: every out-of-range field is one ValueError naming it."""

import math

import pytest

from losslab.runs import TrainConfig


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lr", 0.0, "^lr: expected a finite number > 0, got 0.0$"),
        ("lr", -0.5, "^lr: expected a finite number > 0, got -0.5$"),
        ("lr", math.inf, "^lr: expected a finite number > 0, got inf$"),
        ("lr", math.nan, "^lr: expected a finite number > 0, got nan$"),
        ("lr", True, "^lr: expected a finite number > 0, got True$"),
        ("reg", -1.0, "^reg: expected 'auto' or a finite number >= 0, got -1.0$"),
        ("reg", math.inf, "^reg: expected 'auto' or a finite number >= 0, got inf$"),
        ("reg", "strong", "^reg: expected 'auto' or a finite number >= 0, got 'strong'$"),
        ("seed", -1, "^seed: expected a non-negative integer, got -1$"),
        ("seed", 1.5, "^seed: expected a non-negative integer, got 1.5$"),
        ("loss_options", {"zzz": 1}, "^loss_options: softmax_cross_entropy has no option 'zzz'"),
    ],
)
def test_an_out_of_range_field_is_one_error_naming_it(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value}).validate()


def test_the_defaults_and_in_range_values_validate():
    assert TrainConfig().validate().name == "softmax_cross_entropy"
    config = TrainConfig(loss="focal", loss_options={"gamma": 1.0}, lr=1e-6, reg=0, seed=0)
    assert config.validate().options == {"gamma": 1.0}

"""losslab sanity and losslab gradcheck."""

import pytest

from losslab import cli

from .helpers import assert_one_line_error, run_cli


def test_sanity_and_gradcheck_commands(capsys):
    assert cli.main(["sanity", "--data", "iris", "--loss", "svm"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 3
    assert cli.main(["gradcheck", "--loss", "focal", "--shape", "6,4", "--dtype", "float32"]) == 0
    assert "gradient check PASS" in capsys.readouterr().out
    assert cli.main(["gradcheck", "--loss", "triplet_margin"]) == 0


def test_gradcheck_checks_each_input_with_a_gradient(capsys):
    # margin ranking's ±1 labels have no gradient: the command once failed with IndexError on them
    assert cli.main(["gradcheck", "--loss", "margin_ranking"]) == 0
    out = capsys.readouterr().out
    assert "respect to the output (8, 5) float64" in out and "the input 2 (8, 5)" in out
    assert "input 3" not in out and out.count("PASS") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sanity", "--loss", "mse"], "sanity checks classification losses"),
        (["gradcheck", "--shape", "8x5"], "expected N,C"),
        (["gradcheck", "--loss", "hnige"], "loss: expected one of"),
    ],
)
def test_bad_arguments_are_one_line_errors_with_exit_code_2(args, message):
    assert_one_line_error(run_cli(*args), message)


def test_gradcheck_on_kinks_explains_them_and_passes(capsys):
    assert cli.main(["gradcheck", "--loss", "svm", "--on-kinks"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "at a kink, not counted as failures" in out
    assert "not differentiable here: one-sided slopes" in out

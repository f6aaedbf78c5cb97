"""losslab examples and losslab bench."""

from losslab import cli

from .helpers import run_cli


def test_examples_command_prints_the_seed_values():
    result = run_cli("examples")
    assert result.returncode == 0
    for value in ("2.9000", "12.9000", "5.2667", "1.5800", "1.0402", "0.4517", "1.2040"):
        assert value in result.stdout


def test_bench_quick_prints_the_ratio_tables(capsys):
    assert cli.main(["bench", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "copy floor" in out and "losslab / floor" in out and "softmax_cross_entropy" in out
    assert "one call on a (256, 10) batch" in out

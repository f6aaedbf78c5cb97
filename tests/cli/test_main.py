"""The parser itself: --version, python -m losslab, --help for every option, unknown commands."""

import argparse
import json

import pytest

import losslab
from losslab import cli
from losslab.cli.main import HelpFormatter

from .helpers import assert_one_line_error, run_cli


def test_version_prints_the_version_and_exits_0():
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"losslab {losslab.__version__}"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0


def test_python_m_losslab_runs_the_command_line():
    result = run_cli("gradcheck", "--loss", "svm", "--shape", "4,3", module="losslab")
    assert result.returncode == 0, result.stderr
    assert "gradient check PASS" in result.stdout
    assert_one_line_error(run_cli("frobnicate", module="losslab"), "invalid choice")


def _subcommands(parser):
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


def test_every_command_and_option_has_help_text():
    parser = cli.build_parser()
    commands = _subcommands(parser)
    assert set(commands) >= {
        "train",
        "fit-curve",
        "sanity",
        "gradcheck",
        "landscape",
        "plot",
        "compare",
        "optimizers",
        "search",
        "report",
        "bench",
        "serve",
        "examples",
    }
    missing = [
        f"{name} {action.option_strings or action.dest}"
        for name, command in commands.items()
        for action in command._actions
        if not action.help
    ]
    assert not missing, missing


def test_every_option_keeps_its_flag():
    """The options the command line had before it was split into modules are all still there."""
    commands = _subcommands(cli.build_parser())
    flags = {n: {f for a in c._actions for f in a.option_strings} for n, c in commands.items()}
    expected = {
        "train": "--data --target --loss --loss-option --model --hidden --optimizer --lr "
        "--schedule --batch-size --epochs --reg --penalty --class-weight --seed --out --resume "
        "--quiet --json --task --stream --mining --dim --solver --scheduler --workers --sync-every",
        "compare": "--data --losses --model --epochs --lr --batch-sizes --seed --out",
        "landscape": "--data --loss --model --hidden --reg --compare-reg --epochs --directions "
        "--resolution --span --seed --out",
        "search": "--data --loss --lr --reg --trials --grid --epochs --seed --out",
        "gradcheck": "--loss --shape --dtype --checks --seed",
        "sanity": "--data --loss --model --hidden --seed",
        "fit-curve": "--model --method --loss --f-scale --target --out",
        "optimizers": "--surface --steps --seed --out",
    }
    for name, options in expected.items():
        assert flags[name] >= set(options.split()), name


def test_an_unknown_command_is_one_line_and_exit_2():
    assert_one_line_error(run_cli("frobnicate"), "invalid choice")


def test_each_command_group_has_its_own_module():
    parser = cli.build_parser()
    modules = {n: c.get_default("func").__module__ for n, c in _subcommands(parser).items()}
    assert modules["train"] == "losslab.cli.train"
    assert modules["fit-curve"] == "losslab.cli.lsq"
    assert modules["gradcheck"] == modules["sanity"] == "losslab.cli.diagnostics"
    assert modules["compare"] == modules["landscape"] == "losslab.cli.understanding"
    assert modules["bench"] == modules["serve"] == "losslab.cli.tools"


def test_the_version_has_one_source_the_installed_metadata():
    import importlib.metadata
    import re
    from pathlib import Path

    assert losslab.__version__ == importlib.metadata.version("losslab")
    root = Path(losslab.__file__).parents[2]
    pyproject = (root / "pyproject.toml").read_text()
    assert f'version = "{losslab.__version__}"' in pyproject
    literal = re.compile(r"""["']\d+\.\d+\.\d+["']""")
    sources = Path(losslab.__file__).parent.rglob("*.py")
    assert [p.name for p in sources if literal.search(p.read_text(encoding="utf-8"))] == []


def test_python_m_losslab_help_lists_every_command():
    result = run_cli("--help", module="losslab")
    assert result.returncode == 0, result.stderr
    for name in _subcommands(cli.build_parser()):
        assert name in result.stdout


def test_every_option_with_a_default_shows_it_in_its_help():
    missing = []
    for name, command in _subcommands(cli.build_parser()).items():
        formatter = command._get_formatter()
        assert isinstance(formatter, HelpFormatter), name
        for action in command._actions:
            default = action.default
            if default is None or default is False or default is argparse.SUPPRESS:
                continue  # absent means off or unset: the help says what happens then
            if not action.option_strings and action.nargs not in ("?", "*"):
                continue
            if "default" not in formatter._get_help_string(action):
                missing.append(f"{name} {action.option_strings or action.dest}")
    assert not missing, missing


def test_an_option_whose_help_names_no_default_gets_one():
    parser = argparse.ArgumentParser(formatter_class=HelpFormatter)
    parser.add_argument("--rate", type=float, default=0.5, help="a rate")
    parser.add_argument("--steps", type=int, default=0, help="steps")
    parser.add_argument("--name", default="x", help="a name (default: x, the first)")
    parser.add_argument("--flag", action="store_true", help="a switch")
    parser.add_argument("--path", help="a file")
    text = " ".join(parser.format_help().split())
    assert "a rate (default: 0.5)" in text
    assert "steps (default: 0)" in text
    assert "a name (default: x, the first)" in text and "(default: x)" not in text
    assert "a switch --path" in text and text.endswith("a file")


# each command that prints results, with arguments that keep it to a few seconds
JSON_RUNS = {
    "fit-curve": [],
    "fit-curve --compare": ["--compare", "--budget", "300"],
    "sanity": ["--model", "linear"],
    "gradcheck": ["--loss", "svm", "--shape", "4,3"],
    "landscape": ["--epochs", "2", "--resolution", "5"],
    "plot": ["losses"],
    "compare": ["--epochs", "1", "--losses", "svm,softmax", "--batch-sizes", "64,N"],
    "optimizers": ["--steps", "20"],
    "search": ["--trials", "2", "--epochs", "1"],
    "bench": ["--quick"],
    "examples": [],
}


@pytest.mark.parametrize("run", JSON_RUNS)
def test_json_output_is_one_object_with_the_documented_keys(run, tmp_path, capsys):
    command, *mode = run.split()
    argv = [command, *JSON_RUNS[run], "--json"]
    if "--out" in " ".join(_subcommands(cli.build_parser())[command].format_help().split()):
        argv += ["--out", str(tmp_path)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    payload = json.loads(out)  # stdout holds the JSON alone: tables went to stderr
    documented = _subcommands(cli.build_parser())[command].get_default("json_keys")
    if command == "fit-curve":  # a single fit and --compare record different things
        fit, compare = set(documented) - {"p0", "methods"}, {"data", "model", "p0", "methods"}
        assert set(payload) == (compare if mode else fit)
    else:
        assert set(payload) == set(documented)
    help_text = _subcommands(cli.build_parser())[command].format_help()
    assert all(f"  {key} " in help_text for key in documented)


def test_json_of_train_in_memory_has_the_documented_keys(tmp_path, capsys):
    argv = ["train", "--data", "iris", "--epochs", "2", "--out", str(tmp_path), "--json"]
    assert cli.main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    train = _subcommands(cli.build_parser())["train"]
    assert set(payload) == set(train.get_default("json_keys"))
    assert payload == json.loads((tmp_path / "metrics.json").read_text())
    assert ", ".join(train.get_default("json_keys")[:7]) in train.format_help()


def test_json_of_train_task_embed_is_the_retrieval_table(capsys):
    argv = ["train", "--task", "embed", "--data", "iris", "--dim", "2", "--epochs", "1", "--json"]
    assert cli.main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "raw features" in payload
    assert all({"recall@1", "mAP", "MAP@R"} <= set(row) for row in payload.values())


def test_json_of_a_report_names_the_file(tmp_path, capsys):
    assert cli.main(["plot", "losses", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert cli.main(["report", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"path": str(tmp_path / "report.html")}


def test_every_command_that_prints_results_has_json():
    commands = _subcommands(cli.build_parser())
    for run in JSON_RUNS:
        assert "--json" in commands[run.split()[0]].format_help(), run
    assert "--json" in commands["report"].format_help()

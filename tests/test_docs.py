"""The documentation: every public name of DESIGN.md is in the API reference.

The reference's pages are written from the package by docs/api_reference.py (the
build runs it from docs/conf.py); this test writes them the same way and reads the
autosummary lists back. The names come from DESIGN.md itself: each backticked name
or call, looked up in the module its section or bullet is about, else in
``losslab``. ``.ci/run`` builds the site with warnings as errors.
"""

from __future__ import annotations

import doctest
import functools
import importlib
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT.parent / "shared" / "DESIGN.md"
sys.path.insert(0, str(ROOT / "docs"))

import api_reference  # noqa: E402
import plain_text  # noqa: E402

# sections that name no Python API: extras and packages, commands, the layers
SKIPPED_SECTIONS = ("Dependencies", "Command line", "Architecture")
# outside libraries the contract compares with
FOREIGN = ("torch.", "sklearn.", "scipy.", "numpy", "matplotlib", "rich", "python", "pip")
# backticked words that are parameters, attributes, methods or values, not names of losslab
NOT_NAMES = {
    *("output", "grad", "loss", "name", "reduction", "weight", "kind", "bounds", "solver"),
    *("a", "value", "class_weight", "label_smoothing", "ignore_index", "sample_weight"),
    *("optimizer", "observe", "reset", "str", "f.__name__", "report.kinks"),
    *("random_state", "allow_pickle", "f", "x", "n", "y", "_", "batch", "batchmean"),
    *("cost", "nfev", "success", "message", "max_rel_error", "ok"),  # result attributes
    *("coef_", "intercept_", "classes_", "history_", "n_iter_", "solver_"),  # fitted attributes
    *("fit", "partial_fit", "predict_proba", "transform", "_parameter_constraints"),  # methods
    *("l_i", "log_sigmoid", "ValueError", "TypeError"),  # symbols and exceptions in the prose
}
# the references' own names: what torch and scikit-learn call the losses losslab matches
REFERENCE_NAMES = {
    *("multi_margin_loss", "binary_cross_entropy_with_logits", "sigmoid_focal_loss"),
    *("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "margin_ranking_loss"),
    *("triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss"),
    *("mean_pinball_loss", "mean_tweedie_deviance"),
}
NAME_OR_CALL = re.compile(r"^([A-Za-z_][\w.]*)(\(.*\))?$")


def design_names(text: str) -> list[tuple[str, str]]:
    """[(context module, name)] for every backticked name or call in DESIGN.md's API sections."""
    found = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        heading = section.splitlines()[0]
        if heading.startswith(SKIPPED_SECTIONS):
            continue
        section_module = _module_named(heading) or "losslab"
        for bullet in re.split(r"^(?=- |\S)", section, flags=re.M):
            context = _module_named(bullet) or section_module
            for span in re.findall(r"`([^`\n]+)`", bullet):
                match = NAME_OR_CALL.match(span.strip())
                if match and not match.group(1).startswith(FOREIGN):
                    found.append((context, match.group(1)))
    return found


def _module_named(text: str) -> str | None:
    """The first backticked ``losslab.x`` (or ``losslab.x.y``) in ``text`` that is a module."""
    for name in re.findall(r"`(losslab(?:\.\w+)+)", text):
        if isinstance(_resolve("losslab", name), ModuleType):
            return name
    return None


def _resolve(context: str, name: str):
    """The object ``name`` means in module ``context`` (or in losslab); None if nothing."""
    for full in (f"{context}.{name}", f"losslab.{name}", name):
        module_name, _, attr = full.rpartition(".")
        if not full.startswith("losslab"):
            continue
        try:
            return importlib.import_module(full)
        except ImportError:
            pass
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):
            continue
    return _the_one_named(name)


@functools.cache
def _pages():
    return api_reference.reference()


def _the_one_named(name: str):
    """The object a plain name means when exactly one public module defines it; else None."""
    if "." in name:
        return None
    found = {
        id(obj): obj
        for module, groups in _pages().items()
        for names in groups.values()
        if name in names and (obj := getattr(importlib.import_module(module), name))
    }
    return next(iter(found.values())) if len(found) == 1 else None


def documented(folder: Path) -> tuple[set[int], set[str]]:
    """(ids of the objects, names of the modules) the written reference pages list."""
    api_reference.write_pages(folder)
    objects, modules = set(), set()
    for page in folder.glob("losslab*.rst"):
        text = page.read_text()
        module = re.search(r"^\.\. currentmodule:: (\S+)", text, flags=re.M).group(1)
        modules.add(module)
        for block in re.findall(r"^\.\. autosummary::\n((?:   .*\n|\n)+)", text, flags=re.M):
            for line in block.splitlines():
                entry = line.strip()
                if entry and not entry.startswith(":"):
                    objects.add(id(getattr(importlib.import_module(module), entry)))
    return objects, modules


@pytest.fixture(scope="module")
def design():
    if not DESIGN.is_file():
        pytest.skip(f"{DESIGN} is not beside this checkout")
    return design_names(DESIGN.read_text())


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return documented(tmp_path_factory.mktemp("api"))


def test_design_md_names_what_the_parser_expects(design):
    names = {name for _, name in design}
    # a few from each API section: if the parsing breaks, these go missing first
    for name in ("multiclass_hinge", "LossResult", "entropy", "elastic_net", "Adam", "newton"):
        assert name in names
    for name in ("Linear", "LinearSVM", "MetricLearner", "losslab.check_gradient"):
        assert name in names
    assert len(names) > 80


def test_every_public_name_of_design_md_is_in_the_api_reference(design, reference):
    objects, modules = reference
    absent, missing = [], []
    for context, name in design:
        obj = _resolve(context, name) or _owner_of_attribute(context, name)
        if obj is None:
            if name not in NOT_NAMES | REFERENCE_NAMES and not _registry_entry(name):
                absent.append(f"{context}: {name}")
        elif isinstance(obj, ModuleType):
            if obj.__name__ not in modules:
                missing.append(name)
        elif id(obj) not in objects:
            missing.append(f"{context}: {name}")
    assert missing == [], "in DESIGN.md and the package, but not in docs/api"
    assert absent == [], "DESIGN.md names what the package does not define"


def _owner_of_attribute(context: str, name: str):
    """The class or module of ``Owner.attribute`` (a method is documented on its class's page)."""
    owner_name, _, attr = name.rpartition(".")
    owner = _resolve(context, owner_name) if owner_name else None
    return owner if owner is not None and hasattr(owner, attr) else None


def _registry_entry(name: str) -> bool:
    """Whether ``name`` is a loss's registry name or alias (a string users pass, not an object)."""
    from losslab import losses

    try:
        losses.canonical_name(name)
    except ValueError:
        return False
    return True


def test_the_reference_lists_each_object_once(reference, tmp_path):
    api_reference.write_pages(tmp_path)
    entries = re.findall(
        r"^   (\w+)$", "".join(p.read_text() for p in tmp_path.glob("*.rst")), re.M
    )
    pages = api_reference.reference()
    listed = [n for groups in pages.values() for names in groups.values() for n in names]
    assert len(listed) == len(set(map(id, _objects(pages))))
    assert set(listed) <= set(entries)


def _objects(pages):
    for module, groups in pages.items():
        for names in groups.values():
            for name in names:
                yield getattr(importlib.import_module(module), name)


def test_plain_text_notation_is_escaped_outside_code():
    lines = [
        "Absolute value |r|, fitted coef_ and ``coef_`` and :math:`|r|`.",
        ".. math:: l = |r|",
        "Example::",
        "",
        "    kept |x| coef_",
        ">>> est.coef_",
        "'coef_'",
        "",
        "after |y|",
    ]
    assert plain_text.protect(lines) == [
        r"Absolute value \|r\|, fitted coef\_ and ``coef_`` and :math:`|r|`.",
        ".. math:: l = |r|",
        "Example::",
        "",
        "    kept |x| coef_",
        ">>> est.coef_",
        "'coef_'",
        "",
        r"after \|y\|",
    ]


@pytest.mark.parametrize(
    "page",  # docs/lecture3.md has its own test, tests/test_lecture3.py
    [
        "docs/getting_started.md",
        *sorted(f"docs/guide/{p.name}" for p in ROOT.glob("docs/guide/*.md")),
    ],
)
def test_the_pages_python_examples_run_as_written(page):
    runner = doctest.DocTestRunner(_SignedZeroChecker(), optionflags=doctest.NORMALIZE_WHITESPACE)
    test = doctest.DocTestParser().get_doctest(_python_blocks(ROOT / page), {}, page, page, 0)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


class _SignedZeroChecker(doctest.OutputChecker):
    """A printed -0.0 equals 0.0, as the numbers do (a fused kernel may write a negative zero)."""

    def check_output(self, want, got, optionflags):
        got = re.sub(r"-0\.0\b", "0.0", got)
        return super().check_output(want, got, optionflags)


def _python_blocks(path: Path) -> str:
    """The page's fenced Python blocks, one after another (the fences are not expected output)."""
    blocks = re.findall(r"^```(?:python|pycon)\n(.*?)^```", path.read_text(), re.M | re.S)
    return "\n\n".join(blocks)  # a blank line ends each block's last expected output


def test_an_indented_block_after_a_colon_reads_as_code():
    lines = ["Reads as the algorithm:", "", "    for each epoch:", "        step", "after"]
    assert plain_text.protect(lines)[0] == "Reads as the algorithm::"
    # without the blank line it stays a definition list; a doctest stays a doctest
    assert plain_text.protect(["term:", "    definition"])[0] == "term:"
    assert plain_text.protect(["Example:", "", "    >>> 1", "    1"])[0] == "Example:"

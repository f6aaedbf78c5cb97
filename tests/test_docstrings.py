"""Every public function and class has a numpydoc docstring with its parameters and a runnable example.

"Public": defined in a losslab module (not re-exported), its name without a leading
underscore, in every package but the command line, the web page and the numba
kernels (whose public faces are the losses and the training loop). The examples
themselves run under pytest's ``--doctest-modules`` (pyproject's options).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

import pytest

import losslab

# apps are documented by their --help (tests/cli); the kernels by the functions they fuse
EXCLUDED = ("losslab.cli", "losslab.web", "losslab.fast.losses", "losslab.fast.training")


def public_objects() -> Iterator[tuple[str, object]]:
    """(qualified name, object) of every public function and class of losslab.

    Those defined in a public module, and those a public module exports (its
    ``__all__``) from a private one: ``losses.available`` lives in ``losses._registry``.
    """
    seen: set[int] = set()
    for info in pkgutil.walk_packages(losslab.__path__, "losslab."):
        name = info.name
        if name.startswith(EXCLUDED) or name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(name)
        exported = set(getattr(module, "__all__", ()))
        for attr, obj in sorted(vars(module).items()):
            home = getattr(obj, "__module__", None) or ""
            private_home = home.startswith("losslab.") and "._" in home and attr in exported
            if attr.startswith("_") or not (home == name or private_home) or id(obj) in seen:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                seen.add(id(obj))
                yield f"{home}.{obj.__name__}", obj


def takes_parameters(obj: object) -> bool:
    """Whether a function (or a class's constructor) takes any argument besides self."""
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "cls") for p in signature.parameters.values())


OBJECTS = dict(public_objects())


def test_the_walk_finds_the_public_api():
    assert "losslab.losses.classification.softmax_cross_entropy" in OBJECTS
    assert "losslab.training.minibatch.fit" in OBJECTS
    assert not any(name.startswith("losslab.cli") for name in OBJECTS)


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_public_objects_have_a_docstring_with_an_example(name):
    doc = inspect.getdoc(OBJECTS[name]) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "Examples\n--------" in doc and ">>>" in doc, f"{name} has no Examples section"


@pytest.mark.parametrize("name", sorted(n for n, o in OBJECTS.items() if takes_parameters(o)))
def test_public_objects_document_their_parameters(name):
    obj = OBJECTS[name]
    doc = inspect.getdoc(obj) or ""
    # a record class (dataclass, named tuple) may document its fields as Attributes
    headings = (
        ("Parameters\n----------", "Attributes\n----------")
        if inspect.isclass(obj)
        else ("Parameters\n----------",)
    )
    assert any(h in doc for h in headings), f"{name} has no Parameters section"


def documented_names(doc: str) -> set[str]:
    """The names a numpydoc Parameters section describes (``x, y : array`` names two)."""
    section = doc.split("Parameters\n----------\n", 1)[-1]
    names: set[str] = set()
    for line in section.splitlines():
        if line and not line.startswith(" "):
            if line.endswith("---"):  # the next section's underline ends this one
                break
            names.update(n.strip().lstrip("*") for n in line.split(" : ")[0].split(","))
    return names


FUNCTIONS = sorted(n for n, o in OBJECTS.items() if inspect.isfunction(o) and takes_parameters(o))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_document_every_parameter(name):
    fn = OBJECTS[name]
    wanted = {p for p in inspect.signature(fn).parameters if p not in ("self", "cls")}  # type: ignore[arg-type]
    missing = wanted - documented_names(inspect.getdoc(fn) or "")
    assert not missing, f"{name} does not document {sorted(missing)}"

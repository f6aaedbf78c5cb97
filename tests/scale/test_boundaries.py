"""scale/ trains what it is handed: it touches no private attribute of an object it did not
create, and imports nothing from the estimators (which hand it a TrainSpec instead)."""

import ast
from pathlib import Path

SCALE = Path(__file__).resolve().parents[2] / "src" / "losslab" / "scale"
ATTRIBUTE_FUNCTIONS = ("getattr", "setattr", "hasattr", "delattr")


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_accesses(source):
    """Line numbers where the code reads or writes ``x._name`` of anything but its own ``self``.

    ``self._name`` (or ``cls._name``) inside a class of the module is the object's own
    state; everything else (an argument, a module, ``getattr(x, "_name")``) is not.
    """
    tree = ast.parse(source)
    own = {
        id(node)
        for cls in ast.walk(tree)
        if isinstance(cls, ast.ClassDef)
        for node in ast.walk(cls)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
    }
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and id(node) not in own:
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ATTRIBUTE_FUNCTIONS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def estimator_imports(source):
    """Line numbers of imports from losslab.estimators, inside functions included."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        if any("estimators" in name.split(".") for name in names):
            lines.append(node.lineno)
    return lines


def test_the_checks_catch_what_they_are_for():
    source = (
        "from ..estimators.classifiers import LinearClassifier\n"
        "def fit(estimator, spec):\n"
        "    from .. import estimators\n"
        "    estimator._state = None\n"
        "    return getattr(estimator, '_loss')(), spec.loss, type(spec).__name__\n"
        "class Runner:\n"
        "    def run(self):\n"
        "        return self._submit()\n"
    )
    assert private_accesses(source) == [4, 5]
    assert estimator_imports(source) == [1, 3]


def test_scale_reads_no_private_attribute_of_an_object_it_did_not_create():
    modules = sorted(SCALE.rglob("*.py"))
    assert any(p.name == "distributed.py" for p in modules)
    found = {p.name: private_accesses(p.read_text()) for p in modules}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_scale_imports_nothing_from_the_estimators():
    found = {p.name: estimator_imports(p.read_text()) for p in sorted(SCALE.rglob("*.py"))}
    assert {name: lines for name, lines in found.items() if lines} == {}

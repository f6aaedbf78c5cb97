"""The package's layers, as data, and a test that the imports keep to them.

Every module may import from its own layer and the layers below it, never from
a layer above; and no two modules may import each other, directly or round a
circle, counting imports inside functions. docs/ARCHITECTURE.md draws the same
table.
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# lowest first; a module belongs to the first entry whose name is it or a package above it
LAYERS = [
    ("fast", ["losslab.fast", "losslab.config"]),
    ("core", ["losslab.losses", "losslab.info", "losslab.regularizers", "losslab.models"]),
    ("optim", ["losslab.optim", "losslab.lsq"]),
    ("training", ["losslab.training"]),
    # faces, in three steps: data feeds scale, and the estimators hand scale what to train
    ("faces: data", ["losslab.data"]),
    ("faces: scale", ["losslab.scale", "losslab.stream", "losslab.distributed"]),
    ("faces: estimators", ["losslab.estimators", "losslab.metrics"]),
    (
        "tools",
        [
            "losslab.diagnostics",
            "losslab.plots",
            "losslab.report",
            "losslab.runs",
            "losslab.examples",
            "losslab.benchmarks",
        ],
    ),
    # the package's front (losslab/__init__.py re-exports from every layer) and the programs
    ("apps", ["losslab.cli", "losslab.web", "losslab.__main__", "losslab"]),
]


def modules():
    """{dotted name: path}; a package is named by its directory (its __init__.py)."""
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def layer_of(name):
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes if p != "losslab"):
            return rank
    if name == "losslab":
        return len(LAYERS) - 1
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS")


def imports(name, path, known):
    """The modules of losslab that ``name`` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(_known(a.name, known) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:  # `from pkg import module` names the module itself
                found.add(_known(f"{base}.{alias.name}", known) or _known(base, known))
    found.discard(None)
    found.discard(name)
    return found


def _known(name, known):
    while name and name not in known:  # `losslab.x.y` where y is a function of module x
        name = name.rpartition(".")[0]
    return name or None


def graph():
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_no_module_imports_from_a_higher_layer():
    upward = [
        f"{m} ({LAYERS[layer_of(m)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})"
        for m, targets in graph().items()
        for t in sorted(targets)
        if layer_of(t) > layer_of(m) and not _reexport(m, t)
    ]
    assert upward == []


def _reexport(module, target):
    # a package's __init__ gathers the names of its own modules; that is not a dependency upward
    return target.startswith(module + ".")


def test_no_import_cycles_even_inside_functions():
    edges = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph().items()}
    cycles = _cycles(edges)
    assert cycles == []


def _cycles(edges):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_rule_catches_what_it_should():
    # the checker itself: a cycle is found, and a layer's rank orders upward imports
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert layer_of("losslab.losses.binary") < layer_of("losslab.training.loop")
    assert layer_of("losslab.estimators.base") > layer_of("losslab.scale.distributed")
    assert layer_of("losslab") == layer_of("losslab.cli.main")


ROOT = SRC.parent


def _code_blocks(path, after=""):
    text = path.read_text()[path.read_text().index(after) :] if after else path.read_text()
    return "\n".join(text.split("```")[1::2])


def _tree_pictures():
    return {
        "docs/ARCHITECTURE.md": _code_blocks(ROOT / "docs" / "ARCHITECTURE.md"),
        "README.md Layout": _code_blocks(ROOT / "README.md", after="## Layout"),
    }


def test_the_layout_pictures_name_every_package_and_module():
    package = SRC / "losslab"
    top = [p.name + ("/" if p.is_dir() else "") for p in package.iterdir()]
    top = [n for n in top if n.endswith((".py", "/")) and not n.startswith("__")]
    for where, picture in _tree_pictures().items():
        missing = [n for n in top if n not in picture]
        assert missing == [], f"{where} does not show {missing}"


def test_everything_the_layout_pictures_name_exists():
    import re

    files = {p.name for p in ROOT.glob("src/losslab/**/*.py")}
    folders = {p.name + "/" for p in ROOT.glob("src/losslab/**/") if p.name != "__pycache__"}
    folders |= {"src/", "losslab/", "tests/", "bench/", "docs/"}
    for where, picture in _tree_pictures().items():
        named = set(re.findall(r"[a-z_/]+\.py|[a-z_]+/", picture))
        unknown = {n for n in named if n.rsplit("/", 1)[-1] not in files and n not in folders}
        unknown = {n for n in unknown if not (n.endswith(".py") and Path(ROOT, n).is_file())}
        assert unknown == set(), f"{where} names {sorted(unknown)}, which are not in the tree"

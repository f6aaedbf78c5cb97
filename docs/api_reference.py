"""The API reference's pages, written from the package itself at build time.

Each public module gets one page (the curated ``PAGES`` first, then every other
module of the package): its docstring, then one autosummary table per module that
defines its names (``losslab.losses``: classification, binary,
regression, ...). The names are the module's ``__all__`` (or, without one, the
functions and classes it defines), so a name added to the package is in the
reference at the next build. An object is documented once, on the first page
that lists it (``losslab.fit`` on the front page, not again under
``losslab.training``). ``conf.py`` calls :func:`write_pages`;
``tests/test_docs.py`` reads what it writes.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

# (module, title), lowest layer first after the package's front
PAGES = [
    ("losslab", "losslab: the front door"),
    ("losslab.losses", "losslab.losses: losses and their gradients"),
    ("losslab.info", "losslab.info: information measures"),
    ("losslab.regularizers", "losslab.regularizers: weight penalties"),
    ("losslab.models", "losslab.models: linear models and MLPs"),
    ("losslab.optim", "losslab.optim: optimizers and schedules"),
    ("losslab.lsq", "losslab.lsq: least squares and second-order methods"),
    ("losslab.optim.curvefit", "losslab.optim.curvefit: curve fitting"),
    ("losslab.optim.compare", "losslab.optim.compare: which method needs how many evaluations"),
    ("losslab.training", "losslab.training: the training loop"),
    ("losslab.training.loop", "losslab.training.loop: the one loop's steps and stopping rules"),
    ("losslab.data", "losslab.data: data sets and file formats"),
    ("losslab.stream", "losslab.stream: data larger than memory"),
    ("losslab.distributed", "losslab.distributed: training on Dask"),
    ("losslab.estimators", "losslab.estimators: scikit-learn estimators"),
    ("losslab.metrics", "losslab.metrics: retrieval metrics"),
    ("losslab.diagnostics", "losslab.diagnostics: understanding a loss"),
    ("losslab.diagnostics.landscape", "losslab.diagnostics.landscape: loss landscapes"),
    ("losslab.diagnostics.compare", "losslab.diagnostics.compare: losses side by side"),
    ("losslab.diagnostics.surfaces", "losslab.diagnostics.surfaces: optimizers racing"),
    ("losslab.diagnostics.search", "losslab.diagnostics.search: hyper-parameter search"),
    (
        "losslab.diagnostics.retrieval",
        "losslab.diagnostics.retrieval: the metric-learning experiment",
    ),
    ("losslab.plots", "losslab.plots: figures"),
]


def public_names(module) -> list[str]:
    """The functions and classes ``module`` offers, in its own order (``__all__`` first)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n for n, o in vars(module).items() if getattr(o, "__module__", None) == module.__name__
        ]
    return [
        n
        for n in names
        if not n.startswith("_")
        and (inspect.isfunction(getattr(module, n)) or inspect.isclass(getattr(module, n)))
    ]


# the programs, and the kernels the NumPy reference stands for, are not library API
NOT_API = ("losslab.cli", "losslab.web", "losslab.fast", "losslab.__main__")


def all_pages() -> list[tuple[str, str]]:
    """PAGES, then a page for every other public module, in name order.

    A module whose optional dependency is not installed (pyarrow, Dask) is left
    out; the documentation's build installs them.
    """
    pages, curated = list(PAGES), {name for name, _ in PAGES}
    package = importlib.import_module("losslab")
    for info in pkgutil.walk_packages(package.__path__, "losslab."):
        name = info.name
        private = any(part.startswith("_") for part in name.split("."))
        if name in curated or private or name.startswith(NOT_API):
            continue
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        summary = (inspect.getdoc(module) or "").split("\n")[0].rstrip(".")
        pages.append((name, f"{name}: {summary}" if summary else name))
    return pages


def reference(pages=None) -> dict[str, dict[str, list[str]]]:
    """{module: {defining module: [names]}}: what each page lists, each object once."""
    seen: set[int] = set()
    found: dict[str, dict[str, list[str]]] = {}
    for modname, _ in pages or all_pages():
        module = importlib.import_module(modname)
        groups: dict[str, list[str]] = {}
        for name in public_names(module):
            obj = getattr(module, name)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            groups.setdefault(obj.__module__, []).append(name)
        found[modname] = groups
    return found


def _group_title(defining: str) -> str:
    """A table's heading: the first line of the defining module's docstring."""
    doc = inspect.getdoc(importlib.import_module(defining)) or defining
    return doc.splitlines()[0].rstrip(".")


def _page(modname: str, title: str, groups: dict[str, list[str]]) -> str:
    lines = [title, "=" * len(title), "", f".. automodule:: {modname}", ""]
    lines += [f".. currentmodule:: {modname}", ""]
    for defining, names in groups.items():
        if list(groups) != [modname]:  # a heading per defining module, when there are others
            heading = _group_title(defining)
            lines += [heading, "-" * len(heading), ""]
        lines += [".. autosummary::"]
        lines += ["   :toctree: generated/", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in names] + [""]
    return "\n".join(lines)


def write_pages(folder: Path) -> list[str]:
    """Write ``index.rst`` and one page per module into ``folder``; their names."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = all_pages()
    titles = dict(pages)
    written, stubs = [], set()
    for modname, groups in reference(pages).items():
        if not groups:
            continue
        write_if_changed(folder / f"{modname}.rst", _page(modname, titles[modname], groups))
        written.append(modname)
        stubs.update(f"{modname}.{name}.rst" for names in groups.values() for name in names)
    index = ["API reference", "=============", "", "Generated from the docstrings.", ""]
    index += [".. toctree::", "   :maxdepth: 1", ""] + [f"   {m}" for m in written] + [""]
    write_if_changed(folder / "index.rst", "\n".join(index))
    for old in [*folder.glob("losslab*.rst"), *folder.glob("generated/*.rst")]:
        if old.name not in stubs and old.stem not in written:  # a name or module that is gone
            old.unlink()
    return written


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it already holds it (an incremental build then skips it)."""
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)

"""Sphinx configuration: numpydoc, autosummary, sphinx-gallery and MyST, with no network.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

import losslab

matplotlib.use("Agg")  # the build draws figures with no screen
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import api_reference  # noqa: E402  (found through the path set just above)
import cli_reference  # noqa: E402
import plain_text  # noqa: E402

project = "losslab"
author = "the losslab developers"
copyright = "the losslab developers"
version = release = losslab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**/GALLERY_HEADER.rst", "examples/*.py"]
templates_path = ["_templates"]

# the API pages are written from the package (api_reference.py); autosummary writes one page per name
API_PAGES = api_reference.write_pages(HERE / "api")
cli_reference.write_page(HERE / "cli.rst")
# the lecture walkthroughs (docs/lecture*.md): index.rst includes their table of contents
walkthroughs = [f"   {p.stem}" for p in sorted(HERE.glob("lecture*.md"))]
toctree = (
    "\n".join([".. toctree::", "   :maxdepth: 2", "", *walkthroughs, ""]) if walkthroughs else ""
)
api_reference.write_if_changed(HERE / "_walkthroughs.rst.txt", toctree)
# the pages named, not "every page found": an incremental build's list of pages can be stale
autosummary_generate = [f"api/{name}.rst" for name in API_PAGES]
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # numpydoc's Parameters section says the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# every documented object: a docstring, an Examples section, a Returns section where it
# returns, and no undocumented parameter names (with -W each is an error). Not checked:
# record classes list their fields as Attributes (tests/test_docstrings.py allows it),
# and summaries are noun phrases, not imperatives.
numpydoc_validation_checks = {"GL08", "EX01", "RT01", "PR02"}

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every plot_*.py runs at build time
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "pydata_sphinx_theme"
html_title = "losslab"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "use_edit_page_button": False,
}
html_static_path: list[str] = []
html_show_sourcelink = False
# no network at build time: no intersphinx, no remote images


def _protect_plain_text(app, what, name, obj, options, lines):
    lines[:] = plain_text.protect(lines)


def setup(app):
    # before numpydoc (priority 500) turns the sections into reST
    app.connect("autodoc-process-docstring", _protect_plain_text, priority=400)

"""The command line: ``losslab <command>``; one module per command group.

- :mod:`.train`: ``train`` (in memory, ``--stream``, ``--scheduler``, ``--task embed``)
- :mod:`.lsq`: ``fit-curve``
- :mod:`.diagnostics`: ``sanity``, ``gradcheck``
- :mod:`.understanding`: ``landscape``, ``plot``, ``compare``, ``optimizers``, ``search``, ``report``
- :mod:`.tools`: ``bench``, ``serve``, ``examples``

:mod:`.main` builds the parser and turns errors into one line and exit code 2.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]

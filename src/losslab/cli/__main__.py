"""``python -m losslab.cli`` runs the command line (as does ``python -m losslab``)."""

from .main import main

raise SystemExit(main())

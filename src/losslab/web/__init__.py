"""The browser playground: ``losslab serve`` (needs the ``web`` extra: starlette, uvicorn)."""

from .app import create_app

__all__ = ["create_app"]

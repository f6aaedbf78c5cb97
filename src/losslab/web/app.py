"""A small ASGI app: static page + JSON API over :mod:`losslab.web.playground` (which does all the work).

Endpoints (all JSON):
- ``GET /api/catalogue``: losses with their options, optimizers, datasets, limits;
- ``POST /api/dataset``: ``{kind, n_classes, n_per_class, seed}`` → points;
- ``POST /api/evaluate``: ``{state, selected?}`` → scores, losses, background grid;
- ``POST /api/step``: ``{state, steps}`` → new params, optimizer state, loss curve;
- ``POST /api/randomize``: ``{state}`` → fresh random parameters.

Bad requests get ``{"error": "..."}`` with 400 (malformed JSON or state),
404 (unknown path) or 413 (request too large).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import playground

STATIC = Path(__file__).parent / "static"
MAX_BODY = 512 * 1024  # bytes: 1000 points and an MLP's parameters fit well inside


class RequestError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


async def _json_body(request: Request):
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise RequestError(413, f"request: at most {MAX_BODY} bytes, got {declared}")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise RequestError(413, f"request: at most {MAX_BODY} bytes, got {len(body)}")
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(
            400, f"request: malformed JSON ({exc.msg if hasattr(exc, 'msg') else exc})"
        ) from None
    if not isinstance(data, dict):
        raise RequestError(400, "request: expected a JSON object")
    return data


def _endpoint(compute):
    """Wrap a function of the request's JSON into an endpoint with uniform errors."""

    async def endpoint(request: Request):
        try:
            data = await _json_body(request)
            return JSONResponse(compute(data))
        except RequestError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except playground.StateError as exc:
            status = 413 if "at most" in str(exc) else 400
            return JSONResponse({"error": str(exc)}, status_code=status)
        except (ValueError, TypeError) as exc:  # the library's own argument checks
            return JSONResponse({"error": str(exc)}, status_code=400)

    return endpoint


def _state(data):
    state = data.get("state")
    if not isinstance(state, dict):
        raise RequestError(400, "state: expected a JSON object")
    return state


async def index(request: Request):
    return FileResponse(STATIC / "index.html")


async def catalogue(request: Request):
    return JSONResponse(playground.catalogue())


async def not_found(request: Request, exc):
    return JSONResponse({"error": f"no such endpoint: {request.url.path}"}, status_code=404)


def create_app():
    routes = [
        Route("/", index),
        Route("/api/catalogue", catalogue),
        Route(
            "/api/dataset",
            _endpoint(
                lambda d: playground.make_points(
                    d.get("kind", "blobs"),
                    d.get("n_classes", 3),
                    d.get("n_per_class", 30),
                    d.get("seed", 0),
                )
            ),
            methods=["POST"],
        ),
        Route(
            "/api/evaluate",
            _endpoint(lambda d: playground.evaluate(_state(d), selected=d.get("selected"))),
            methods=["POST"],
        ),
        Route(
            "/api/step",
            _endpoint(lambda d: playground.step(_state(d), d.get("steps", 1))),
            methods=["POST"],
        ),
        Route(
            "/api/randomize",
            _endpoint(lambda d: playground.random_params(_state(d))),
            methods=["POST"],
        ),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found})


def serve(host="127.0.0.1", port=8765, log_level="warning"):
    """Run the playground until interrupted (prints nothing itself; the CLI prints the URL)."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level=log_level)

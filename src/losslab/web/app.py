"""A small ASGI app: static page + JSON API over :mod:`losslab.web.playground` (which does all the work).

Endpoints (all JSON):
- ``GET /api/catalogue``: losses with their options, optimizers, datasets, limits;
- ``POST /api/dataset``: ``{kind, n_classes, n_per_class, seed}`` → points;
- ``POST /api/evaluate``: ``{state, selected?}`` → scores, losses, background grid;
- ``POST /api/step``: ``{state, steps}`` → new params, optimizer state, loss curve;
- ``POST /api/randomize``: ``{state}`` → fresh random parameters.

Bad requests get ``{"error": "..."}`` naming the field at fault, with 400
(malformed JSON or state), 404 (unknown path), 413 (request too large, refused
as soon as the body passes the limit, chunked or not) or 503 (too many
requests at once). No request is answered with a 500 or a Python message.

The work runs off the event loop, in bounded thread pools: one for training
steps, one for the light endpoints, so a long training request never delays
a light one. A training request stops starting steps after ``time_budget``
seconds and answers with the steps it took.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import playground

STATIC = Path(__file__).parent / "static"
MAX_BODY = 512 * 1024  # bytes: 1000 points and an MLP's parameters fit well inside
MAX_DEPTH = 64  # JSON nesting the error message looks through to name the field
TIME_BUDGET = 5.0  # seconds of training one request may start steps in
MAX_PENDING = 64  # requests computing or waiting for a thread; more get a 503


class RequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read_body(request: Request):
    """The body, refused with a 413 once it passes MAX_BODY (declared or counted while read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise RequestError(413, f"request: at most {MAX_BODY} bytes, got {declared}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise RequestError(413, f"request: at most {MAX_BODY} bytes, got more")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body):
    """The request's JSON object; malformed or too deeply nested JSON is a RequestError."""
    try:
        data = json.loads(body or b"{}")
    except RecursionError:
        raise RequestError(400, f"{_deep_field(body)}: JSON nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(
            400, f"request: malformed JSON ({getattr(exc, 'msg', 'not UTF-8')})"
        ) from None
    except ValueError:  # an integer of thousands of digits
        raise RequestError(400, "request: malformed JSON (a number too long)") from None
    if not isinstance(data, dict):
        raise RequestError(400, "request: expected a JSON object")
    return data


def _deep_field(body):
    """The dotted path of object keys where ``body`` nests deeper than MAX_DEPTH."""
    text = body.decode("utf-8", "replace")
    path, stack, last_key, k = [], [], None, 0
    while k < len(text):
        c = text[k]
        if c == '"':
            end = k + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            last_key, k = text[k + 1 : end], end
        elif c in "[{":
            stack.append(c)
            path.append(last_key if len(stack) > 1 and stack[-2] == "{" else None)
            if len(stack) > MAX_DEPTH:
                break
        elif c in "]}" and stack:
            stack.pop()
            path.pop()
        k += 1
    names = [p for p in path if p is not None]
    return ".".join(names) if names else "request"


class Pending:
    """How many requests are computing or queued for a thread (all on the event loop's thread)."""

    count = 0


def _endpoint(compute, pool, pending):
    """An endpoint running ``compute(json_object)`` in ``pool``, with uniform errors."""

    def work(body):
        result = compute(_parse(body))
        try:
            return json.dumps(result, allow_nan=False).encode()
        except ValueError:  # guarded in playground; a last net under the page
            raise RequestError(400, "params: the result is not finite") from None

    async def endpoint(request: Request):
        try:
            body = await _read_body(request)
            if pending.count >= MAX_PENDING:
                raise RequestError(503, f"server: busy ({MAX_PENDING} requests); try again")
            pending.count += 1
            try:
                content = await asyncio.get_running_loop().run_in_executor(pool, work, body)
            finally:
                pending.count -= 1
            return Response(content, media_type="application/json")
        except RequestError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except playground.StateError as exc:
            status = 413 if "at most" in str(exc) else 400
            return JSONResponse({"error": str(exc)}, status_code=status)
        except (ValueError, TypeError) as exc:  # the library's own argument checks
            return JSONResponse({"error": str(exc)}, status_code=400)
        except ClientDisconnect:
            return Response(status_code=400)

    return endpoint


def _state(data):
    state = data.get("state")
    if not isinstance(state, dict):
        raise RequestError(400, "state: expected a JSON object")
    return state


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


async def catalogue(request: Request) -> Response:
    return JSONResponse(playground.catalogue())


async def not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"no such endpoint: {request.url.path}"}, status_code=404)


def create_app(*, time_budget: float = TIME_BUDGET, workers: int | None = None) -> Starlette:
    """The playground's ASGI app; ``workers`` threads for training (default: half the CPUs)."""
    cpus = os.cpu_count() or 1
    heavy = ThreadPoolExecutor(workers or max(1, cpus // 2), thread_name_prefix="losslab-step")
    light = ThreadPoolExecutor(max(2, min(8, cpus)), thread_name_prefix="losslab-web")
    pending = Pending()

    def api(compute, pool=light):
        return _endpoint(compute, pool, pending)

    routes = [
        Route("/", index),
        Route("/api/catalogue", catalogue),
        Route(
            "/api/dataset",
            api(
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
            api(lambda d: playground.evaluate(_state(d), selected=d.get("selected"))),
            methods=["POST"],
        ),
        Route(
            "/api/step",
            api(
                lambda d: playground.step(_state(d), d.get("steps", 1), time_budget=time_budget),
                heavy,
            ),
            methods=["POST"],
        ),
        Route(
            "/api/randomize", api(lambda d: playground.random_params(_state(d))), methods=["POST"]
        ),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app):
        yield
        heavy.shutdown(cancel_futures=True)
        light.shutdown(cancel_futures=True)

    return Starlette(routes=routes, exception_handlers={404: not_found}, lifespan=lifespan)


def listen(host: str = "127.0.0.1", port: int = 8765) -> socket.socket:
    """A socket listening on ``host:port``, or OSError saying in one line why not."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OSError(f"--host: cannot listen on {host!r} ({_reason(exc)})") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        field = "--port" if exc.errno in (errno.EADDRINUSE, errno.EACCES) else "--host"
        raise OSError(f"{field}: cannot listen on {host}:{port} ({_reason(exc)})") from None
    return sock


def _reason(exc):
    return getattr(exc, "strerror", None) or str(exc)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    log_level: str = "warning",
    sock: socket.socket | None = None,
) -> None:
    """Run the playground until interrupted (prints nothing itself; the CLI prints the URL)."""
    import uvicorn

    sock = sock or listen(host, port)
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level=log_level))
    server.run(sockets=[sock])

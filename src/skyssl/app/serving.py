"""Run the app on uvicorn in the foreground, on a socket bound here first.

Binding before uvicorn starts turns "address already in use" into one clear error (uvicorn would log
and exit), lets port 0 pick a free port, and gives the URL to print before serving begins.

Requests run concurrently in the server's worker threads, one query each, so the numeric libraries
are held to one OpenMP thread: a team of threads per query oversubscribes the cores, and on a busy
two-core machine a single flat search over 10⁵ vectors went from 5 ms to 36 ms with faiss' default
of two threads spinning at their barriers (BENCHMARKS.md, "Web service load").
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

import faiss
from fastapi import FastAPI

from skyssl.errors import InputError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on host:port (port 0: any free port); :class:`InputError` if impossible."""
    if not 0 <= port <= 65535:
        raise InputError(f"port must be 0 to 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets that do, and without it every
    # response split into headers and body waits out the client's delayed ACK (40 ms on Linux)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def one_thread_per_request() -> None:
    """Single-threaded Faiss (and torch, when an image encoder loaded it): parallelism comes from requests."""
    faiss.omp_set_num_threads(1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def serve_forever(app: FastAPI, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                  announce: Callable[[str], None] | None = None, log_level: str = "warning") -> None:
    """Serve `app` until interrupted; `announce` (default: print to stdout) receives the URL first."""
    import uvicorn

    one_thread_per_request()
    sock = bind_socket(host, port)
    (announce or (lambda url: print(f"skyssl serve: {url} (Ctrl-C stops)", flush=True, file=sys.stdout)))(url_of(sock))
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=5))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()

"""`create_app`: the FastAPI application — JSON API under /api, the browser UI at / and /static.

Every error a request can cause is a 4xx with `{"detail": "<one sentence>"}`: skyssl's own input errors
map by kind (unknown object 404, no checkpoint 409, oversized upload 413, anything else 400) and
FastAPI's validation errors are folded into one sentence naming the offending field. Request bodies
over the upload limit are refused from their Content-Length before they are read.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from skyssl import __version__
from skyssl.app import routes_review, routes_search
from skyssl.app.routes_search import service_of
from skyssl.app.schemas import ErrorBody, Health
from skyssl.app.service import Conflict, NotFound, Service
from skyssl.app.uploads import MAX_UPLOAD_BYTES, UploadTooLarge
from skyssl.errors import ArtefactError, SkysslError

STATIC_DIR = Path(__file__).parent / "static"
MULTIPART_OVERHEAD_BYTES = 64 * 1024
ERROR_STATUS = ((NotFound, 404), (Conflict, 409), (UploadTooLarge, 413), (ArtefactError, 500), (SkysslError, 400))
ERROR_RESPONSES = {status: {"model": ErrorBody} for status in (400, 404, 409, 413, 422)}
WORKER_THREADS = 4
"""Requests handled at once in worker threads (anyio's default is 40); the others wait in the event loop.
Search, thumbnails and labels are short and CPU-bound, so on a few cores a small pool keeps requests in
arrival order instead of letting dozens of threads convoy on the GIL, which cut the p99 latency of 32
clients on two cores from 410–660 ms to 220–390 ms (BENCHMARKS.md, "Web service load")."""


def status_of(error: SkysslError) -> int:
    return next(status for kind, status in ERROR_STATUS if isinstance(error, kind))


def validation_sentence(error: RequestValidationError) -> str:
    """FastAPI's list of validation problems as one sentence about the first (and how many more)."""
    problems = error.errors()
    if not problems:
        return "the request is malformed"
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "body", "path", "header"))
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    return f"{where or 'request'}: {first.get('msg', 'invalid value')}{more}"


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SkysslError)
    async def _skyssl_error(_request: Request, error: SkysslError) -> JSONResponse:
        return JSONResponse({"detail": str(error).splitlines()[0] if str(error) else "bad request"},
                            status_code=status_of(error))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_sentence(error)}, status_code=422)

    @app.middleware("http")
    async def _refuse_large_bodies(request: Request, call_next):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES:
            return JSONResponse({"detail": f"the request body is larger than the {MAX_UPLOAD_BYTES // 2**20} MiB "
                                           "limit"}, status_code=413)
        return await call_next(request)


def add_ui_routes(app: FastAPI) -> None:
    """The browser UI (written under skyssl/app/static), served from fixed package paths only."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")

    @app.get("/", include_in_schema=False)
    def index_page():
        page = STATIC_DIR / "index.html"
        if not page.is_file():
            return JSONResponse({"detail": "the browser UI is not installed; the API is under /api"}, status_code=404)
        return FileResponse(page, media_type="text/html")


def create_app(index: Path, labels: Path | None = None, candidates: Path | None = None,
               checkpoint: Path | None = None) -> FastAPI:
    """The app over an index folder (which knows its embeddings and store).

    `labels` defaults to INDEX/labels.sqlite; `candidates` is a ranked CSV for review mode; `checkpoint`
    (the pretraining run that made the embeddings) turns on search by uploaded image. Opening fails
    with a one-line :class:`SkysslError` when any of them is unusable.
    """
    service = Service.open(index, labels, candidates, checkpoint)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        yield
        service.close()

    app = FastAPI(title="skyssl", version=__version__, lifespan=lifespan, responses=ERROR_RESPONSES,
                  description="Similarity search, relevance feedback and grading over a skyssl index.")
    app.state.service = service
    add_error_handlers(app)

    @app.get("/api/health", response_model=Health, tags=["service"])
    def health(request: Request):
        """What this server holds: counts, survey, bands, result columns, and which features are on."""
        return service_of(request).health()

    app.include_router(routes_search.router, tags=["search"])
    app.include_router(routes_review.router, tags=["review"])
    add_ui_routes(app)
    return app

"""The web app: a FastAPI service over an index (search, feedback, thumbnails, grading) and its browser UI.

`create_app` builds the application; `serve_forever` runs it on uvicorn (what `skyssl serve` and the demo
do). Both load on first use, so that `skyssl.app.labels_db` can be imported without FastAPI and Faiss.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve_forever"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from skyssl.app.api import create_app

        return create_app
    if name == "serve_forever":
        from skyssl.app.serving import serve_forever

        return serve_forever
    raise AttributeError(f"module 'skyssl.app' has no attribute {name!r}")

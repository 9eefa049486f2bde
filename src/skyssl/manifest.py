"""Manifests: the `manifest.json` that makes a folder an artefact.

Every artefact folder is written under a temporary name and renamed at the end; a folder without a
complete manifest is not an artefact. Readers call :func:`read_manifest`, which checks the kind and
schema version and fails with a one-line reason.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from skyssl import __version__
from skyssl.errors import ArtefactError

MANIFEST_NAME = "manifest.json"


def sha256_file(path: str | Path, block_bytes: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, streamed so that multi-GB shards never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(block_bytes):
            digest.update(block)
    return digest.hexdigest()


def creator_record() -> dict[str, str]:
    """Who made an artefact: the command line and the skyssl version."""
    return {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "version": __version__}


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def write_json_atomic(path: str | Path, payload: dict[str, Any]) -> None:
    """Write JSON to `path` through a temporary file and a rename, so readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_manifest(folder: str | Path, kind: str, schema_version: int, body: dict[str, Any]) -> dict:
    """Write `folder/manifest.json` with the common header fields followed by `body`."""
    manifest = {
        "kind": kind,
        "schema_version": schema_version,
        "creator": creator_record(),
        "created": now_iso(),
        **body,
    }
    write_json_atomic(Path(folder) / MANIFEST_NAME, manifest)
    return manifest


def has_manifest(folder: str | Path) -> bool:
    return (Path(folder) / MANIFEST_NAME).is_file()


def read_manifest(folder: str | Path, kind: str, max_schema_version: int) -> dict[str, Any]:
    """Read and check a manifest; raise :class:`ArtefactError` naming the problem."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise ArtefactError(f"{folder}: no {MANIFEST_NAME}; not a complete skyssl artefact")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"{path}: manifest is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(manifest, dict):
        raise ArtefactError(f"{path}: manifest is not a JSON object")
    if manifest.get("kind") != kind:
        raise ArtefactError(f"{path}: manifest kind is {manifest.get('kind')!r}, expected {kind!r}")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version > max_schema_version:
        raise ArtefactError(
            f"{path}: schema_version {version!r} is not readable by skyssl {__version__} "
            f"(reads up to {max_schema_version})"
        )
    return manifest

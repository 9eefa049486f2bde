"""A resumable artefact folder under construction: `OUT.partial/` with a job record, published by one rename.

This is the pattern of :class:`skyssl.store.StoreWriter`, shared by every artefact that is written in
pieces (embedding shards, neighbour-table blocks, a Faiss index): pieces are written under a `.tmp`
name and renamed when complete, so a killed job leaves only whole pieces; a rerun of the *same* job
(same `job.json`) resumes, a different job is refused; the manifest is written last and the folder
renamed to `OUT`, so a folder named `OUT` is always a complete artefact.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from skyssl.errors import ArtefactError
from skyssl.manifest import has_manifest, write_json_atomic, write_manifest
from skyssl.store.writer import JOB_FILE

TMP_SUFFIX = ".tmp"


class PartialFolder:
    """`OUT.partial/`: prepared (or resumed) on construction, published by :meth:`publish`.

    `job` is a JSON-able record of what is being made; resuming is allowed only when it equals the
    record left by the interrupted run. With `resumable=False` any leftover partial output is removed.
    """

    def __init__(self, out: str | Path, job: Mapping[str, Any], overwrite: bool = False, resumable: bool = True):
        self.out = Path(out)
        self.path = self.out.with_name(self.out.name + ".partial")
        self.job = json.loads(json.dumps(dict(job)))
        _check_target(self.out, overwrite)
        if self.path.exists() and not resumable:
            shutil.rmtree(self.path)
        self._prepare()

    def _prepare(self) -> None:
        job_path = self.path / JOB_FILE
        if self.path.exists():
            try:
                previous = json.loads(job_path.read_text())
            except (OSError, json.JSONDecodeError):
                previous = None
            if previous != self.job:
                raise ArtefactError(
                    f"{self.path} holds partial output of a different job; remove it or rerun the same command"
                )
            for stale in self.path.glob("*" + TMP_SUFFIX):
                stale.unlink()
            return
        self.path.mkdir(parents=True)
        write_json_atomic(job_path, self.job)

    def piece(self, name: str) -> Path:
        """Where a finished piece named `name` lives inside the partial folder."""
        return self.path / name

    def has_piece(self, name: str) -> bool:
        return self.piece(name).is_file()

    def write_piece(self, name: str, write: Callable[[Path], None]) -> Path:
        """Call `write(tmp_path)`, fsync the file, then rename it to `name`: a piece is whole or absent."""
        final = self.piece(name)
        tmp = final.with_name(final.name + TMP_SUFFIX)
        try:
            write(tmp)
            _fsync(tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, final)
        return final

    def publish(self, kind: str, schema_version: int, body: Mapping[str, Any]) -> Path:
        """Write the manifest (last), then move the folder to `OUT` in one rename."""
        (self.path / JOB_FILE).unlink(missing_ok=True)
        write_manifest(self.path, kind, schema_version, dict(body))
        if self.out.exists():
            shutil.rmtree(self.out)
        os.replace(self.path, self.out)
        return self.out

    def abort(self) -> None:
        """Remove the partial output (for inputs found to be unusable, where a resume makes no sense)."""
        shutil.rmtree(self.path, ignore_errors=True)


def _check_target(out: Path, overwrite: bool) -> None:
    """Refuse to replace an existing artefact without `overwrite`, and anything that is not one, ever."""
    if not out.exists():
        return
    if not overwrite:
        raise ArtefactError(f"{out} already exists; choose another --out or pass --overwrite")
    if not out.is_dir() or (not has_manifest(out) and any(out.iterdir())):
        raise ArtefactError(f"{out} exists and is not a skyssl artefact; refusing to overwrite it")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

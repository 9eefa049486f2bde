"""`Service`: everything the web API serves, opened once — the index with its store and embeddings, the
labels database, the thumbnail cache, an optional candidate list and an optional image encoder.

Routes stay thin: they turn HTTP parameters into calls here and the dicts returned into JSON. All
objects here are shared by the server's worker threads; they are read-only after :meth:`Service.open`
(which also builds the positional index and reads the result columns up front, so no request pays for
that), except the labels database and the thumbnail cache, which carry their own concurrency rules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord

from skyssl.app.candidates import Candidates, read_candidates
from skyssl.app.feedback import rank_by_feedback
from skyssl.app.filters import ResultFilters, excluded_positions
from skyssl.app.labels_db import LabelsDB
from skyssl.app.thumbnails import ThumbnailCache
from skyssl.app.uploads import parse_cutout
from skyssl.errors import InputError, SkysslError
from skyssl.search.catalog import viewer_url
from skyssl.search.coords import NoObjectNear
from skyssl.search.index import DEFAULT_TOLERANCE_ARCSEC, SearchIndex

LABELS_FILE = "labels.sqlite"
RESULT_EXTRA_KEYS = ("rank", "object_id", "similarity", "viewer_url")


class NotFound(InputError):
    """A named object (or an object near a position) does not exist (HTTP 404)."""


class Conflict(SkysslError):
    """The request cannot be served in this server's configuration (HTTP 409)."""


def thumbnail_url(object_id: int) -> str:
    return f"/api/objects/{object_id}/thumbnail.png"


def json_value(value: object) -> object:
    """A numpy scalar or array as plain JSON (NaN and infinities become null)."""
    if isinstance(value, np.ndarray):
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, str):
        return value.strip()
    return value


class Service:
    """Open with :meth:`open`; :meth:`close` releases the index's files and the database connections."""

    def __init__(self, index: SearchIndex, labels: LabelsDB, candidates: Candidates | None,
                 embed_image: Callable[[np.ndarray], np.ndarray] | None):
        self.index, self.labels, self.candidates = index, labels, candidates
        self.thumbnails = ThumbnailCache(index.store)
        self._embed_image = embed_image
        self._embed_lock = threading.Lock()
        if candidates is not None:
            self.position_of_ids(candidates.object_ids, "the candidates file")
        _ = index.sky  # the KD-tree over positions, built now rather than on the first coordinate query
        self.result_columns = [key for key in index.catalog.describe(0) if key not in RESULT_EXTRA_KEYS]

    @classmethod
    def open(cls, index: str | Path, labels: str | Path | None = None, candidates: str | Path | None = None,
             checkpoint: str | Path | None = None) -> Service:
        opened = SearchIndex.open(index)
        try:
            return cls(opened, LabelsDB(labels if labels is not None else Path(index) / LABELS_FILE),
                       read_candidates(candidates) if candidates is not None else None,
                       _image_embedder(opened, Path(checkpoint)) if checkpoint is not None else None)
        except BaseException:
            opened.close()
            raise

    def close(self) -> None:
        self.labels.close()
        self.index.close()

    # --- what the server holds ---------------------------------------------------------------
    def health(self) -> dict:
        store = self.index.store
        return {"status": "ok", "n_objects": self.index.n_objects, "index_kind": self.index.kind,
                "survey": self.thumbnails.survey.name, "bands": list(store.bands or ()),
                "columns": self.result_columns, "mag_bands": list(self.index.catalog.magnitude_bands()),
                "image_search": self._embed_image is not None, "candidates": self.candidates is not None,
                "n_candidates": self.candidates.total if self.candidates is not None else 0}

    # --- naming objects ----------------------------------------------------------------------
    def position_of_ids(self, object_ids: list[int] | np.ndarray, where: str = "the request") -> np.ndarray:
        """Embedding positions of ids; :class:`NotFound` naming the first unknown one."""
        try:
            return self.index.positions(np.asarray(object_ids, dtype=np.int64))
        except InputError:
            known = np.isin(np.asarray(object_ids, dtype=np.int64), self.index.ids)
            missing = np.asarray(object_ids)[~known]
            raise NotFound(f"object {int(missing[0])} in {where} is not in this index") from None

    def object_query(self, object_id: int) -> tuple[np.ndarray, dict]:
        positions = self.position_of_ids([object_id])
        return positions, self._query_record(int(positions[0]))

    def coordinate_query(self, coord: SkyCoord, tolerance_arcsec: float = DEFAULT_TOLERANCE_ARCSEC
                         ) -> tuple[np.ndarray, dict]:
        if not (np.isfinite(coord.ra.deg) and np.isfinite(coord.dec.deg)):  # "10 nan" parses; the KD-tree would fail
            raise InputError("coordinates must be finite numbers")
        try:
            object_id, separation = self.index.resolve_coordinates(coord, tolerance_arcsec)
        except NoObjectNear as exc:
            raise NotFound(str(exc)) from None
        positions = self.position_of_ids([object_id])
        return positions, {**self._query_record(int(positions[0])), "separation_arcsec": separation}

    def random_query(self, seed: int | None = None) -> tuple[np.ndarray, dict]:
        position = int(np.random.default_rng(seed).integers(self.index.n_objects))
        return np.array([position]), self._query_record(position)

    def _query_record(self, position: int) -> dict:
        return {"object_id": int(self.index.ids[position]), "ra": float(self.index.catalog.ra_deg[position]),
                "dec": float(self.index.catalog.dec_deg[position])}

    # --- searches ----------------------------------------------------------------------------
    def search_similar(self, positions: np.ndarray, k: int, filters: ResultFilters) -> list[dict]:
        """The k objects most similar to the query objects (the mean of their unit vectors)."""
        vector = self.index.unit_vectors(positions).mean(axis=0)
        results = self.index.search_by_vector(vector, k, exclude_positions=excluded_positions(self.index, filters,
                                                                                              positions),
                                              anchor_positions=positions,
                                              min_separation_arcsec=filters.min_separation_arcsec)
        return self.decorate(results)

    def search_image(self, data: bytes, k: int, filters: ResultFilters) -> list[dict]:
        """The k objects most similar to an uploaded cutout, embedded by the run that made the index."""
        if self._embed_image is None:
            raise Conflict("image search is off: start the server with --checkpoint RUN (the run that made the "
                           "index's embeddings)")
        image = parse_cutout(data, self.index.store.image_shape)
        with self._embed_lock:
            vector = self._embed_image(image)
        results = self.index.search_by_vector(vector, k, exclude_positions=excluded_positions(
            self.index, filters, np.zeros(0, np.int64)), min_separation_arcsec=filters.min_separation_arcsec)
        return self.decorate(results)

    def search_feedback(self, positive_ids: list[int], negative_ids: list[int], k: int, filters: ResultFilters
                        ) -> tuple[list[dict], dict]:
        """The k objects a probe fitted on the marks ranks highest; `similarity` is its probability."""
        self.position_of_ids(positive_ids + negative_ids)
        ranking = rank_by_feedback(self.index, positive_ids, negative_ids, k,
                                   excluded_positions(self.index, filters, np.zeros(0, np.int64)),
                                   filters.min_separation_arcsec)
        results = [{"rank": rank, "object_id": int(self.index.ids[position]), "similarity": float(probability),
                    **self.index.catalog.describe(int(position))}
                   for rank, (position, probability) in enumerate(zip(ranking.positions, ranking.probabilities,
                                                                      strict=True), start=1)]
        query = {"object_id": None, "ra": None, "dec": None, "positive_ids": positive_ids,
                 "negative_ids": negative_ids, "n_background": ranking.n_background}
        return self.decorate(results), query

    def decorate(self, results: list[dict]) -> list[dict]:
        """Results with their thumbnail link and current grade."""
        grades = self.labels.latest_grades([r["object_id"] for r in results])
        return [{**r, "thumbnail_url": thumbnail_url(r["object_id"]), "grade": grades.get(r["object_id"])}
                for r in results]

    # --- objects and review ------------------------------------------------------------------
    def object_record(self, object_id: int) -> dict:
        """The object's whole catalogue row (per-band fields split as `{name}_{band}`), links and labels."""
        position = int(self.position_of_ids([object_id])[0])
        store, row = self.index.store, int(self.index.embeddings.rows[position])
        bands, n_channels = store.bands or (), store.image_shape[0]
        record: dict = {"object_id": int(object_id)}
        for name in store.columns:
            if name == "object_id":
                continue
            value = store.read_column(name, [row])[0]
            if np.ndim(value) == 1 and len(value) == n_channels and bands:
                record.update({f"{name}_{band}": json_value(v) for band, v in zip(bands, value, strict=True)})
            else:
                record[name] = json_value(value)
        ra, dec = float(self.index.catalog.ra_deg[position]), float(self.index.catalog.dec_deg[position])
        record.update({"ra": ra, "dec": dec, "viewer_url": viewer_url(ra, dec),
                       "thumbnail_url": thumbnail_url(object_id), "labels": self.labels.labels(object_id=object_id)})
        return record

    def thumbnail(self, object_id: int, size_px: int):
        position = int(self.position_of_ids([object_id])[0])
        return self.thumbnails.get(int(self.index.embeddings.rows[position]), size_px)

    def add_label(self, object_id: int, grade: str, reviewer: str, note: str) -> dict:
        self.position_of_ids([object_id])
        return self.labels.add(object_id, grade, reviewer, note)

    def candidates_page(self, page: int, per_page: int) -> dict:
        if self.candidates is None:
            raise NotFound("no candidate list: start the server with --candidates CSV (from `skyssl probe predict` "
                           "or `skyssl anomalies`)")
        window = self.candidates.page(page, per_page)
        ids = self.candidates.object_ids[window]
        positions = self.position_of_ids(ids) if ids.size else np.zeros(0, np.int64)
        grades = self.labels.latest_grades(ids.tolist())
        items = []
        for object_id, rank, score, position in zip(ids.tolist(), self.candidates.ranks[window].tolist(),
                                                    self.candidates.scores[window].tolist(), positions, strict=True):
            ra, dec = float(self.index.catalog.ra_deg[position]), float(self.index.catalog.dec_deg[position])
            items.append({"rank": rank, "object_id": object_id, "score": json_value(score), "ra": ra, "dec": dec,
                          "grade": grades.get(object_id), "thumbnail_url": thumbnail_url(object_id),
                          "viewer_url": viewer_url(ra, dec)})
        return {"total": self.candidates.total, "page": page, "per_page": per_page, "items": items}


def _image_embedder(index: SearchIndex, checkpoint: Path) -> Callable[[np.ndarray], np.ndarray]:
    """Embed query images with the run that made the index's vectors (refusing any other run)."""
    from skyssl.embed.model import load_run
    from skyssl.embed.query import check_same_checkpoint, image_embedder

    if not checkpoint.is_dir():
        raise InputError(f"{checkpoint}: no such run folder for --checkpoint")
    encoder = load_run(checkpoint, device="cpu")
    encoder.check_store(index.store)
    check_same_checkpoint(index.embeddings.manifest.get("checkpoint"), encoder, f"the vectors of {index.path}")
    return image_embedder(encoder, index.vector_kind, index.store.image_shape)

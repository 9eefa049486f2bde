"""`SearchIndex`: an Index artefact opened with its embeddings, store and catalogue, ready for queries.

Queries: by object id, by sky position (nearest object within a tolerance, through a KD-tree built
once per open index), by positive/negative example ids, by a raw vector, and by an image through an
`embed_image_fn` supplied by the caller (a trained encoder; the search layer has none of its own).
Filters become a Faiss id selector, so exact search stays exact under them; approximate indexes that
return too few filtered results are searched again with a wider probe. The query objects themselves
are excluded unless asked for. Scores are cosines; for ``ivfpq`` the PQ scores of the fetched
candidates are replaced by exact cosines from the embeddings and the candidates re-ranked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np
from astropy.coordinates import SkyCoord

from skyssl.embed.reader import Embeddings
from skyssl.errors import ArtefactError, InputError, SkysslError
from skyssl.manifest import read_manifest
from skyssl.search.build import IDS_FILE, INDEX_FILE, INDEX_KIND, INDEX_SCHEMA_VERSION
from skyssl.search.catalog import SearchCatalog
from skyssl.search.coords import Match, NoObjectNear, SkyLookup, parse_coordinates
from skyssl.search.faiss_index import apply_search_params, search_parameters
from skyssl.search.filters import SearchFilters, filter_mask
from skyssl.search.query import combine_examples, suppress_near_duplicates
from skyssl.search.topk import normalise_rows

EmbedImageFn = Callable[[np.ndarray], np.ndarray]
"""(C, H, W) image in nanomaggies → (D,) representation of the kind the index holds."""
DEFAULT_TOLERANCE_ARCSEC = 2.0
KNOB_LIMITS = {"ivfpq": "nprobe", "hnsw": "efSearch"}


def check_k(k: int) -> int:
    if not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k must be a positive integer, got {k}")
    return int(k)


class SearchIndex:
    """An opened index; use :meth:`open`, and :meth:`close` or a `with` block."""

    def __init__(self, path: Path, manifest: dict, embeddings: Embeddings, embed_image_fn: EmbedImageFn | None):
        self.path, self.manifest, self.embeddings = path, manifest, embeddings
        self.kind: str = manifest["index_kind"]
        self.params: dict = dict(manifest["params"])
        self.vector_kind: str = manifest["vector_kind"]
        self.embed_image_fn = embed_image_fn
        self.index = faiss.read_index(str(path / INDEX_FILE))
        apply_search_params(self.index, self.kind, self.params)
        self.ids = np.load(path / IDS_FILE)
        if self.index.ntotal != self.ids.size or self.ids.size != embeddings.n_objects:
            raise ArtefactError(f"{path}: index holds {self.index.ntotal} vectors and {self.ids.size} ids, its "
                                f"embeddings {embeddings.n_objects}")
        self.store = embeddings.open_store()
        self.catalog = SearchCatalog(self.store, embeddings.rows)

    @classmethod
    def open(cls, path: str | Path, embed_image_fn: EmbedImageFn | None = None) -> SearchIndex:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such index folder")
        manifest = read_manifest(path, INDEX_KIND, INDEX_SCHEMA_VERSION)
        embeddings = Embeddings.open(manifest["embeddings"]["path"])
        try:
            if embeddings.manifest_sha256 != manifest["embeddings"]["manifest_sha256"]:
                raise ArtefactError(f"{path}: its embeddings {embeddings.path} changed since the index was built; "
                                    "rebuild it with `skyssl index`")
            return cls(path, manifest, embeddings, embed_image_fn)
        except BaseException:
            embeddings.close()
            raise

    def close(self) -> None:
        self.store.close()
        self.embeddings.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def n_objects(self) -> int:
        return int(self.ids.size)

    @cached_property
    def sky(self) -> SkyLookup:
        """The positional index, built on first use and kept for the life of this object."""
        return SkyLookup(self.catalog.ra_deg, self.catalog.dec_deg)

    # --- resolving what the user named -------------------------------------------------------
    def positions(self, object_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.embeddings.positions_for_ids(object_ids)

    def unit_vectors(self, positions: np.ndarray) -> np.ndarray:
        return normalise_rows(self.embeddings.vectors(self.vector_kind, positions))

    def resolve_coordinates(self, where: str | SkyCoord, tolerance_arcsec: float = DEFAULT_TOLERANCE_ARCSEC
                            ) -> tuple[int, float]:
        """(object_id, separation in arcsec) of the object within the tolerance of a position."""
        coord = where if isinstance(where, SkyCoord) else parse_coordinates(where)
        try:
            match: Match = self.sky.match(coord, tolerance_arcsec)
        except NoObjectNear as exc:
            raise exc.with_object_id(int(self.ids[exc.match.position])) from None
        return int(self.ids[match.position]), match.separation_arcsec

    # --- queries -----------------------------------------------------------------------------
    def search_by_id(self, object_id: int, k: int = 10, filters: SearchFilters | None = None,
                     include_query: bool = False, min_separation_arcsec: float | None = None) -> list[dict]:
        return self.search_by_ids([object_id], (), k, filters, include_query, min_separation_arcsec)

    def search_by_coordinates(self, where: str | SkyCoord, k: int = 10, filters: SearchFilters | None = None,
                              tolerance_arcsec: float = DEFAULT_TOLERANCE_ARCSEC, include_query: bool = False,
                              min_separation_arcsec: float | None = None) -> list[dict]:
        object_id, _ = self.resolve_coordinates(where, tolerance_arcsec)
        return self.search_by_id(object_id, k, filters, include_query, min_separation_arcsec)

    def search_by_ids(self, positive_ids: Sequence[int], negative_ids: Sequence[int] = (), k: int = 10,
                      filters: SearchFilters | None = None, include_query: bool = False,
                      min_separation_arcsec: float | None = None) -> list[dict]:
        """Objects most like the positives (mean of unit vectors) and unlike the negatives (subtracted)."""
        check_k(k)
        positive = self.positions(positive_ids)
        negative = self.positions(negative_ids) if len(negative_ids) else np.zeros(0, np.int64)
        vector = combine_examples(self.unit_vectors(positive),
                                  self.unit_vectors(negative) if negative.size else None)
        filters = filters or SearchFilters()
        reference_mag = None
        if filters.mag_window is not None:
            reference_mag = float(np.nanmean(self.catalog.mag(filters.mag_band)[positive]))
        examples = np.concatenate([positive, negative])
        return self.search_by_vector(vector, k, filters, reference_mag=reference_mag,
                                     exclude_positions=() if include_query else examples,
                                     anchor_positions=positive, min_separation_arcsec=min_separation_arcsec)

    def search_by_image(self, image_nmgy: np.ndarray, k: int = 10, filters: SearchFilters | None = None,
                        reference_mag: float | None = None, min_separation_arcsec: float | None = None) -> list[dict]:
        """Search with an image, encoded by the `embed_image_fn` this index was opened with."""
        if self.embed_image_fn is None:
            raise SkysslError("image queries need a trained encoder: open the index with embed_image_fn "
                              "(the CLI supplies one from --checkpoint)")
        vector = np.asarray(self.embed_image_fn(np.asarray(image_nmgy)), np.float32).ravel()
        return self.search_by_vector(vector, k, filters, reference_mag=reference_mag,
                                     min_separation_arcsec=min_separation_arcsec)

    def search_by_vector(self, vector: np.ndarray, k: int = 10, filters: SearchFilters | None = None,
                         reference_mag: float | None = None, exclude_positions: Sequence[int] | np.ndarray = (),
                         anchor_positions: Sequence[int] | np.ndarray = (),
                         min_separation_arcsec: float | None = None) -> list[dict]:
        """The k objects most similar to `vector`, most similar first, as result dicts.

        `reference_mag` centres a magnitude window; `exclude_positions` are never returned;
        `anchor_positions` (the query objects) count as better-ranked results for duplicate suppression.
        """
        k = check_k(k)
        vector = np.asarray(vector, np.float32).ravel()
        if vector.size != self.index.d:
            raise InputError(f"query vector has {vector.size} dimensions, the index {self.index.d}")
        query = normalise_rows(vector[None, :])
        allowed = self._allowed(filters or SearchFilters(), reference_mag, exclude_positions)
        anchors = np.asarray(anchor_positions, np.int64)
        sims, labels = self._fetch(query, k, allowed, anchors, min_separation_arcsec)
        return [{"rank": rank, "object_id": int(self.ids[label]), "similarity": float(sim),
                 **self.catalog.describe(int(label))}
                for rank, (sim, label) in enumerate(zip(sims, labels, strict=True), start=1)]

    # --- internals ----------------------------------------------------------------------------
    def _allowed(self, filters: SearchFilters, reference_mag: float | None,
                 exclude_positions: Sequence[int] | np.ndarray) -> np.ndarray | None:
        excluded = np.asarray(exclude_positions, dtype=np.int64)
        if not filters.restricts_catalogue and not filters.exclude_ids and excluded.size == 0:
            return None
        mask = filter_mask(filters, self.catalog, self.ids, reference_mag)
        mask[excluded] = False
        return mask

    def _fetch(self, query: np.ndarray, k: int, allowed: np.ndarray | None, anchors: np.ndarray,
               min_separation_arcsec: float | None) -> tuple[np.ndarray, np.ndarray]:
        """Search, widening the fetch (and an approximate index's probe) until k results survive.

        Ends when k results survive duplicate suppression, when every allowed object has been
        returned, or when an approximate index cannot be probed any wider.
        """
        n_allowed = self.n_objects if allowed is None else int(allowed.sum())
        bitmap = None if allowed is None else np.packbits(allowed, bitorder="little")
        selector = None if bitmap is None else faiss.IDSelectorBitmap(allowed.size, faiss.swig_ptr(bitmap))
        params = dict(self.params)
        fetch = min(n_allowed, 2 * k if min_separation_arcsec else k)
        while True:
            sims, labels = self._search_once(query, max(fetch, 1), params, selector)
            if min_separation_arcsec:
                keep = suppress_near_duplicates(self.sky.xyz[labels], self.sky.xyz[anchors], min_separation_arcsec, k)
                sims, labels_kept = sims[keep], labels[keep]
            else:
                labels_kept = labels
            if labels_kept.size >= k or labels.size >= n_allowed:
                return sims[:k], labels_kept[:k]
            if labels.size >= fetch:
                fetch = min(n_allowed, 2 * fetch)
            elif not self._widen(params):
                return sims[:k], labels_kept[:k]

    def _search_once(self, query: np.ndarray, fetch: int, params: dict,
                     selector: faiss.IDSelector | None) -> tuple[np.ndarray, np.ndarray]:
        sims, labels = self.index.search(query, fetch, params=search_parameters(self.kind, params, selector))
        valid = labels[0] >= 0
        sims, labels = sims[0][valid], labels[0][valid].astype(np.int64)
        if self.kind == "ivfpq" and labels.size:
            return self._rescore(query[0], labels)
        return sims, labels

    def _widen(self, params: dict) -> bool:
        """Double an approximate index's probe (nprobe, efSearch); False when it cannot reach further."""
        knob = KNOB_LIMITS.get(self.kind)
        if knob is None:
            return False
        limit = int(self.params["nlist"]) if self.kind == "ivfpq" else self.n_objects
        if int(params[knob]) >= limit:
            return False
        params[knob] = min(limit, 2 * int(params[knob]))
        return True

    def _rescore(self, query: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact cosines of PQ candidates, re-ranked (ties by position, for a deterministic order)."""
        sims = self.unit_vectors(labels) @ query
        order = np.lexsort((labels, -sims))
        return sims[order].astype(np.float32), labels[order]

"""Score every embedded object with a probe and write the ranked candidate catalogue and its sheets.

The catalogue (CSV, optionally FITS) is what a person inspects and what the app's review mode reads:
one row per object, best first, with object_id, ra, dec, score (P(lens) from the probe), logit,
rank (1 = best) and a few catalogue columns that help a reviewer (type, magnitudes, photo-z) where
the store has them. Ranking uses the logit, since float32 probabilities saturate at 1 for the top
candidates; ties keep embedding order. Scoring streams the vectors batch by batch, so a store of any
size needs memory for its scores only.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from astropy.table import Table

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.mining.probe import LinearProbe
from skyssl.store import Store
from skyssl.viz import inspection_sheets, save_png, tile_labels
from skyssl.viz.png import write_bytes_atomic

KEY_COLUMNS = ("type", "mag", "z_phot_mean", "shape_r")
SCORE_BATCH = 65536


def score_embeddings(probe: LinearProbe, embeddings: Embeddings, kind: str = "backbone",
                     batch: int = SCORE_BATCH) -> np.ndarray:
    """The probe's logit for every position of `embeddings`, streamed in batches."""
    if probe.n_classes != 2:
        raise InputError(f"candidate ranking needs a binary probe, this one has {probe.n_classes} classes")
    if embeddings.dims.get(kind) != probe.n_features:
        raise InputError(f"{embeddings.path} holds {embeddings.dims.get(kind)}-d {kind} vectors; the probe expects "
                         f"{probe.n_features}")
    dtype = np.float16 if embeddings.dtype == np.float16 else np.float32
    logits = np.empty(embeddings.n_objects, dtype=np.float32)
    for positions, vectors in embeddings.iter_batches(kind, batch, dtype=dtype):
        logits[positions] = probe.decision_function(vectors)
    return logits


def ranking(logits: np.ndarray) -> np.ndarray:
    """Positions from best to worst (stable: equal logits keep their order)."""
    return np.argsort(-logits, kind="stable")


def candidate_table(embeddings: Embeddings, store: Store, logits: np.ndarray) -> Table:
    """Every embedded object, ranked: object_id, ra, dec, score, logit, rank and the key columns present."""
    order = ranking(logits)
    rows = embeddings.rows[order]
    ranked_logits = logits[order].astype(np.float64)
    table = Table()
    table["object_id"] = embeddings.object_ids[order]
    table["ra"] = store.read_column("ra")[rows]
    table["dec"] = store.read_column("dec")[rows]
    table["score"] = 1.0 / (1.0 + np.exp(-ranked_logits))
    table["logit"] = ranked_logits
    table["rank"] = np.arange(1, order.size + 1, dtype=np.int64)
    present = [name for name in KEY_COLUMNS if name in store.columns]
    if present:
        extra = store.catalog(present, rows)
        for name in extra.colnames[1:]:
            table[name] = extra[name]
    return table


def write_candidates(table: Table, csv_path: Path, fits: bool = False) -> list[Path]:
    """The catalogue as CSV (and FITS with the same stem), each written whole or not at all; returns the
    paths written."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    written = [write_bytes_atomic(_table_bytes(table, "ascii.csv"), csv_path)]
    if fits:
        written.append(write_bytes_atomic(_table_bytes(table, "fits"), csv_path.with_suffix(".fits")))
    return written


def _table_bytes(table: Table, format_name: str) -> bytes:
    buffer = io.StringIO() if format_name == "ascii.csv" else io.BytesIO()
    table.write(buffer, format=format_name)
    value = buffer.getvalue()
    return value.encode("utf-8") if isinstance(value, str) else value


def write_candidate_sheets(store: Store, table: Table, out_dir: Path, top: int, tile_px: int = 64) -> list[Path]:
    """Inspection sheets (5 × 100 tiles each, best first) of the top `top` candidates."""
    from skyssl.viz.tiles import store_tiles

    if top < 1:
        raise InputError(f"--top must be at least 1, got {top}")
    head = table[: min(top, len(table))]
    tiles = store_tiles(store, store.rows_for_ids(np.asarray(head["object_id"])))
    labels = [f"#{rank} {score:.3f}" for rank, score in zip(head["rank"], head["score"], strict=True)]
    labels = [f"{text}\n{line}" for text, line in zip(tile_labels(head["object_id"]), labels, strict=True)]
    out_dir.mkdir(parents=True, exist_ok=True)
    return [save_png(sheet, out_dir / f"candidates-{k + 1:03d}.png")
            for k, sheet in enumerate(inspection_sheets(tiles, labels=labels, tile_px=tile_px))]

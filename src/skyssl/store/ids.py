"""Stable object ids.

Row positions are not ids: the authors' DR9 `inds` shifted between releases and contain duplicates.
An `object_id` is an int64 that survives re-ordering, re-sharding and re-conversion:

- skyssl stores carry their own `object_id` column;
- DR9 Tractor sources pack (release, brickid, objid) into one integer;
- SDSS files use the photometric `ObjID`;
- files with none of these get an id derived from the rounded position (and the occurrence number
  among rows at the same position), which is deterministic but not a survey identifier — `skyssl info`
  says so.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

RELEASE_BITS, BRICKID_BITS, OBJID_BITS = 16, 24, 20
DERIVED_FLAG = np.int64(1) << np.int64(62)


def pack_tractor_id(release: np.ndarray, brickid: np.ndarray, objid: np.ndarray) -> np.ndarray:
    """Pack DR9 (release, brickid, objid) into an int64: release<<44 | brickid<<20 | objid."""
    release = np.asarray(release, dtype=np.int64)
    brickid = np.asarray(brickid, dtype=np.int64)
    objid = np.asarray(objid, dtype=np.int64)
    if (release >= 1 << RELEASE_BITS).any() or (brickid >= 1 << BRICKID_BITS).any() or (
        objid >= 1 << OBJID_BITS
    ).any() or (np.minimum(np.minimum(release, brickid), objid) < 0).any():
        raise ValueError("release/brickid/objid out of the packable range")
    return (release << (BRICKID_BITS + OBJID_BITS)) | (brickid << OBJID_BITS) | objid


def unpack_tractor_id(object_id: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    object_id = np.asarray(object_id, dtype=np.int64)
    objid = object_id & ((1 << OBJID_BITS) - 1)
    brickid = (object_id >> OBJID_BITS) & ((1 << BRICKID_BITS) - 1)
    release = object_id >> (BRICKID_BITS + OBJID_BITS)
    return release, brickid, objid


def occurrence_index(keys: np.ndarray) -> np.ndarray:
    """For each row, how many earlier rows share its key (0 for the first occurrence)."""
    keys = np.asarray(keys)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(keys.size), 0))
    occurrence = np.empty(keys.size, dtype=np.int64)
    occurrence[order] = np.arange(keys.size) - group_start
    return occurrence


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser: a fast, well-mixed, deterministic 64-bit hash (vectorised)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def derive_position_ids(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Deterministic ids from positions rounded to 1 µdeg (0.0036″), disambiguated by occurrence.

    The result has bit 62 set so it can never collide with a packed Tractor id.
    """
    ra_udeg = np.round(np.asarray(ra_deg, dtype=np.float64) * 1e6).astype(np.int64)
    dec_udeg = np.round(np.asarray(dec_deg, dtype=np.float64) * 1e6).astype(np.int64)
    position_key = ra_udeg * np.int64(200_000_001) + (dec_udeg + np.int64(100_000_000))
    occurrence = occurrence_index(position_key)
    mixed = splitmix64(position_key.astype(np.uint64) ^ splitmix64(occurrence.astype(np.uint64)))
    out = (mixed & np.uint64((1 << 62) - 1)).astype(np.int64)
    return out | DERIVED_FLAG


def disambiguate_duplicates(ids: np.ndarray, ra_deg: np.ndarray, dec_deg: np.ndarray) -> tuple[np.ndarray, int]:
    """Replace the 2nd, 3rd… copies of a repeated id by position-derived ids; return (ids, n_replaced)."""
    ids = np.asarray(ids, dtype=np.int64).copy()
    repeat = occurrence_index(ids) > 0
    n = int(repeat.sum())
    if n:
        derived = derive_position_ids(ra_deg, dec_deg)
        ids[repeat] = derived[repeat]
    return ids, n


def ids_from_columns(columns: Mapping[str, np.ndarray]) -> tuple[np.ndarray, str, int]:
    """Object ids of a catalogue held as named arrays: (ids, where they came from, n re-keyed rows).

    Follows the same order of preference as the HDF5 layouts — an explicit `object_id`, packed
    Tractor ids, the SDSS `ObjID`, else positions — so a FITS-folder catalogue gets the ids its
    objects would have had in an authors' file. An explicit `object_id` is taken as given (duplicates
    are the caller's problem to report); survey ids that repeat are re-keyed from positions.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    if "object_id" in columns:
        return np.asarray(columns["object_id"]).astype(np.int64), "object_id", 0
    ids, source = None, None
    if all(c in columns for c in ("release", "brickid", "objid")):
        try:
            ids = pack_tractor_id(columns["release"], columns["brickid"], columns["objid"])
            source = "release/brickid/objid"
        except ValueError:
            ids = None
    if ids is None and "ObjID" in columns:
        ids, source = np.asarray(columns["ObjID"]).astype(np.int64), "ObjID"
    has_positions = "ra" in columns and "dec" in columns
    if ids is None and has_positions:
        return derive_position_ids(columns["ra"], columns["dec"]), "derived from ra/dec (no survey id in file)", 0
    if ids is None:
        ids = splitmix64(np.arange(n, dtype=np.uint64)).astype(np.int64) | DERIVED_FLAG
        return ids, "derived from row (no id and no positions in file)", 0
    if has_positions:
        ids, n_replaced = disambiguate_duplicates(ids, columns["ra"], columns["dec"])
        return ids, source, n_replaced
    return ids, source, int((occurrence_index(ids) > 0).sum())

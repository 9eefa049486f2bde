"""Recognise the layout of one HDF5 file: a skyssl shard, the authors' DR9 file or the SDSS file.

All three keep `images` (N, C, H, W) plus catalogue datasets whose first axis is N; per-band fields are
(N, C) in the band order of the images. What differs is how bands and ids are known:

|layout|bands from|object_id from|
|---|---|---|
|`skyssl`|file attribute `bands`|`object_id` dataset|
|`dr9`|3 channels → g, r, z (Stein et al.)|(release, brickid, objid), else positions|
|`sdss`|5 channels → u, g, r, i, z (Hayat et al.)|`ObjID`, else positions|
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h5py
import numpy as np

from skyssl import surveys
from skyssl.errors import InputError, SkysslError
from skyssl.store import ids as idlib

SKYSSL_LAYOUT = "skyssl"
DR9_LAYOUT = "dr9"
SDSS_LAYOUT = "sdss"

REQUIRED_COLUMNS = ("ra", "dec")
RECOMMENDED_COLUMNS = {DR9_LAYOUT: ("ebv", "psfsize", "psfdepth"), SKYSSL_LAYOUT: ("ebv", "psfsize", "psfdepth"),
                       SDSS_LAYOUT: ("e_bv",)}


@dataclass
class FileLayout:
    """What one file holds, learnt from its datasets and attributes without reading pixels."""

    path: str
    layout: str
    n_rows: int
    image_shape: tuple[int, int, int]
    dtype: str
    bands: tuple[str, ...] | None
    survey_name: str | None
    columns: list[str]
    column_shapes: dict[str, tuple[int, ...]]
    id_source: str
    attrs: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def open_h5(path: str) -> h5py.File:
    """Open an HDF5 file read-only, turning h5py's errors into one-line :class:`InputError`."""
    try:
        return h5py.File(path, "r", rdcc_nbytes=64 * 1024 * 1024)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        reason = "truncated or corrupt HDF5 file" if _looks_like_hdf5(path) else "not an HDF5 file"
        raise InputError(f"{path}: {reason} ({str(exc).splitlines()[0][:80]})") from None


def _looks_like_hdf5(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False


def _decode_attr(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return [_decode_attr(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def describe_file(handle: h5py.File) -> FileLayout:
    """Inspect an open file; raise :class:`InputError` when it cannot be a cutout file at all."""
    path = handle.filename
    if "images" not in handle or not isinstance(handle["images"], h5py.Dataset):
        raise InputError(f"{path}: no 'images' dataset; not a cutout file")
    images = handle["images"]
    if images.ndim != 4:
        raise InputError(f"{path}: 'images' has shape {images.shape}; expected (N, C, H, W)")
    n_rows, n_channels, height, width = (int(v) for v in images.shape)
    attrs = {k: _decode_attr(v) for k, v in handle.attrs.items()}
    columns, shapes, problems, warnings = [], {}, [], []
    for name, item in handle.items():
        if name == "images" or not isinstance(item, h5py.Dataset):
            continue
        columns.append(name)
        shapes[name] = tuple(int(v) for v in item.shape)
        if item.ndim == 0 or item.shape[0] != n_rows:
            length = "scalar" if item.ndim == 0 else item.shape[0]
            problems.append(f"catalogue column '{name}' has length {length} but there are {n_rows} images")

    if "bands" in attrs:
        layout = SKYSSL_LAYOUT
        bands = tuple(str(b) for b in (attrs["bands"].split(",") if isinstance(attrs["bands"], str)
                                       else attrs["bands"]))
    elif n_channels == 3:
        layout, bands = DR9_LAYOUT, ("g", "r", "z")
    elif n_channels == 5:
        layout, bands = SDSS_LAYOUT, ("u", "g", "r", "i", "z")
    else:
        layout, bands = DR9_LAYOUT, None
        problems.append(f"unknown band set: {n_channels} channels and no 'bands' attribute")

    survey_name = None
    if bands is not None:
        if len(bands) != n_channels:
            problems.append(f"'bands' attribute names {len(bands)} bands but images have {n_channels} channels")
        survey_name = attrs.get("survey") if isinstance(attrs.get("survey"), str) else None
        try:
            survey = surveys.get(survey_name) if survey_name else surveys.by_bands(bands)
            survey_name = survey.name
        except SkysslError as exc:
            problems.append(str(exc))
            survey_name = None

    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(f"missing required column '{name}'")
    for name in RECOMMENDED_COLUMNS[layout]:
        if name not in columns:
            warnings.append(f"no '{name}' column: augmentations fall back to survey priors")
    for name, shape in shapes.items():
        if len(shape) == 2 and shape[0] == n_rows and shape[1] not in (n_channels, 1) and name not in (
            "e_bv",
        ) and layout != SDSS_LAYOUT:
            warnings.append(f"column '{name}' has {shape[1]} entries per row but images have {n_channels} bands")

    id_source = _id_source(layout, columns)
    return FileLayout(
        path=path, layout=layout, n_rows=n_rows, image_shape=(n_channels, height, width),
        dtype=str(images.dtype), bands=bands, survey_name=survey_name, columns=sorted(columns),
        column_shapes=shapes, id_source=id_source, attrs=attrs, problems=problems, warnings=warnings,
    )


def _id_source(layout: str, columns: list[str]) -> str:
    if "object_id" in columns:
        return "object_id"
    if layout == SDSS_LAYOUT and "ObjID" in columns:
        return "ObjID"
    if all(c in columns for c in ("release", "brickid", "objid")):
        return "release/brickid/objid"
    if all(c in columns for c in ("ra", "dec")):
        return "derived from ra/dec (no survey id in file)"
    return "derived from row (no id and no positions in file)"


def read_object_ids(handle: h5py.File, layout: FileLayout) -> np.ndarray:
    """The int64 object ids of every row of a file, following `layout.id_source`."""
    source = layout.id_source
    if source == "object_id":
        return np.asarray(handle["object_id"][:], dtype=np.int64)
    if source == "ObjID":
        return np.asarray(handle["ObjID"][:]).astype(np.int64)
    if source == "release/brickid/objid":
        try:
            return idlib.pack_tractor_id(handle["release"][:], handle["brickid"][:], handle["objid"][:])
        except ValueError:
            pass
    if "ra" in handle and "dec" in handle:
        return idlib.derive_position_ids(handle["ra"][:], handle["dec"][:])
    return idlib.splitmix64(np.arange(layout.n_rows, dtype=np.uint64)).astype(np.int64) | idlib.DERIVED_FLAG

"""Uploaded query cutouts: bytes from a request → a checked (C, H, W) float32 array in nanomaggies.

The format is told by the bytes (the `.npy` magic or a FITS primary header), never by the client's file
name, and the bytes are parsed by the same reader as `skyssl search --image` (no pickles, first image
HDU of a FITS file) from a private temporary folder — a path from a request is never opened. Uploads
larger than the limit are refused before they are parsed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from skyssl.embed.query import check_query_shape, load_cutout
from skyssl.errors import InputError

MAX_UPLOAD_BYTES = 16 * 2**20
NPY_MAGIC = b"\x93NUMPY"
FITS_MAGIC = b"SIMPLE  ="


class UploadTooLarge(InputError):
    """The upload exceeds the size limit (HTTP 413)."""


def check_upload_size(n_bytes: int, limit_bytes: int = MAX_UPLOAD_BYTES) -> None:
    if n_bytes > limit_bytes:
        raise UploadTooLarge(f"the upload is larger than the {limit_bytes // 2**20} MiB limit")


def upload_suffix(data: bytes) -> str:
    """'.npy' or '.fits' by the content's magic bytes; :class:`InputError` for anything else."""
    if data.startswith(NPY_MAGIC):
        return ".npy"
    if data.startswith(FITS_MAGIC):
        return ".fits"
    raise InputError("the upload is neither a .npy array nor a FITS file; give a (bands, height, width) cutout "
                     "in nanomaggies")


def parse_cutout(data: bytes, expected_shape: tuple[int, int, int]) -> np.ndarray:
    """The uploaded cutout as float32 (C, H, W), shaped like the store's stamps."""
    check_upload_size(len(data))
    suffix = upload_suffix(data)
    with tempfile.TemporaryDirectory(prefix="skyssl-upload-") as folder:
        path = Path(folder) / f"query{suffix}"
        path.write_bytes(data)
        try:
            image = load_cutout(path)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), "the uploaded file")) from None
    check_query_shape(image, expected_shape, "the uploaded file")
    return image

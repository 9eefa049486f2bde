"""PNG encoding and atomic writes: a reader never sees half a figure."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from skyssl.errors import SkysslError


def _as_image(array: np.ndarray) -> Image.Image:
    """uint8 (H, W), (H, W, 3) or (H, W, 4) → a PIL image; floats are taken as [0, 1] and rounded."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        if array.dtype.kind != "f":
            raise SkysslError(f"PNG needs uint8 or float [0, 1] pixels, not {array.dtype}")
        array = np.rint(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4)):
        return Image.fromarray(np.ascontiguousarray(array))
    raise SkysslError(f"PNG needs an (H, W), (H, W, 3) or (H, W, 4) array, not {array.shape}")


def encode_png(array: np.ndarray) -> bytes:
    """The PNG bytes of an image array (for inline HTML figures and HTTP responses)."""
    buffer = io.BytesIO()
    _as_image(array).save(buffer, format="PNG")
    return buffer.getvalue()


def write_bytes_atomic(data: bytes, path: str | Path) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    if not path.parent.is_dir():
        raise SkysslError(f"{path.parent}: no such folder for {path.name}")
    tmp_name = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp_name, "xb") as tmp:  # "x": never clobber; open() honours the umask, unlike mkstemp
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        tmp_name.unlink(missing_ok=True)
        raise
    return path


def save_png(array: np.ndarray, path: str | Path) -> Path:
    """Encode `array` as PNG and write it atomically to `path` (the file is whole or absent)."""
    return write_bytes_atomic(encode_png(array), path)

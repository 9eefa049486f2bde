"""The Map artefact: 2-D coordinates keyed by object_id, and the fitted model that places new objects.

Layout of `MAP/` (kind ``skyssl.umap_map``):

- `coords.npz`: `object_id` (int64), `xy` (float32 (n, 2)) and `fitted` (bool: in UMAP's fit sample),
  in embedding order — numpy-readable anywhere, no pickle (`allow_pickle=False` on read);
- `model.joblib`: the fitted :class:`~skyssl.science.umap_map.MapModel` (PCA + UMAP reducer).
  umap-learn offers no serialisation other than pickling the reducer (its nearest-neighbour search
  index is a numba structure), so joblib it is. Unpickling runs code, so the manifest records the
  file's SHA-256 and :func:`load_map_model` refuses a file that does not match it: only a model this
  artefact wrote is ever loaded. Load maps you made, not maps from strangers;
- `manifest.json`: the embeddings and vector kind it was made from, the UMAP/PCA parameters, counts,
  and the two files' checksums.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skyssl.embed.partial import PartialFolder
from skyssl.errors import ArtefactError, InputError
from skyssl.manifest import read_manifest, sha256_file
from skyssl.science.umap_map import MapCoordinates, MapModel

MAP_KIND = "skyssl.umap_map"
MAP_SCHEMA_VERSION = 1
COORDS_FILE, MODEL_FILE = "coords.npz", "model.joblib"


def write_map(out: str | Path, model: MapModel, object_ids: np.ndarray, coords: MapCoordinates,
              source: dict[str, Any], overwrite: bool = False) -> Path:
    """Write the Map artefact at `out` (built in `out.partial/`, published by one rename); returns `out`."""
    import joblib

    folder = PartialFolder(out, {"kind": MAP_KIND, **source}, overwrite=overwrite, resumable=False)
    object_ids = np.asarray(object_ids, dtype=np.int64)
    if object_ids.shape[0] != coords.xy.shape[0]:
        raise ArtefactError(f"{object_ids.shape[0]} ids for {coords.xy.shape[0]} map positions")

    def save_coords(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, object_id=object_ids, xy=coords.xy.astype(np.float32), fitted=coords.fitted)

    def save_model(tmp: Path) -> None:
        joblib.dump(model, tmp)

    coords_path = folder.write_piece(COORDS_FILE, save_coords)
    model_path = folder.write_piece(MODEL_FILE, save_model)
    body = {"n_objects": int(object_ids.size), "n_fitted": int(coords.fitted.sum()), "source": source,
            "params": model.params, "files": {COORDS_FILE: sha256_file(coords_path),
                                              MODEL_FILE: sha256_file(model_path)}}
    return folder.publish(MAP_KIND, MAP_SCHEMA_VERSION, body)


@dataclass(frozen=True)
class MapArtefact:
    """A read Map: ids, positions and fit-sample flags in embedding order, and its manifest."""

    path: Path
    manifest: dict[str, Any]
    object_ids: np.ndarray
    xy: np.ndarray
    fitted: np.ndarray

    def positions_for_ids(self, object_ids: np.ndarray) -> np.ndarray:
        """Map rows of the given ids; a one-line error naming the first id this map does not hold."""
        order = np.argsort(self.object_ids, kind="stable")
        wanted = np.asarray(object_ids, dtype=np.int64).ravel()
        pos = np.minimum(np.searchsorted(self.object_ids[order], wanted), order.size - 1)
        found = self.object_ids[order][pos] == wanted
        if not found.all():
            raise InputError(f"object_id {int(wanted[~found][0])} is not in the map {self.path}")
        return order[pos]


def open_map(path: str | Path) -> MapArtefact:
    """Read a Map artefact's coordinates (the model stays on disk until :func:`load_map_model`)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such map folder")
    manifest = read_manifest(path, MAP_KIND, MAP_SCHEMA_VERSION)
    try:
        with np.load(path / COORDS_FILE, allow_pickle=False) as data:
            ids, xy, fitted = data["object_id"], data["xy"], data["fitted"]
    except (OSError, KeyError, ValueError) as exc:
        raise ArtefactError(f"{path / COORDS_FILE}: unreadable map coordinates ({exc.__class__.__name__})") from None
    if not ids.shape[0] == xy.shape[0] == fitted.shape[0] == int(manifest["n_objects"]):
        raise ArtefactError(f"{path}: coordinates hold {xy.shape[0]} rows, manifest says {manifest['n_objects']}")
    return MapArtefact(path, manifest, ids, xy, fitted)


def load_map_model(path: str | Path) -> MapModel:
    """The fitted model of a Map artefact, unpickled only when its checksum is the one the artefact wrote."""
    import joblib

    path = Path(path)
    manifest = read_manifest(path, MAP_KIND, MAP_SCHEMA_VERSION)
    model_path = path / MODEL_FILE
    if not model_path.is_file():
        raise ArtefactError(f"{path}: no {MODEL_FILE}; the map cannot place new objects")
    if sha256_file(model_path) != manifest["files"][MODEL_FILE]:
        raise ArtefactError(f"{model_path} does not match the checksum in its manifest; refusing to unpickle it")
    model = joblib.load(model_path)
    if not isinstance(model, MapModel):
        raise ArtefactError(f"{model_path} does not hold a skyssl map model")
    return model

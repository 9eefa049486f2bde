"""Shared fixtures: small files in the original authors' DR9 and SDSS HDF5 layouts, and malformed ones.

The builders follow the documented schemas (docs: formats-and-augmentations §1–2): DR9 `images`
(N, 3, 152, 152) float32 in g, r, z with per-band (N, 3) catalogue fields and Tractor ids; SDSS
`images` (N, 5, 107, 107) with `ObjID` and the 5-band `e_bv` extinction vector. Pixel values are a
Gaussian galaxy on noise, in nanomaggies, so every image is finite and non-zero unless a test breaks it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

DR9_R = np.array([3.214, 2.165, 1.211])
SDSS_DR12_R = np.array([5.155, 3.793, 2.751, 2.086, 1.479])
SOURCE_TYPES = np.array([b"DEV", b"EXP", b"REX", b"SER", b"PSF"])


def galaxy_images(rng: np.random.Generator, n: int, n_bands: int, size_px: int) -> np.ndarray:
    """(n, C, H, W) float32 nanomaggies: a round Gaussian galaxy plus pixel noise."""
    yy, xx = np.mgrid[:size_px, :size_px] - (size_px - 1) / 2
    sigma_px = rng.uniform(2.0, 6.0, size=(n, 1, 1, 1))
    amplitude = rng.uniform(0.05, 1.0, size=(n, n_bands, 1, 1))
    profile = np.exp(-(xx**2 + yy**2) / (2 * sigma_px**2))
    noise = rng.normal(0.0, 0.005, size=(n, n_bands, size_px, size_px))
    return (amplitude * profile + noise).astype(np.float32)


def dr9_columns(rng: np.random.Generator, n: int, first_ind: int = 0) -> dict[str, np.ndarray]:
    """Catalogue datasets of an authors' DR9 file (Tractor conventions, per-band fields (N, 3))."""
    ebv = rng.uniform(0.01, 0.1, n).astype(np.float32)
    z_mean = rng.uniform(0.05, 0.8, n).astype(np.float32)
    return {
        "ra": rng.uniform(150.0, 151.0, n),
        "dec": rng.uniform(1.0, 2.0, n),
        "ebv": ebv,
        "flux": rng.uniform(1.0, 100.0, (n, 3)).astype(np.float32),
        "fiberflux": rng.uniform(0.5, 20.0, (n, 3)).astype(np.float32),
        "fracin": rng.uniform(0.5, 1.0, (n, 3)).astype(np.float32),
        "psfsize": rng.uniform(0.9, 1.8, (n, 3)).astype(np.float32),
        "psfdepth": rng.uniform(100.0, 3000.0, (n, 3)).astype(np.float32),
        "nobs": rng.integers(1, 9, (n, 3)).astype(np.int16),
        "transmission": (10 ** (-0.4 * DR9_R * ebv[:, None])).astype(np.float32),
        "maskbits": rng.integers(0, 4, n).astype(np.int32),
        "inds": np.arange(first_ind, first_ind + n, dtype=np.int64),
        "release": np.full(n, 9010, dtype=np.int16),
        "brickid": rng.integers(300_000, 300_010, n).astype(np.int32),
        "objid": np.arange(first_ind, first_ind + n, dtype=np.int32),
        "source_type": SOURCE_TYPES[rng.integers(0, 5, n)],
        "z_phot_mean": z_mean,
        "z_phot_median": z_mean,
        "z_phot_std": np.full(n, 0.05, np.float32),
        "z_phot_l68": z_mean - 0.05,
        "z_phot_u68": z_mean + 0.05,
        "z_phot_l95": z_mean - 0.1,
        "z_phot_u95": z_mean + 0.1,
        "z_spec": np.full(n, -99.0, np.float32),
        "z_training": np.full(n, -99.0, np.float32),
    }


def sdss_columns(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Catalogue datasets of the authors' SDSS file; `e_bv` is A_ugriz = R_DR12 · E(B−V)."""
    ebv = rng.uniform(0.01, 0.1, n)
    return {
        "ra": rng.uniform(180.0, 181.0, n),
        "dec": rng.uniform(10.0, 11.0, n),
        "e_bv": (SDSS_DR12_R * ebv[:, None]).astype(np.float32),
        "ObjID": 1237648720693755918 + np.arange(n, dtype=np.int64),
        "specObjID": 299489677444933632 + np.arange(n, dtype=np.int64),
        "specz_redshift": rng.uniform(0.01, 0.4, n).astype(np.float32),
        "specz_redshift_err": np.full(n, 1e-4, np.float32),
    }


def write_h5(path: Path, images: np.ndarray, columns: dict[str, np.ndarray]) -> Path:
    """Write a file the way the authors' files are: plain datasets, no attributes, no chunking."""
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", data=images)
        for name, values in columns.items():
            handle.create_dataset(name, data=values)
    return path


def build_dr9(path: Path, n: int = 16, seed: int = 0, first_ind: int = 0, n_channels: int = 3) -> dict:
    """An authors' DR9 file; returns what was written (images + columns) for comparisons."""
    rng = np.random.default_rng(seed)
    data = dr9_columns(rng, n, first_ind)
    data["images"] = galaxy_images(rng, n, n_channels, 152)
    write_h5(path, data["images"], {k: v for k, v in data.items() if k != "images"})
    return data


def build_sdss(path: Path, n: int = 12, seed: int = 1) -> dict:
    """An authors' SDSS file (`sdss_w_specz_valid.h5` layout)."""
    rng = np.random.default_rng(seed)
    data = sdss_columns(rng, n)
    data["images"] = galaxy_images(rng, n, 5, 107)
    write_h5(path, data["images"], {k: v for k, v in data.items() if k != "images"})
    return data


def rewrite(path: Path, data: dict) -> Path:
    return write_h5(path, data["images"], {k: v for k, v in data.items() if k != "images"})


def _nonfinite(folder: Path) -> Path:
    data = build_dr9(folder / "dr9.h5")
    data["images"][11, 1, 70, 70] = np.nan
    return rewrite(folder / "dr9.h5", data)


def _all_zero(folder: Path) -> Path:
    data = build_dr9(folder / "dr9.h5")
    data["images"][13] = 0.0
    return rewrite(folder / "dr9.h5", data)


def _length_mismatch(folder: Path) -> Path:
    data = build_dr9(folder / "dr9.h5")
    data["ebv"] = data["ebv"][:-3]
    return rewrite(folder / "dr9.h5", data)


def _missing_radec(folder: Path) -> Path:
    data = build_dr9(folder / "dr9.h5")
    del data["ra"], data["dec"]
    return rewrite(folder / "dr9.h5", data)


def _four_bands(folder: Path) -> Path:
    build_dr9(folder / "dr9.h5", n_channels=4)
    return folder / "dr9.h5"


def _truncated(folder: Path) -> Path:
    path = folder / "dr9.h5"
    build_dr9(path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    return path


def _not_hdf5(folder: Path) -> Path:
    path = folder / "dr9.h5"
    path.write_text("ra,dec\n150.0,2.0\n")
    return path


def _empty_folder(folder: Path) -> Path:
    path = folder / "empty"
    path.mkdir()
    return path


MALFORMED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "nonfinite": (_nonfinite, "non-finite"),
    "all_zero": (_all_zero, "all-zero"),
    "length_mismatch": (_length_mismatch, "has length 13 but there are 16 images"),
    "missing_radec": (_missing_radec, "missing required column 'ra'"),
    "four_bands": (_four_bands, "unknown band set"),
    "truncated": (_truncated, "truncated or corrupt HDF5"),
    "not_hdf5": (_not_hdf5, "not an HDF5 file"),
    "empty_folder": (_empty_folder, "no .h5 files"),
}
"""Each malformed input: (builder(folder) -> path, text its one-line error must contain)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Any test asking for `malformed_case` runs once per entry of the malformed corpus."""
    if "malformed_case" in metafunc.fixturenames:
        metafunc.parametrize("malformed_case", sorted(MALFORMED))


@pytest.fixture
def malformed_input(malformed_case: str, tmp_path: Path) -> tuple[Path, str]:
    builder, expected = MALFORMED[malformed_case]
    folder = tmp_path / "in"
    folder.mkdir()
    return builder(folder), expected


@pytest.fixture
def dr9_file(tmp_path: Path) -> tuple[Path, dict]:
    path = tmp_path / "images_npix152_000000000_000000016.h5"
    return path, build_dr9(path)


@pytest.fixture
def sdss_file(tmp_path: Path) -> tuple[Path, dict]:
    path = tmp_path / "sdss_w_specz_valid.h5"
    return path, build_sdss(path)


@pytest.fixture
def dr9_folder(tmp_path: Path) -> tuple[Path, list[dict]]:
    """Two DR9 files of 16 and 10 rows in one folder, as the authors split their 76 M rows."""
    folder = tmp_path / "south"
    folder.mkdir()
    first = build_dr9(folder / "images_npix152_000000000_000000016.h5", n=16, seed=3)
    second = build_dr9(folder / "images_npix152_000000016_000000026.h5", n=10, seed=4, first_ind=16)
    return folder, [first, second]


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One intra-op thread for every test: the tiny convolutions and matrices here gain nothing from two,
    and OpenMP's spinning threads slow down several-fold when the two cores are shared (pytest -n 2)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Path:
    """The 64-object simulated legacy store shared by the embed, search, mining, science and app tests."""
    from tests.search.helpers import sim_store

    return sim_store(tmp_path_factory)


@pytest.fixture(scope="session")
def run(tmp_path_factory) -> Path:
    """A 2-step MoCo run on :func:`store` (tests/embed/helpers.py)."""
    from tests.embed.helpers import trained_run

    return trained_run(tmp_path_factory)


@pytest.fixture(scope="session")
def emb(tmp_path_factory) -> Path:
    """:func:`run`'s embeddings of :func:`store`."""
    from tests.embed.helpers import embedded_store

    return embedded_store(tmp_path_factory)

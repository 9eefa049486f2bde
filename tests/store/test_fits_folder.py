"""Folders of FITS cutouts + a catalogue table, read and converted into a store."""

import re

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import MaskedColumn, Table

from skyssl.errors import InputError
from skyssl.store import Store
from skyssl.store.convert import convert
from skyssl.store.fits_folder import (
    FitsFolder,
    band_from_keyword,
    read_cutout,
    resolve_survey,
    table_columns,
    to_survey_order,
)
from skyssl.surveys import get as get_survey
from tests.conftest import galaxy_images

STAMP_PX = 48


def write_cube(path, cube, bands="grz"):
    """A Legacy-viewer-style cutout: (C, H, W) primary HDU with BANDS and BAND0… keywords."""
    hdu = fits.PrimaryHDU(cube)
    hdu.header["BANDS"] = bands
    for k, band in enumerate(bands):
        hdu.header[f"BAND{k}"] = band
    hdu.writeto(path)


def write_band_hdus(path, cube, bands):
    """One 2-D image HDU per band, each naming its band in FILTER, in the order given."""
    hdus = [fits.PrimaryHDU()] + [
        fits.ImageHDU(plane, header=fits.Header({"FILTER": f"{b} DECam"}))
        for plane, b in zip(cube, bands, strict=True)
    ]
    fits.HDUList(hdus).writeto(path)


def make_folder(tmp_path, n=6, per_band=False, catalog_format="ecsv"):
    """Cutouts in survey order on disk, in file order g,r,z (cube) or z,g,r (per-band HDUs)."""
    rng = np.random.default_rng(5)
    images = galaxy_images(rng, n, 3, STAMP_PX)
    folder = tmp_path / "cutouts"
    folder.mkdir()
    names = []
    for k in range(n):
        name = f"obj{k:03d}.fits"
        if per_band:
            write_band_hdus(folder / name, images[k][[2, 0, 1]], "zgr")
        else:
            write_cube(folder / name, images[k])
        names.append(name)
    table = Table(
        {
            "ra": rng.uniform(10, 11, n),
            "dec": rng.uniform(-1, 1, n),
            "file": names,
            "flux": rng.uniform(1, 5, (n, 3)).astype(np.float32),
            "kind": ["spiral"] * n,
        }
    )
    if catalog_format == "csv":  # plain CSV cannot hold (N, 3) columns
        table.remove_column("flux")
    catalog = tmp_path / f"cat.{catalog_format}"
    table.write(catalog, format={"ecsv": "ascii.ecsv", "fits": "fits", "csv": "ascii.csv"}[catalog_format])
    return folder, catalog, images, table


def test_band_keywords():
    assert band_from_keyword("g") == "g"
    assert band_from_keyword("r DECam SDSS c0002 6415.0 1480.0") == "r"
    assert band_from_keyword("DECam") is None


def test_cube_bands_are_read_and_reordered(tmp_path):
    cube = np.arange(3 * 4 * 4, dtype=np.float32).reshape(3, 4, 4) + 1
    write_cube(tmp_path / "a.fits", cube, bands="zrg")
    data, bands = read_cutout(tmp_path / "a.fits")
    assert bands == ("z", "r", "g") and data.dtype == np.float32
    ordered = to_survey_order(data, bands, get_survey("legacy-dr9-south"), tmp_path / "a.fits")
    assert np.array_equal(ordered, cube[::-1])


def test_per_band_hdus_are_stacked(tmp_path):
    cube = np.random.default_rng(0).normal(size=(3, 5, 5)).astype(np.float32)
    write_band_hdus(tmp_path / "b.fits", cube, "rzg")
    data, bands = read_cutout(tmp_path / "b.fits")
    assert bands == ("r", "z", "g") and np.array_equal(data, cube)


def test_unreadable_cutouts(tmp_path):
    (tmp_path / "text.fits").write_text("not fits at all")
    with pytest.raises(InputError, match="not a readable FITS file"):
        read_cutout(tmp_path / "text.fits")
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((4, 4), np.float32))]).writeto(
        tmp_path / "nb.fits"
    )
    with pytest.raises(InputError, match="names no band"):
        read_cutout(tmp_path / "nb.fits")
    write_cube(tmp_path / "whole.fits", np.ones((3, 64, 64), np.float32))
    raw = (tmp_path / "whole.fits").read_bytes()
    (tmp_path / "cut.fits").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"truncated|not a readable"):
        read_cutout(tmp_path / "cut.fits")


def test_survey_resolution():
    assert resolve_survey(("z", "g", "r"), 3, None).name == "legacy-dr9-south"
    assert resolve_survey(None, 5, None).name == "sdss"
    assert resolve_survey(None, 3, "legacy-dr9-north").name == "legacy-dr9-north"
    with pytest.raises(InputError, match="unknown band set"):
        resolve_survey(None, 4, None)
    with pytest.raises(InputError, match="but survey sdss"):
        resolve_survey(("g", "r", "z"), 3, "sdss")


@pytest.mark.parametrize(("per_band", "catalog_format"), [(False, "ecsv"), (True, "fits"), (False, "csv")])
def test_conversion_keeps_pixels_and_every_column(tmp_path, per_band, catalog_format):
    folder, catalog, images, table = make_folder(tmp_path, per_band=per_band, catalog_format=catalog_format)
    result = convert(folder, tmp_path / "store", catalog=catalog, rows_per_shard=4)
    assert (result.n_objects, result.n_shards, result.survey) == (6, 2, "legacy-dr9-south")
    with Store.open(tmp_path / "store") as store:
        assert store.image_shape == (3, STAMP_PX, STAMP_PX)
        assert store.read_images(np.arange(6)).tobytes() == images.tobytes()
        assert list(store.read_column("file")) == list(table["file"])
        assert list(store.read_column("kind")) == ["spiral"] * 6
        assert np.array_equal(store.read_column("ra"), table["ra"])
        if catalog_format != "csv":
            assert np.array_equal(store.read_column("flux"), table["flux"])
        assert np.unique(store.object_ids).size == 6
        assert store.catalog().colnames[0] == "object_id"


def test_masked_values_become_nan(tmp_path):
    table = Table(
        {
            "z": MaskedColumn([0.1, 0.0], mask=[False, True]),
            "n": MaskedColumn([3, 0], mask=[False, True]),
            "s": MaskedColumn(["a", "b"], mask=[True, False]),
        }
    )
    columns = table_columns(table)
    assert np.isnan(columns["z"][1]) and np.isnan(columns["n"][1]) and columns["s"].tolist() == ["", "b"]


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("missing_file", "cutout file(s) named in the catalogue are missing"),
        ("no_ra", "missing required column(s) 'ra'"),
        ("bad_dec", "invalid ra/dec"),
        ("nan_pixel", "obj004.fits: non-finite pixels"),
        ("other_shape", "differs from the first file"),
        ("duplicate_object_id", "repeats 1 id"),
    ],
)
def test_broken_folders_leave_no_output(tmp_path, breakage, expected):
    folder, catalog, images, table = make_folder(tmp_path)
    if breakage == "missing_file":
        (folder / "obj003.fits").unlink()
    elif breakage == "no_ra":
        table.remove_column("ra")
    elif breakage == "bad_dec":
        table["dec"][1] = 91.0
    elif breakage == "nan_pixel":
        images[4, 0, 3, 3] = np.nan
        (folder / "obj004.fits").unlink()
        write_cube(folder / "obj004.fits", images[4])
    elif breakage == "other_shape":
        (folder / "obj005.fits").unlink()
        write_cube(folder / "obj005.fits", images[5][:, :40, :40])
    elif breakage == "duplicate_object_id":
        table["object_id"] = [1, 2, 3, 4, 5, 1]
    table.write(catalog, format="ascii.ecsv", overwrite=True)
    with pytest.raises(InputError, match=re.escape(expected)) as info:
        convert(folder, tmp_path / "store", catalog=catalog, rows_per_shard=4)
    assert str(info.value).count(str(tmp_path)) == 1
    assert not (tmp_path / "store").exists() and not (tmp_path / "store.partial").exists()


def test_fits_folder_without_catalogue_is_explained(tmp_path):
    folder, _, _, _ = make_folder(tmp_path, n=2)
    with pytest.raises(InputError, match="needs --catalog"):
        convert(folder, tmp_path / "store")


def test_unreadable_catalogue(tmp_path):
    folder, _, _, _ = make_folder(tmp_path, n=2)
    (tmp_path / "bad.fits").write_text("nope")
    with pytest.raises(InputError, match="not a readable table"):
        FitsFolder(folder, tmp_path / "bad.fits", "file")
    with pytest.raises(InputError, match="no such catalogue"):
        FitsFolder(folder, tmp_path / "none.ecsv", "file")

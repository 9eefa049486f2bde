"""Image queries (cutout files → vectors) and augmented copies (the label-free search check)."""

import numpy as np
import pytest
import torch
from astropy.io import fits

from skyssl.embed import Embeddings
from skyssl.embed.copies import augmented_pairs, sample_rows
from skyssl.embed.query import check_same_checkpoint, image_embedder, load_cutout
from skyssl.errors import InputError, SkysslError
from skyssl.store import Store


@pytest.fixture(scope="module")
def stamp(store):
    with Store.open(store) as opened:
        return opened.read_images([5])[0]


def test_npy_and_fits_cutouts_load_as_float32(stamp, tmp_path):
    np.save(tmp_path / "q.npy", stamp)
    fits.PrimaryHDU(stamp.astype(">f4")).writeto(tmp_path / "q.fits")
    for name in ("q.npy", "q.fits"):
        loaded = load_cutout(tmp_path / name)
        assert loaded.dtype == np.dtype("=f4")  # native byte order, whatever the file had
        np.testing.assert_array_equal(loaded, stamp)


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("flat.npy", np.zeros((4, 4), np.float32), r"shape \(4, 4\); expected \(bands, height, width\)"),
    ("objects.npy", np.array([{"a": 1}], dtype=object), "not a readable .npy"),
    ("nan.npy", np.full((3, 4, 4), np.nan, np.float32), "non-finite"),
    ("q.png", None, "give the cutout as .npy or .fits"),
    ("absent.npy", "skip", "no such image file"),
])
def test_bad_cutout_files(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"\x89PNG")
    elif not isinstance(content, str):
        np.save(path, content, allow_pickle=True)
    with pytest.raises(InputError, match=expected):
        load_cutout(path)


def test_an_image_query_is_the_stored_vector_of_that_stamp(encoder, emb, stamp):
    embed = image_embedder(encoder, "projection", stamp.shape)
    with Embeddings.open(emb) as out:
        np.testing.assert_allclose(embed(stamp), out.vectors("projection", [5])[0], atol=1e-5)
    with pytest.raises(InputError, match=r"image of shape \(2, 152, 152\)"):
        embed(stamp[:2])
    with pytest.raises(SkysslError, match="checkpoint 000000000000…"):
        check_same_checkpoint({"sha256": "0" * 64}, encoder, "the vectors")
    check_same_checkpoint({"sha256": None}, encoder, "vectors of unknown origin")


def test_augmented_pairs_are_seeded_and_differ_from_the_centre(encoder, store):
    rows = sample_rows(np.arange(64), 24, seed=1)
    assert rows.size == 24 and np.all(np.diff(rows) > 0) and sample_rows(np.arange(5), 10, 0).tolist() == [0, 1, 2, 3, 4]
    with Store.open(store) as opened:
        centre, augmented = augmented_pairs(encoder, opened, rows, "backbone", seed=3, batch_size=10)
        again = augmented_pairs(encoder, opened, rows, "backbone", seed=3, batch_size=10)[1]
        direct = encoder.embed_images(torch.from_numpy(opened.read_images(rows)))["backbone"].numpy()
    assert centre.shape == augmented.shape == (24, 256)
    np.testing.assert_allclose(centre, direct, atol=1e-5)
    np.testing.assert_array_equal(augmented, again)
    assert np.abs(augmented - centre).max() > 1e-3
    with pytest.raises(SkysslError, match="at least 1"):
        sample_rows(rows, 0, 0)

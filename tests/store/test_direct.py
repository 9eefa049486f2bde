"""Direct reads of contiguous images agree with h5py and fall back to it when they cannot apply."""

import h5py
import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.store import Store
from skyssl.store.direct import open_direct


def write_images(path, images, **kwargs):
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", data=images, **kwargs)
        handle["ra"] = np.linspace(0, 1, len(images))
        handle["dec"] = np.linspace(0, 1, len(images))


@pytest.fixture
def images():
    return np.random.default_rng(0).normal(1, 0.1, (9, 3, 20, 20)).astype(np.float32)


@pytest.mark.parametrize(
    ("kwargs", "direct"),
    [
        ({}, True),
        ({"dtype": ">f4"}, True),
        ({"dtype": "float16"}, True),
        ({"chunks": (2, 3, 20, 20)}, False),
        ({"compression": "gzip"}, False),
    ],
)
def test_direct_and_fallback_reads_agree(tmp_path, images, kwargs, direct):
    path = tmp_path / "f.h5"
    write_images(path, images, **kwargs)
    expected = images.astype(kwargs.get("dtype", "float32")).astype(np.float32)
    with Store.open(path) as store:
        assert (store._direct[0] is not None) == direct
        rows = np.array([8, 0, 1, 2, 5, 4, 4])
        assert np.array_equal(store.read_images(rows), expected[rows])
        assert np.array_equal(store.read_images(np.arange(9), dtype=None).astype(np.float32), expected)
        assert np.array_equal(np.concatenate([b for _, b in store.iter_image_batches(4)]), expected)


def test_unwritten_dataset_is_left_to_h5py(tmp_path):
    path = tmp_path / "empty.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", shape=(2, 3, 4, 4), dtype="float32")
    with h5py.File(path, "r") as handle:
        assert open_direct(handle) is None


def test_file_truncated_after_opening_is_an_input_error(tmp_path, images):
    path = tmp_path / "f.h5"
    write_images(path, images)
    with Store.open(path) as store:
        with open(path, "r+b") as handle:
            handle.truncate(store._direct[0].offset + 3 * store._direct[0].row_bytes)
        with pytest.raises(InputError, match="truncated"):
            store.read_images([7])

"""Reading for training: whole batches from a store, conditions in memory, NaN where a column is missing."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from skyssl.store import Store
from skyssl.train.data import RawBatch, StoreDataset, collate_raw
from skyssl.train.datamodule import PretrainDataModule, split_rows


def test_a_batch_is_read_whole_with_its_conditions(tiny_store):
    dataset = StoreDataset(tiny_store)
    rows = [7, 3, 4, 40]
    batch = dataset.__getitems__(rows)
    with Store.open(tiny_store) as store:
        np.testing.assert_array_equal(batch.images.numpy(), store.read_images(rows, dtype=None))
        np.testing.assert_allclose(batch.ebv.numpy(), store.read_column("ebv", rows))
        np.testing.assert_allclose(batch.psfsize.numpy(), store.read_column("psfsize", rows))
        np.testing.assert_allclose(batch.psfdepth.numpy(), store.read_column("psfdepth", rows))
    assert batch.rows.tolist() == rows and dataset.missing_columns == []
    image, _, _, _, row = dataset[3]
    assert image.dtype == torch.float32 and image.shape == (3, 152, 152) and row == 3
    torch.testing.assert_close(image, batch.images[1].float())
    dataset.close()


def test_missing_catalogue_columns_become_nan(sdss_file):
    path, _ = sdss_file  # the authors' SDSS layout: no ebv, psfsize or psfdepth
    dataset = StoreDataset(path)
    batch = dataset.__getitems__([0, 5])
    assert sorted(dataset.missing_columns) == ["ebv", "psfdepth", "psfsize"]
    assert batch.images.shape == (2, 5, 107, 107)
    assert torch.isnan(batch.ebv).all() and batch.psfsize.shape == (2, 5) and torch.isnan(batch.psfdepth).all()
    dataset.close()


def test_worker_processes_open_their_own_store(tiny_store):
    dataset = StoreDataset(tiny_store)
    dataset.store()  # an open handle in the parent must not leak into the forked worker
    loader = DataLoader(dataset, batch_sampler=[[0, 1, 2], [9, 8]], collate_fn=collate_raw, num_workers=1)
    got = list(loader)
    assert all(isinstance(b, RawBatch) for b in got)
    assert got[1].rows.tolist() == [9, 8] and got[1].images.shape[0] == 2
    assert collate_raw([dataset[1], dataset[2]]).images.shape == (2, 3, 152, 152)
    dataset.close()


def test_held_out_rows_are_seeded_and_disjoint():
    train, held = split_rows(100, 10, seed=1)
    assert len(held) == 10 and len(train) == 90 and not set(train) & set(held)
    assert np.array_equal(held, split_rows(100, 10, seed=1)[1])
    assert not np.array_equal(held, split_rows(100, 10, seed=2)[1])
    assert split_rows(5, 0, seed=1)[1].size == 0


def test_data_module_streams_the_held_out_rows(tiny_store):
    dm = PretrainDataModule(tiny_store, batch_size=8, n_held_out=6, seed=0, monitor_batch_size=4)
    batches = list(dm.held_out_batches())
    assert [len(b.rows) for b in batches] == [4, 2]
    assert torch.cat([b.rows for b in batches]).tolist() == dm.held_out_rows.tolist()
    loader = dm.train_dataloader()
    assert len(loader) == (48 - 6) // 8
    first = next(iter(loader))
    assert not set(first.rows.tolist()) & set(dm.held_out_rows.tolist())
    dm.teardown("fit")

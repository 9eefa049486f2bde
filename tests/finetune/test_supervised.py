"""The supervised trainer: it learns, its two learning rates and its freezing act as stated, its inits
differ, its predictions are the model's on centre views, and bad inputs fail in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from skyssl.embed.model import load_run
from skyssl.errors import InputError
from skyssl.finetune.supervised import (
    SupervisedConfig,
    build_optimizer,
    load_supervised,
    predict_rows,
    predict_views,
    train_supervised,
)
from skyssl.finetune.supervised_model import initial_model
from skyssl.store import Store


@pytest.fixture(scope="module")
def encoder(run):
    return load_run(run)


@pytest.fixture(scope="module")
def brightness(store):
    """A learnable target: the standardised log of each stamp's central r-band flux."""
    with Store.open(store) as opened:
        images = opened.read_images(np.arange(opened.n_objects))
    centre = images.shape[-1] // 2
    flux = images[:, 1, centre - 4 : centre + 4, centre - 4 : centre + 4].sum(axis=(1, 2))
    value = np.log10(np.clip(flux, 1e-2, None))
    return ((value - value.mean()) / value.std()).astype(np.float32)


@pytest.fixture(scope="module")
def binary_result(run, store, tmp_path_factory):
    """A 3-step binary run with validation, shared by the prediction and artefact tests."""
    labels = (np.arange(64) % 3 == 0).astype(np.float32)
    config = SupervisedConfig(task="binary", max_steps=3, batch_size=8, positive_fraction=0.5, val_every_n_steps=2)
    out = tmp_path_factory.mktemp("supervised") / "binary"
    return train_supervised(run, store, np.arange(48), labels[:48], config, out, np.arange(48, 64), labels[48:],
                            device="cpu")


def test_loss_decreases_on_a_learnable_target(run, store, encoder, brightness, tmp_path):
    rows = np.arange(64)
    config = SupervisedConfig(task="regression", head_lr=1e-2, backbone_lr=1e-3, max_steps=40, batch_size=16,
                              augment=False, seed=1)
    before = initial_model(encoder, 1, "checkpoint", seed=1)
    with Store.open(store) as opened:
        start = predict_views(before, encoder.pipeline, opened, rows, 64, torch.device("cpu"))
    result = train_supervised(run, store, rows, brightness, config, tmp_path / "reg", device="cpu")
    end = predict_rows(result, store, rows, device="cpu")
    mse_start = float(np.mean((start[:, 0] - brightness) ** 2))
    mse_end = float(np.mean((end[:, 0] - brightness) ** 2))
    assert mse_end < 0.5 * mse_start
    assert mse_end < 0.7  # well below the variance (1) of the standardised target


def test_each_parameter_group_moves_by_its_own_learning_rate(run, store, encoder, brightness, tmp_path):
    """Adam's first step moves every parameter with a gradient by ≈ its group's lr (|m̂/√v̂| = 1)."""
    config = SupervisedConfig(task="regression", head_lr=1e-2, backbone_lr=1e-4, max_steps=1, batch_size=8)
    before = initial_model(encoder, 1, "checkpoint", seed=0)
    result = train_supervised(run, store, np.arange(16), brightness[:16], config, tmp_path / "lr", device="cpu")
    head_step = (result.model.head.weight - before.head.weight).abs().max().item()
    conv = next(name for name, _ in before.encoder.named_parameters() if name.endswith("weight"))
    backbone_step = (dict(result.model.encoder.named_parameters())[conv]
                     - dict(before.encoder.named_parameters())[conv]).abs().max().item()
    assert head_step == pytest.approx(1e-2, rel=0.01)
    assert backbone_step == pytest.approx(1e-4, rel=0.01)


def test_backbone_lr_zero_freezes_weights_and_batchnorm(run, store, encoder, brightness, tmp_path):
    config = SupervisedConfig(task="regression", backbone_lr=0.0, max_steps=3, batch_size=8)
    result = train_supervised(run, store, np.arange(32), brightness[:32], config, tmp_path / "frozen", device="cpu")
    pretrained = encoder.moco.encoder_q.state_dict()
    for name, value in result.model.encoder.state_dict().items():
        assert torch.equal(value, pretrained[name]), name  # running statistics included
    assert not torch.equal(result.model.head.weight, initial_model(encoder, 1, "checkpoint", 0).head.weight)
    assert [g["name"] for g in build_optimizer(initial_model(encoder, 1, "checkpoint", 0), config).param_groups] \
        == ["head"]


def test_scratch_init_differs_from_the_checkpoint_and_repeats_under_a_seed(encoder):
    pretrained = encoder.moco.encoder_q.state_dict()
    checkpoint = initial_model(encoder, 2, "checkpoint", seed=0).encoder.state_dict()
    scratch = initial_model(encoder, 2, "scratch", seed=0).encoder.state_dict()
    again = initial_model(encoder, 2, "scratch", seed=0).encoder.state_dict()
    weights = [name for name in pretrained if name.endswith("conv1.weight") or name.endswith("stem.0.weight")]
    assert weights
    assert all(torch.equal(checkpoint[name], pretrained[name]) for name in pretrained)
    assert not any(torch.equal(scratch[name], pretrained[name]) for name in weights)
    assert all(torch.equal(scratch[name], again[name]) for name in scratch)


def test_predictions_are_the_model_on_centre_views_and_deterministic(binary_result, store):
    rows = np.array([5, 60, 2, 33, 2])
    first = predict_rows(binary_result, store, rows, batch_size=2, device="cpu")
    second = predict_rows(binary_result, store, rows, batch_size=256, device="cpu")
    from_disk = predict_rows(binary_result.out, store, rows, device="cpu")
    with Store.open(store) as opened, torch.no_grad():
        images = torch.from_numpy(opened.read_images(rows))
        direct = binary_result.model.eval()(binary_result.pipeline.center_view(images)).numpy()
    assert first.shape == (5, 1)
    np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first, direct, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first, from_disk, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first[2], first[4], rtol=1e-5, atol=1e-6)  # the same object twice


def test_the_artefact_records_history_config_and_architecture(binary_result):
    out = binary_result.out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "skyssl.supervised"
    assert manifest["n_train"] == 48 and manifest["n_val"] == 16
    assert manifest["model"]["encoder"] == "small" and manifest["model"]["crop_px"] == 32
    assert [row["step"] for row in binary_result.history] == [2, 3]
    assert all(np.isfinite(row["val_loss"]) for row in binary_result.history)
    loaded = load_supervised(out)
    assert loaded.config == binary_result.config
    assert [row["step"] for row in loaded.history] == [2.0, 3.0]
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # no temporary folder left


def test_a_previous_model_is_replaced_but_other_folders_are_refused(run, store, brightness, tmp_path):
    config = SupervisedConfig(task="regression", max_steps=1, batch_size=4)
    out = tmp_path / "model"
    train_supervised(run, store, np.arange(8), brightness[:8], config, out, device="cpu")
    train_supervised(run, store, np.arange(8), brightness[:8], config, out, device="cpu")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="refusing to replace"):
        train_supervised(run, store, np.arange(8), brightness[:8], config, other, device="cpu")


BINARY = SupervisedConfig(task="binary", max_steps=1, batch_size=4)
CASES = {
    "empty rows": (BINARY, np.array([], dtype=np.int64), np.array([]), "empty"),
    "row out of range": (BINARY, np.array([0, 1, 64]), np.array([0, 1, 0]), "out of range"),
    "float rows": (BINARY, np.array([0.0, 1.0]), np.array([0, 1]), "integer store rows"),
    "length mismatch": (BINARY, np.arange(4), np.array([0, 1, 0]), "3 values for 4 rows"),
    "nan target": (BINARY, np.arange(4), np.array([0, 1, np.nan, 0]), "NaN"),
    "one class": (BINARY, np.arange(4), np.zeros(4), "one class only"),
    "not 0/1": (BINARY, np.arange(4), np.array([0, 1, 2, 0]), "must be 0/1"),
    "class index": (SupervisedConfig(task="multiclass", n_outputs=3, max_steps=1), np.arange(4),
                    np.array([0, 1, 3, 0]), r"class indices in \[0, 3\)"),
    "regression shape": (SupervisedConfig(task="regression", n_outputs=2, max_steps=1), np.arange(4),
                         np.zeros(4), r"shape \(n,\) or \(n, 2\)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_inputs_are_one_line_errors(case, run, store, tmp_path):
    config, rows, targets, message = CASES[case]
    with pytest.raises(InputError, match=message) as info:
        train_supervised(run, store, rows, targets, config, tmp_path / "bad", device="cpu")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize(("fields", "message"), [
    ({"task": "ranking"}, "unknown task"),
    ({"task": "binary", "n_outputs": 2}, "one output"),
    ({"task": "multiclass", "n_outputs": 1}, "at least|≥ 2"),
    ({"task": "binary", "init": "imagenet"}, "unknown init"),
    ({"task": "regression", "positive_fraction": 0.5}, "binary tasks only"),
    ({"task": "binary", "positive_fraction": 1.0}, r"\(0, 1\)"),
    ({"task": "binary", "head_lr": 0.0}, "head_lr > 0"),
    ({"task": "binary", "batch_size": 1}, "batch_size ≥ 2"),
])
def test_bad_configs_are_refused(fields, message):
    with pytest.raises(InputError, match=message):
        SupervisedConfig(**fields)


def test_predicting_rows_outside_the_store_fails(binary_result, store):
    with pytest.raises(InputError, match="out of range"):
        predict_rows(binary_result, store, np.array([0, 99]), device="cpu")

"""Pretraining configs: every shipped file loads and builds its model; every bad field fails in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from skyssl.errors import SkysslError
from skyssl.train.config import PretrainConfig, config_from_dict, load_config
from skyssl.train.module import build_moco
from tests.train.helpers import TINY, merged, write_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHIPPED = sorted(p.name for p in CONFIGS.glob("*.yaml"))


def test_the_three_documented_configs_ship():
    assert {"cpu-small.yaml", "legacy-r50.yaml", "sdss-r50.yaml"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_loads_and_builds_its_model(name):
    config = load_config(CONFIGS / name)
    augment = config.augment_config()
    survey = config.survey or "legacy-dr9-south"
    from skyssl import surveys
    from skyssl.augment.pipeline import AugmentPipeline

    pipeline = AugmentPipeline(augment, surveys.get(survey))
    moco = build_moco(config, pipeline.output_channels, world_size=1)
    assert moco.queue.size == config.moco.queue_size
    assert moco.shuffle == config.moco.resolve_shuffle(1)
    if config.model.encoder != "small":  # a ResNet50 is only built and run once, on a tiny input
        assert moco.out_dim == 2048
        with torch.no_grad():
            moco.eval()
            features = moco.representation(torch.zeros(2, pipeline.output_channels, 32, 32))
        assert features.shape == (2, 2048)
    assert yaml.safe_load(config.to_yaml()) == config.model_dump(mode="json")


def test_paper_settings_are_the_documented_ones():
    legacy = load_config(CONFIGS / "legacy-r50.yaml")
    assert (legacy.moco.queue_size, legacy.moco.temperature, legacy.batch_size) == (65536, 0.2, 256)
    assert legacy.model.small_stamp is False and legacy.precision == "bf16-mixed" and legacy.channels_last
    sdss = load_config(CONFIGS / "sdss-r50.yaml")
    assert sdss.model.small_stamp is True and sdss.augment_config().crop_px == 64 and sdss.survey == "sdss"
    small = load_config(CONFIGS / "cpu-small.yaml")
    assert small.model.encoder == "small" and small.precision == "32" and small.moco.shuffle == "split_bn"


def test_the_published_dr9_chain_is_one_override_away():
    config = config_from_dict(merged(TINY, {"augment": {"spec": "grrrssgbjcgnrg",
                                                        "overrides": {"profile": "paper_faithful"}}}))
    augment = config.augment_config()
    assert augment.input_stretch == "legacy_torgb" and augment.size_scale_mode == "one_axis_legacy"


def test_shuffle_auto_resolves_by_world_size():
    moco = PretrainConfig(batch_size=16).moco
    assert (moco.resolve_shuffle(1), moco.resolve_bn_splits(1)) == ("split_bn", 8)
    assert (moco.resolve_shuffle(4), moco.resolve_bn_splits(4)) == ("ddp", 1)


BAD = [
    ({"model": {"encoder": "resnet51"}}, "model.encoder"),
    ({"moco": {"momentum": 1.5}}, "moco.momentum"),
    ({"moco": {"shuffle": "sideways"}}, "moco.shuffle"),
    ({"optim": {"lr_per_256": -1}}, "optim.lr_per_256"),
    ({"optim": {"warmup_steps": 5, "warmup_epochs": 1}}, "warmup_steps or warmup_epochs"),
    ({"precision": "16"}, "precision"),
    ({"batch_size": 9}, "BatchNorm splits"),
    ({"max_epochs": None, "max_steps": None}, "max_epochs, max_steps"),
    ({"devices": 0}, "devices"),
    ({"survey": "hubble"}, "unknown survey"),
    ({"epochs": 3}, "epochs: Extra inputs are not permitted"),
    ({"model": {"encodr": "small"}}, "model.encodr"),
    ({"augment": {"spec": "zz"}}, "augment: unknown augmentation code 'zz'"),
    ({"augment": {"overrides": {"crop_px": 2}}}, "augment: invalid augmentation config: crop_px"),
]


@pytest.mark.parametrize(("override", "expected"), BAD, ids=[b[1] for b in BAD])
def test_a_bad_field_is_one_line_naming_it(tmp_path, override, expected):
    path = write_config(tmp_path / "bad.yaml", **override)
    with pytest.raises(SkysslError) as info:
        load_config(path)
    message = str(info.value)
    assert expected in message and "\n" not in message and str(path) in message


def test_unreadable_files_are_one_line(tmp_path):
    with pytest.raises(SkysslError, match="no such config file"):
        load_config(tmp_path / "absent.yaml")
    (tmp_path / "broken.yaml").write_text("model: [unclosed\n")
    with pytest.raises(SkysslError, match="not valid YAML at line"):
        load_config(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(SkysslError, match="YAML mapping"):
        load_config(tmp_path / "list.yaml")


def test_yaml_integer_precision_is_read_as_text(tmp_path):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(merged(TINY, {})).replace("seed: 3", "seed: 3\nprecision: 32"))
    assert load_config(tmp_path / "p.yaml").precision == "32"

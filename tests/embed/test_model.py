"""Loading a run dir: the model in eval mode with its view and provenance; every bad folder is one line."""

import shutil

import numpy as np
import pytest
import torch

from skyssl.embed.model import auto_device, load_run
from skyssl.errors import SkysslError
from skyssl.manifest import sha256_file
from skyssl.store import Store


def test_run_loads_in_eval_mode_with_provenance(encoder, run):
    assert not encoder.moco.training and not any(p.requires_grad for p in encoder.moco.parameters())
    assert encoder.checkpoint_sha256 == sha256_file(run / "last.ckpt") and encoder.global_step == 2
    assert encoder.survey.name == "legacy-dr9-south" and encoder.bands == ("g", "r", "z")
    assert encoder.dims(projection=True) == {"backbone": 256, "projection": 32}
    spec = encoder.preprocessing_spec()
    assert spec["crop_px"] == 32 and spec["input_stretch"] == "asinh" and spec["training_augment_spec"] == "grrrssgbjcgn"
    assert encoder.checkpoint_info()["sha256"] == encoder.checkpoint_sha256
    assert encoder.device == torch.device("cpu") and auto_device("cpu") == torch.device("cpu")


def test_devices_are_checked():
    with pytest.raises(SkysslError, match="unknown device 'gpu'"):
        auto_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(SkysslError, match="no CUDA GPU"):
            auto_device("cuda")
        assert auto_device("auto") == torch.device("cpu")


def test_weights_are_the_checkpoints(encoder, run):
    state = torch.load(run / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    for name, value in encoder.moco.state_dict().items():
        torch.testing.assert_close(value, state["moco." + name], rtol=0, atol=0)


def test_projection_reuses_the_backbone_features(encoder, store):
    with Store.open(store) as opened:
        images = torch.from_numpy(opened.read_images(np.arange(4)))
    out = encoder.embed_images(images, projection=True)
    with torch.no_grad():
        views = encoder.pipeline.center_view(images)
        torch.testing.assert_close(out["projection"], encoder.moco.project(views))
    assert out["backbone"].shape == (4, 256)


def _copy_run(run, tmp_path, drop=None, corrupt=False):
    target = tmp_path / "copy"
    shutil.copytree(run, target)
    if drop:
        (target / drop).unlink()
    if corrupt:
        (target / "last.ckpt").write_bytes(b"not a checkpoint")
    return target


@pytest.mark.parametrize(("case", "expected"), [
    ("missing", "no such run dir"),
    ("no_config", "is not a skyssl run dir: no config.yaml"),
    ("no_checkpoint", "no last.ckpt"),
    ("corrupt", "is not a readable skyssl checkpoint"),
])
def test_bad_run_dirs_are_one_line_errors(run, tmp_path, case, expected):
    path = {
        "missing": lambda: tmp_path / "nowhere",
        "no_config": lambda: _copy_run(run, tmp_path, drop="config.yaml"),
        "no_checkpoint": lambda: _copy_run(run, tmp_path, drop="last.ckpt"),
        "corrupt": lambda: _copy_run(run, tmp_path, corrupt=True),
    }[case]()
    with pytest.raises(SkysslError, match=expected) as info:
        load_run(path)
    assert "\n" not in str(info.value)


def test_a_config_that_does_not_fit_the_weights(run, tmp_path):
    target = _copy_run(run, tmp_path)
    config = (target / "config.yaml").read_text().replace("emb_dim: 32", "emb_dim: 16")
    (target / "config.yaml").write_text(config)
    with pytest.raises(SkysslError, match=r"does not fit the model its config\.yaml describes"):
        load_run(target)


def test_stores_of_other_bands_or_smaller_stamps_are_refused(encoder, sdss_file):
    path, _ = sdss_file
    with Store.open(path) as sdss, pytest.raises(SkysslError, match=r"holds 5 bands \(u, g, r, i, z\) but the model"):
        encoder.check_store(sdss)
    with pytest.raises(SkysslError, match="smaller than the model's 32 px view"):
        encoder.check_stamps(3, 20, 20, ("g", "r", "z"), "tiny")

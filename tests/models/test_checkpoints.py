"""Loading encoder weights from fake checkpoints in each published layout and in ours.

Every fake is built from a freshly initialised torchvision ResNet18 (with randomised BatchNorm
statistics, so buffers are checked too), wrapped the way the original code wraps it, saved with
torch.save, and loaded into a :func:`build_encoder` ResNet with different initial weights.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from skyssl.errors import SkysslError
from skyssl.models.checkpoints import load_encoder_weights
from skyssl.models.encoders import build_encoder
from skyssl.models.heads import ProjectionHead
from skyssl.models.moco import MoCo

EMB, K = 128, 16


def source_resnet(in_channels: int, small_stamp: bool, seed: int = 11) -> nn.Module:
    """A torchvision ResNet18 as the authors built it, with the MoCo v2 MLP head as ``fc``."""
    torch.manual_seed(seed)
    net = torchvision.models.resnet18(weights=None)
    net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=1 if small_stamp else 2, padding=3, bias=False)
    if small_stamp:
        net.maxpool = nn.Identity()
    net.fc = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, EMB))
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
            module.num_batches_tracked.fill_(1234)
    return net


def encoder_part(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in net.state_dict().items() if not k.startswith("fc.")}


def prefixed(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {prefix + k: v for k, v in state.items()}


def hayat_checkpoint(full: bool) -> tuple[dict, nn.Module]:
    """``main_moco.py`` under DDP: ``module.encoder_q.*``; a full one adds encoder_k, queue, queue_ptr."""
    net = source_resnet(5, small_stamp=True)
    state = prefixed(net.state_dict(), "module.encoder_q.")
    if full:
        state |= prefixed(source_resnet(5, True, seed=12).state_dict(), "module.encoder_k.")
        state |= {"module.queue": torch.randn(EMB, K), "module.queue_ptr": torch.zeros(1, dtype=torch.long)}
    optimizer = torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9).state_dict()
    return {"epoch": 101, "arch": "resnet50", "state_dict": state, "optimizer": optimizer}, net


def stein_checkpoint() -> tuple[dict, nn.Module]:
    """lightning-bolts ``Moco_v2`` ``.ckpt``: ``encoder_q.*`` with fc.0/fc.2, encoder_k, two queues."""
    net = source_resnet(3, small_stamp=False)
    state = prefixed(net.state_dict(), "encoder_q.") | prefixed(
        source_resnet(3, False, seed=12).state_dict(), "encoder_k."
    )
    for name in ("queue", "val_queue"):
        state[name] = torch.randn(EMB, K)
        state[f"{name}_ptr"] = torch.zeros(1, dtype=torch.long)
    hyper = {"base_encoder": "resnet18", "emb_dim": EMB, "num_negatives": K, "softmax_temperature": 0.2}
    checkpoint = {
        "epoch": 1499,
        "global_step": 10,
        "pytorch-lightning_version": "1.5.10",
        "state_dict": state,
        "hyper_parameters": hyper,
    }
    return checkpoint, net


def target(in_channels: int, small_stamp: bool) -> nn.Module:
    torch.manual_seed(99)
    return build_encoder("resnet18", in_channels, small_stamp=small_stamp)


def assert_arrived(encoder: nn.Module, expected: dict[str, torch.Tensor]) -> None:
    state = encoder.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


def assert_head(head: ProjectionHead, net: nn.Module) -> None:
    assert torch.equal(head[0].weight, net.fc[0].weight) and torch.equal(head[0].bias, net.fc[0].bias)
    assert torch.equal(head[2].weight, net.fc[2].weight) and torch.equal(head[2].bias, net.fc[2].bias)


@pytest.mark.parametrize("full", [False, True], ids=["pretrained-paper", "full-main-moco"])
def test_hayat_layout_loads_the_query_encoder_exactly(tmp_path: Path, full: bool) -> None:
    checkpoint, net = hayat_checkpoint(full)
    path = tmp_path / "pretrained_paper_model.pth.tar"
    torch.save(checkpoint, path)
    encoder = target(5, small_stamp=True)
    report = load_encoder_weights(path, encoder)
    assert_arrived(encoder, encoder_part(net))
    assert report.source_layout == "hayat" and report.missing == [] and report.unexpected == []
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "module.encoder_q.fc.0.weight" in report.ignored
    assert ("module.queue" in report.ignored) == full
    assert len(report.loaded) == len(encoder.state_dict())


def test_hayat_head_maps_into_a_projection_head(tmp_path: Path) -> None:
    checkpoint, net = hayat_checkpoint(full=True)
    torch.save(checkpoint, tmp_path / "ckpt.pth.tar")
    encoder, head = target(5, small_stamp=True), ProjectionHead(512, out_dim=EMB)
    report = load_encoder_weights(tmp_path / "ckpt.pth.tar", encoder, layout="hayat", head=head)
    assert_head(head, net)
    assert "head.0.weight" in report.loaded and report.missing == [] and report.unexpected == []


def test_stein_lightning_layout_loads_into_the_torchvision_stem(tmp_path: Path) -> None:
    checkpoint, net = stein_checkpoint()
    path = tmp_path / "resnet18_epoch=1499.ckpt"
    torch.save(checkpoint, path)
    encoder, head = target(3, small_stamp=False), ProjectionHead(512, out_dim=EMB)
    report = load_encoder_weights(path, encoder, head=head)
    assert report.source_layout == "stein" and report.missing == [] and report.unexpected == []
    assert_arrived(encoder, encoder_part(net))
    assert_head(head, net)
    assert {"queue", "queue_ptr", "val_queue", "val_queue_ptr"} <= set(report.ignored)
    assert not any(k.startswith("encoder_q.") for k in report.ignored)


def test_stein_checkpoint_into_a_small_stamp_encoder_warns(tmp_path: Path) -> None:
    checkpoint, _ = stein_checkpoint()
    with pytest.warns(RuntimeWarning, match="small_stamp=False"):
        load_encoder_weights(checkpoint, target(3, small_stamp=True))


@pytest.mark.parametrize("prefix", ["", "model."], ids=["bare", "lightning-attribute"])
def test_our_moco_layout_round_trips_encoder_and_head(tmp_path: Path, prefix: str) -> None:
    torch.manual_seed(5)
    moco = MoCo(build_encoder("resnet18", 4), queue_size=K, shuffle="none")
    state = prefixed(moco.state_dict(), prefix)
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "last.ckpt")
    encoder, head = target(4, small_stamp=True), ProjectionHead(512)
    report = load_encoder_weights(tmp_path / "last.ckpt", encoder, head=head)
    assert report.source_layout == "skyssl" and report.missing == [] and report.unexpected == []
    assert_arrived(encoder, moco.encoder_q.state_dict())
    assert all(
        torch.equal(a, b)
        for a, b in zip(head.state_dict().values(), moco.head_q.state_dict().values(), strict=True)
    )
    assert f"{prefix}queue.keys" in report.ignored and f"{prefix}head_k.0.weight" in report.ignored


def test_plain_state_dict_in_memory_has_no_hash_and_ignores_fc() -> None:
    net = torchvision.models.resnet18(weights=None)
    encoder = target(3, small_stamp=False)
    report = load_encoder_weights(prefixed(net.state_dict(), "module."), encoder)
    assert report.source_layout == "plain" and report.sha256 is None
    assert_arrived(encoder, encoder_part(net))
    assert report.ignored == ["module.fc.bias", "module.fc.weight"]


def test_missing_and_unexpected_keys_are_reported() -> None:
    checkpoint, _ = stein_checkpoint()
    state = dict(checkpoint["state_dict"])
    del state["encoder_q.layer4.1.bn2.running_var"]
    state["encoder_q.extra.weight"] = torch.zeros(3)
    report = load_encoder_weights({"state_dict": state}, target(3, small_stamp=False))
    assert report.missing == ["layer4.1.bn2.running_var"] and report.unexpected == ["extra.weight"]


def test_wrong_band_count_is_a_clear_error() -> None:
    checkpoint, _ = hayat_checkpoint(full=False)
    with pytest.raises(
        SkysslError, match=r"conv1\.weight: checkpoint \(64, 5, 7, 7\) vs model \(64, 3, 7, 7\)"
    ):
        load_encoder_weights(checkpoint, target(3, small_stamp=True))


def test_checkpoint_of_another_model_loads_nothing_and_fails() -> None:
    state = {"backbone.blocks.0.weight": torch.zeros(2), "backbone.blocks.0.bias": torch.zeros(2)}
    with pytest.raises(SkysslError, match="no encoder weights loaded"):
        load_encoder_weights(state, target(3, small_stamp=False))


def test_layout_argument_is_checked() -> None:
    checkpoint, _ = stein_checkpoint()
    with pytest.raises(SkysslError, match="unknown checkpoint layout"):
        load_encoder_weights(checkpoint, target(3, False), layout="bolts")
    with pytest.raises(SkysslError, match="not 'plain'"):
        load_encoder_weights(checkpoint, target(3, False), layout="plain")


def test_files_that_pickle_objects_need_trust(tmp_path: Path) -> None:
    checkpoint, net = stein_checkpoint()
    checkpoint["hyper_parameters"] = argparse.Namespace(**checkpoint["hyper_parameters"])
    path = tmp_path / "old.ckpt"
    torch.save(checkpoint, path)
    with pytest.raises(SkysslError, match="trusted=True"):
        load_encoder_weights(path, target(3, False))
    encoder = target(3, False)
    load_encoder_weights(path, encoder, trusted=True)
    assert_arrived(encoder, encoder_part(net))


def test_missing_and_non_checkpoint_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SkysslError, match="not found"):
        load_encoder_weights(tmp_path / "nope.ckpt", target(3, False))
    (tmp_path / "notes.ckpt").write_text("not a checkpoint")
    with pytest.raises(SkysslError, match="not a"):
        load_encoder_weights(tmp_path / "notes.ckpt", target(3, False))

"""MoCo on one process: a training step, key-encoder isolation, queue and EMA bookkeeping, state names."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F

from skyssl.errors import SkysslError
from skyssl.models.encoders import build_encoder
from skyssl.models.moco import MoCo
from skyssl.models.split_bn import SplitBatchNorm2d

BATCH, BANDS, SIZE_PX = 8, 2, 32


def views(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    base = torch.randn(BATCH, BANDS, SIZE_PX, SIZE_PX, generator=generator)
    return base + 0.1 * torch.randn(base.shape, generator=generator), base.flip(-1)


def moco(**kwargs) -> MoCo:
    torch.manual_seed(0)
    settings = {"queue_size": 20, "shuffle": "none"} | kwargs
    return MoCo(build_encoder("small", BANDS), **settings)


def test_state_dict_names_and_defaults() -> None:
    model = moco()
    prefixes = {key.split(".")[0] for key in model.state_dict()}
    assert prefixes == {"encoder_q", "head_q", "encoder_k", "head_k", "queue"}
    assert {"queue.keys", "queue.ptr"} <= set(model.state_dict())
    default = MoCo(build_encoder("small", BANDS), shuffle="none")
    assert (default.queue.size, default.queue.dim, default.momentum, default.temperature) == (
        65536,
        128,
        0.999,
        0.2,
    )
    assert default.head_q[0].out_features == 256 and default.out_dim == 256


def test_training_step_reaches_only_the_query_side_and_advances_the_queue() -> None:
    model = moco()
    out = model(*views())
    assert out["logits"].shape == (BATCH, 1 + 20) and out["labels"].tolist() == [0] * BATCH
    assert 0.0 <= out["acc1"].item() <= 1.0 and out["loss"].ndim == 0
    out["loss"].backward()
    assert all(p.grad is not None for p in model.encoder_q.parameters())
    assert all(p.grad is not None for p in model.head_q.parameters())
    for part in (model.encoder_k, model.head_k):
        assert all(not p.requires_grad and p.grad is None for p in part.parameters())
    assert int(model.queue.ptr) == BATCH
    model(*views(1))
    model(*views(2))
    assert int(model.queue.ptr) == (3 * BATCH) % 20


def test_queue_receives_this_steps_normalised_keys() -> None:
    model = moco(momentum=0.0)
    view_q, view_k = views()
    model(view_q, view_k)
    with torch.no_grad():
        keys = F.normalize(model.head_k(model.encoder_k(view_k)), dim=1)
    torch.testing.assert_close(model.queue.keys[:BATCH], keys)


def test_key_encoder_follows_the_momentum_rule() -> None:
    model = moco(momentum=0.75)
    optimiser = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    model(*views())["loss"].backward()
    optimiser.step()
    query = {k: v.detach().clone() for k, v in model.encoder_q.named_parameters()}
    key_before = {k: v.detach().clone() for k, v in model.encoder_k.named_parameters()}
    model(*views(1))
    for name, param in model.encoder_k.named_parameters():
        torch.testing.assert_close(param, 0.75 * key_before[name] + 0.25 * query[name])


def test_eval_forward_has_no_side_effects_and_positive_logit_is_q_dot_k() -> None:
    model = moco(shuffle="split_bn", num_splits=4)
    model(*views())  # one training step so the queue and running statistics are not initial
    model.eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    view_q, view_k = views(3)
    out = model(view_q, view_k)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    with torch.no_grad():
        q = model.project(view_q)
        k = F.normalize(model.head_k(model.encoder_k(view_k)), dim=1)
    torch.testing.assert_close(out["logits"][:, 0], (q * k).sum(1) / model.temperature)


def test_split_bn_converts_both_encoders_and_trains() -> None:
    model = moco(shuffle="split_bn", num_splits=4)
    for encoder in (model.encoder_q, model.encoder_k):
        assert any(isinstance(m, SplitBatchNorm2d) and m.num_splits == 4 for m in encoder.modules())
    out = model(*views())
    out["loss"].backward()
    assert torch.isfinite(out["loss"]) and int(model.queue.ptr) == BATCH


def test_logits_stay_float32_under_bf16_autocast() -> None:
    model = moco()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(*views())
    assert out["logits"].dtype == torch.float32 and model.queue.keys.dtype == torch.float32
    out["loss"].backward()
    assert torch.isfinite(out["loss"]) and model.encoder_q.stem[0].weight.grad is not None


def test_ddp_shuffle_on_one_process_warns_once() -> None:
    model = moco(shuffle="ddp")
    with pytest.warns(RuntimeWarning, match="split_bn"):
        model(*views())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model(*views(1))


def test_representation_is_the_encoder_output() -> None:
    model = moco().eval()
    x = views()[0]
    with torch.no_grad():
        torch.testing.assert_close(model.representation(x), model.encoder_q(x))
    assert model.representation(x).shape == (BATCH, 256)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"shuffle": "sync"}, "unknown MoCo shuffle"),
        ({"momentum": 1.2}, "momentum"),
        ({"temperature": 0.0}, "temperature"),
        ({"queue_size": 0}, "positive"),
    ],
)
def test_bad_settings_fail_at_construction(settings: dict, message: str) -> None:
    with pytest.raises(SkysslError, match=message):
        moco(**settings)


def test_encoder_without_out_dim_is_rejected() -> None:
    with pytest.raises(SkysslError, match="out_dim"):
        MoCo(torch.nn.Conv2d(2, 4, 3))

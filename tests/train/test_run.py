"""`pretrain` end to end on a tiny store: resume equivalence, crash recovery, reproducibility, model card."""

from __future__ import annotations

import shutil

import pytest
import torch

from skyssl.errors import SkysslError
from skyssl.train.config import load_config
from skyssl.train.csvlog import read_metrics
from skyssl.train.run import pretrain
from tests.train.helpers import write_config


def _state(run) -> dict:
    return torch.load(run / "last.ckpt", map_location="cpu", weights_only=False)


def _weights(checkpoint: dict) -> dict[str, torch.Tensor]:
    return {k: v for k, v in checkpoint["state_dict"].items() if "num_batches_tracked" not in k}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_store):
    """One config run twice: straight to 30, and killed after 25 then resumed from its step-20 checkpoint."""
    root = tmp_path_factory.mktemp("runs")
    config = load_config(write_config(root / "tiny.yaml"))
    straight = pretrain(config, tiny_store, root / "straight", max_steps=30, progress=False)
    crashed = pretrain(config, tiny_store, root / "crashed", max_steps=25, progress=False)
    metrics_before = read_metrics(crashed / "metrics.csv")
    # a kill between steps 20 and 25: the newest checkpoint on disk is the periodic one of step 20,
    # while metrics.csv already holds rows up to step 25
    shutil.copy(crashed / "step00000020.ckpt", crashed / "last.ckpt")
    resumed = pretrain(config, tiny_store, crashed, max_steps=30, resume=True, progress=False)
    return {"straight": straight, "resumed": resumed, "metrics_before_crash": metrics_before, "root": root}


def test_resumed_run_takes_exactly_the_uninterrupted_steps(runs):
    a, b = _state(runs["straight"]), _state(runs["resumed"])
    assert a["global_step"] == b["global_step"] == 30
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=0, atol=0, msg=name)
    momentum = b["optimizer_states"][0]["state"]
    assert momentum and all("momentum_buffer" in s for s in momentum.values())
    assert b["lr_schedulers"][0]["last_epoch"] == 30
    assert b["skyssl"]["encoder_prefix"] == "moco.encoder_q." and b["skyssl"]["train_seconds"] > 0


def test_metrics_continue_without_the_rows_written_after_the_crash(runs):
    before = [int(r["step"]) for r in runs["metrics_before_crash"] if r["train/loss"]]
    assert before == [5, 10, 15, 20, 25]
    rows = read_metrics(runs["resumed"] / "metrics.csv")
    steps = [int(r["step"]) for r in rows if r["train/loss"]]
    assert steps == [5, 10, 15, 20, 25, 30]  # the crashed run's step-25 row was rewound, then rewritten
    straight = read_metrics(runs["straight"] / "metrics.csv")
    loss = {r["step"]: r["train/loss"] for r in straight if r["train/loss"]}
    assert {r["step"]: r["train/loss"] for r in rows if r["train/loss"] and int(r["step"]) <= 20} == \
        {s: v for s, v in loss.items() if int(s) <= 20}  # same seed, same steps, same losses
    monitor = [float(r["monitor/retrieval_top1"]) for r in rows if r["monitor/retrieval_top1"]]
    assert len(monitor) >= 4 and all(0.0 <= m <= 1.0 for m in monitor)


def test_the_first_step_depends_on_the_seed_and_only_on_it(runs, tiny_store):
    root = runs["root"]

    def first_loss(name: str, seed: int, overwrite: bool = False) -> str:
        path = write_config(root / f"{name}.yaml", seed=seed, log_every_n_steps=1, monitor={"every_n_steps": 0})
        run = pretrain(load_config(path), tiny_store, root / name, max_steps=1, overwrite=overwrite, progress=False)
        return read_metrics(run / "metrics.csv")[0]["train/loss"]

    same = first_loss("seed3", 3)
    assert first_loss("seed3", 3, overwrite=True) == same  # bytes-identical rerun
    assert first_loss("seed4", 4) != same


def test_model_card_says_what_was_trained_and_how(runs, tiny_store):
    card = (runs["straight"] / "MODEL_CARD.md").read_text()
    for expected in ("# Model card: straight", "manifest SHA-256", "legacy-dr9-south", "grrrssgbjcgn",
                     "| optimizer steps | 30 |", "8 × 1 = 8", "split_bn / 2", "64 / 0.99 / 0.2",
                     "skyssl pretrain --config", str(tiny_store.resolve()), "samples/s", "CPU",
                     "wall time", "retrieval top-1"):
        assert expected in card, expected
    assert (runs["straight"] / "config.yaml").is_file() and (runs["straight"] / "augment.yaml").is_file()
    assert "spec: grrrssgbjcgn" in (runs["straight"] / "augment.yaml").read_text()
    checkpoints = sorted(p.name for p in runs["straight"].glob("*.ckpt"))
    assert checkpoints == ["last.ckpt", "step00000030.ckpt"]  # keep_checkpoints: 1, never one per step


def test_an_existing_run_dir_is_never_silently_reused(runs, tiny_store):
    config = load_config(write_config(runs["root"] / "again.yaml"))
    with pytest.raises(SkysslError, match=r"already exists; pass --resume"):
        pretrain(config, tiny_store, runs["straight"], max_steps=1, progress=False)
    with pytest.raises(SkysslError, match=r"no last\.ckpt to resume from"):
        pretrain(config, tiny_store, runs["root"] / "never", max_steps=1, resume=True, progress=False)
    changed = load_config(write_config(runs["root"] / "changed.yaml", moco={"temperature": 0.5}))
    with pytest.raises(SkysslError, match=r"differs from the run's config\.yaml in 'moco'"):
        pretrain(changed, tiny_store, runs["straight"], max_steps=40, resume=True, progress=False)
    stranger = runs["root"] / "stranger"
    stranger.mkdir()
    (stranger / "thesis.tex").write_text("precious")
    with pytest.raises(SkysslError, match="not a skyssl run dir"):
        pretrain(config, tiny_store, stranger, max_steps=1, overwrite=True, progress=False)
    assert (stranger / "thesis.tex").read_text() == "precious"

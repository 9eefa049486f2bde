"""DDP on CPU (gloo): two processes of batch 4 take the same steps as one process of batch 8.

The single-process run splits every BatchNorm into 2 interleaved sub-batches and the sampler gives
rank r the rows r, r + 2, … of each global batch, so both runs normalise the same groups; the views
are the deterministic centre crop ('cc') and keys are not permuted (shuffle 'none'), so the only
differences left are the all-reduce's summation order. The DDP run goes through the CLI in a
subprocess, because Lightning's launcher starts rank 1 by re-running the command line.
"""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from skyssl.train.config import load_config
from skyssl.train.run import pretrain
from tests.train.helpers import write_config

COMMON = {"augment": {"spec": "cc", "overrides": {"crop_px": 32}}, "monitor": {"every_n_steps": 0},
          "optim": {"lr_per_256": 3.0, "warmup_steps": 0}, "max_steps": 2, "log_every_n_steps": 1}


def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path, tiny_store):
    single_cfg = write_config(tmp_path / "single.yaml", **COMMON, batch_size=8, devices=1,
                              moco={"shuffle": "none", "bn_splits": 2})
    ddp_cfg = write_config(tmp_path / "ddp.yaml", **COMMON, batch_size=4, devices=2, strategy="ddp",
                           moco={"shuffle": "none", "bn_splits": 1})
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "skyssl.cli.main", "pretrain", "--config", str(ddp_cfg), "--data", str(tiny_store),
         "--out", str(tmp_path / "ddp"), "--accelerator", "cpu", "--json"],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    single = pretrain(load_config(single_cfg), tiny_store, tmp_path / "single", progress=False)

    a = torch.load(single / "last.ckpt", map_location="cpu", weights_only=False)
    b = torch.load(tmp_path / "ddp" / "last.ckpt", map_location="cpu", weights_only=False)
    assert a["global_step"] == b["global_step"] == 2
    params = [k for k in a["state_dict"] if "running_" not in k and "num_batches" not in k and "queue" not in k]
    assert any(k.startswith("moco.encoder_q.") for k in params)
    for name in params:
        torch.testing.assert_close(a["state_dict"][name], b["state_dict"][name], rtol=1e-4, atol=1e-5, msg=name)
    init = pretrain(load_config(single_cfg), tiny_store, tmp_path / "zero", max_steps=1, progress=False)
    first = torch.load(init / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    moved = max((first[k] - a["state_dict"][k]).abs().max().item() for k in params if "encoder_q" in k)
    assert moved > 1e-3  # the second step changed the weights: the match is not trivial

"""Two CPU processes under gloo: gathers, shuffle-BN's round trip, and a DDP MoCo step with shuffle="ddp".

The workers are spawned, so they re-import this module: it imports only the MoCo parts and the small
encoder (not torchvision) to keep start-up short.
"""

from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from skyssl.models.distributed import batch_shuffle_ddp, batch_unshuffle_ddp, concat_all_gather
from skyssl.models.moco import MoCo
from skyssl.models.smallnet import SmallResNet

WORLD, BATCH, QUEUE = 2, 4, 24


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def round_trip(rank: int) -> dict[str, torch.Tensor]:
    """Rows numbered by their global position; each rank seeds its RNG differently, so the ranks agree
    on the permutation only if rank 0's is broadcast."""
    x = (rank * BATCH + torch.arange(BATCH, dtype=torch.float32))[:, None].repeat(1, 3)
    torch.manual_seed(100 + rank)
    shuffled, idx_unshuffle = batch_shuffle_ddp(x)
    return {
        "x": x,
        "gathered": concat_all_gather(x),
        "shuffled": shuffled,
        "idx_unshuffle": idx_unshuffle,
        "restored": batch_unshuffle_ddp(shuffled, idx_unshuffle),
    }


def moco_step(rank: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = MoCo(SmallResNet(2), queue_size=QUEUE, shuffle="ddp")
    ddp = DistributedDataParallel(model)
    optimiser = torch.optim.SGD([p for p in ddp.parameters() if p.requires_grad], lr=0.1)
    generator = torch.Generator().manual_seed(rank)
    view_q, view_k = (torch.randn(BATCH, 2, 32, 32, generator=generator) for _ in range(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # shuffle-BN is active: no single-device warning
        out = ddp(view_q, view_k)
    out["loss"].backward()
    optimiser.step()
    model.eval()
    with torch.no_grad():
        eval_logits = ddp(view_q, view_k)["logits"]
        q = model.project(view_q)
        k = torch.nn.functional.normalize(model.head_k(model.encoder_k(view_k)), dim=1)
    return {
        "loss": out["loss"].detach(),
        "queue_keys": model.queue.keys.clone(),
        "queue_ptr": model.queue.ptr.clone(),
        "encoder_q": torch.cat([p.detach().flatten() for p in model.encoder_q.parameters()]),
        "encoder_k": torch.cat([p.detach().flatten() for p in model.encoder_k.parameters()]),
        "eval_positive": eval_logits[:, 0],
        "local_positive": (q * k).sum(1) / model.temperature,
    }


def worker(rank: int, port: int, out_dir: str) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        results = {"round_trip": round_trip(rank), "moco": moco_step(rank)}
        torch.save(results, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_process_gloo_shuffle_round_trip_and_moco_step(tmp_path: Path) -> None:
    mp.spawn(worker, args=(free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    trips = [r["round_trip"] for r in ranks]
    everything = torch.arange(WORLD * BATCH, dtype=torch.float32)[:, None].repeat(1, 3)

    for trip in trips:
        assert torch.equal(trip["gathered"], everything)
        assert torch.equal(trip["restored"], trip["x"])
    assert torch.equal(trips[0]["idx_unshuffle"], trips[1]["idx_unshuffle"])
    shuffled = torch.cat([t["shuffled"] for t in trips])
    assert torch.equal(shuffled[:, 0].sort().values, everything[:, 0])  # a permutation of the global batch
    assert not torch.equal(shuffled, everything)
    assert torch.equal(shuffled[trips[0]["idx_unshuffle"]], everything)

    steps = [r["moco"] for r in ranks]
    assert all(torch.isfinite(s["loss"]) for s in steps)
    assert all(int(s["queue_ptr"]) == WORLD * BATCH for s in steps)  # the global batch was enqueued
    for name in ("queue_keys", "encoder_q", "encoder_k"):
        torch.testing.assert_close(steps[0][name], steps[1][name])
    for s in steps:  # keys come back to their own queries after the cross-rank shuffle
        torch.testing.assert_close(s["eval_positive"], s["local_positive"])

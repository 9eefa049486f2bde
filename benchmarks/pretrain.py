"""MoCo v2 pretraining throughput: samples/s of a full training step, set against its FLOP count.

A "step" here is what :class:`skyssl.train.module.PretrainModule` does per batch: two augmented views
made on the training device from raw nanomaggie stamps (:class:`AugmentPipeline`), the MoCo forward
(query encoder + head, key encoder + head, InfoNCE against the queue), backward, and an SGD update —
with the config's precision, channels_last and (optionally) torch.compile. Batches are resident on the
device, so the figure is the compute ceiling of the step; the data path is timed separately:

- `read`: `StoreDataset.__getitems__` of random rows from a simulated store (what a loader worker does);
- `end_to_end` (CPU config only): `skyssl.train.run.pretrain` itself, Lightning and the loader included,
  reporting the steady samples/s it measures (the warm-up steps and monitor passes left out).

FLOPs per sample are counted, not assumed: `torch.utils.flop_counter.FlopCounterMode` over one whole
training step (matmuls and convolutions, forward and backward). MoCo costs about 4 forward passes
(query forward, query backward ≈ 2×, key forward); for the small-stamp ResNet50 that is 94.5 GFLOP per
96-px sample and 42 GFLOP per 64-px sample (performance-anchors.md §1–2). The shipped legacy-r50 config
uses torchvision's standard stem (as Stein et al.'s DR9 model), ~16× cheaper, so the GPU part times
it both as shipped and with the stride-1 stem that the anchors describe.

Runs: cpu-small always (on the CPU); legacy-r50 and sdss-r50 only when `torch.cuda.is_available()`.
Prints one JSON document.

    python benchmarks/pretrain.py                # CPU part (+ GPU part when a GPU is present)
    python benchmarks/pretrain.py --compile      # also time torch.compile'd encoders on the GPU
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from skyssl.hostinfo import machine_facts
from skyssl.sim.config import SimConfig
from skyssl.sim.driver import simulate_store
from skyssl.train.config import PretrainConfig, config_from_dict, load_config
from skyssl.train.data import RawBatch, StoreDataset
from skyssl.train.module import PretrainModule

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PEAK_BF16_DENSE_TFLOPS = {"H100 PCIe": 756.0, "H100": 989.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0}
ANCHOR_GFLOP_PER_SAMPLE = {"small_stamp_resnet50_96px": 94.5, "small_stamp_resnet50_64px": 42.0}


def machine() -> dict:
    """What the figures were measured on."""
    return machine_facts()


def peak_tflops(device_name: str) -> float | None:
    """Dense bf16 tensor-core peak of a known GPU (longest matching name first), else None."""
    for key in sorted(PEAK_BF16_DENSE_TFLOPS, key=len, reverse=True):
        if key in device_name:
            return PEAK_BF16_DENSE_TFLOPS[key]
    return None


def synthetic_batch(config: PretrainConfig, survey_name: str, batch: int, device: torch.device) -> RawBatch:
    """Stamps of the survey's size: a Gaussian galaxy on noise in nmgy, NaN conditions (→ priors)."""
    from skyssl import surveys

    survey = surveys.get(survey_name)
    size, bands = survey.stamp_size_px, survey.n_bands
    yy, xx = torch.meshgrid(torch.arange(size) - size / 2, torch.arange(size) - size / 2, indexing="ij")
    galaxy = torch.exp(-(xx**2 + yy**2) / (2 * 6.0**2))
    gen = torch.Generator().manual_seed(0)
    images = 0.5 * galaxy + 0.01 * torch.randn((batch, bands, size, size), generator=gen)
    nan = torch.full((batch, bands), float("nan"))
    tensors = (images.float(), nan[:, 0].clone(), nan, nan.clone(), torch.arange(batch))
    return RawBatch(*(t.to(device) for t in tensors))


def _autocast(config: PretrainConfig, device: torch.device):
    enabled = config.precision == "bf16-mixed"
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def _step(module: PretrainModule, optimizer: torch.optim.Optimizer, raw: RawBatch, step: int,
          config: PretrainConfig, device: torch.device) -> torch.Tensor:
    view_q, view_k = module.make_views(raw, step, 0)
    with _autocast(config, device):
        loss = module.moco(view_q, view_k)["loss"]
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss


def flop_count_per_sample(config: PretrainConfig, survey_name: str, device: torch.device) -> float:
    """FLOPs of one training step per sample, counted by FlopCounterMode on a batch of 8."""
    module = PretrainModule(config.model_dump(mode="json"), survey_name).to(device)
    optimizer = torch.optim.SGD(module.moco.parameters(), lr=0.0)
    raw = synthetic_batch(config, survey_name, 8, device)
    counter = FlopCounterMode(display=False)
    with counter:
        _step(module, optimizer, raw, 0, config, device)
    return counter.get_total_flops() / 8


def time_steps(config: PretrainConfig, survey_name: str, device: torch.device, warmup: int, steps: int) -> dict:
    """Median seconds per training step on device-resident batches, after `warmup` steps."""
    module = PretrainModule(config.model_dump(mode="json"), survey_name).to(device)
    optimizer = torch.optim.SGD([p for p in module.moco.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)
    raw = synthetic_batch(config, survey_name, config.batch_size, device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times, aug_times = [], []
    for step in range(warmup + steps):
        sync()
        start = time.perf_counter()
        _step(module, optimizer, raw, step, config, device)
        sync()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    for step in range(min(steps, 5)):  # the view making alone, to show what share of a step it is
        sync()
        start = time.perf_counter()
        module.make_views(raw, step, 0)
        sync()
        aug_times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {"batch": config.batch_size, "crop_px": module.augment.crop_px, "step_s_median": seconds,
            "step_s_min": min(times), "samples_per_s": config.batch_size / seconds,
            "views_s_median": statistics.median(aug_times), "steps_timed": steps}


def case(name: str, config: PretrainConfig, survey_name: str, device: torch.device, warmup: int, steps: int) -> dict:
    """One configuration: throughput, counted FLOPs, achieved TFLOP/s and fraction of peak."""
    result = {"case": name, "device": str(device), "encoder": config.model.encoder,
              "small_stamp": config.model.small_stamp, "precision": config.precision,
              "channels_last": config.channels_last, "compile": config.compile}
    result |= time_steps(config, survey_name, device, warmup, steps)
    flops = flop_count_per_sample(config.model_copy(update={"compile": False}), survey_name, device)
    achieved = flops * result["samples_per_s"]
    result |= {"gflop_per_sample_counted": flops / 1e9, "achieved_tflops": achieved / 1e12}
    if device.type == "cuda":
        peak = peak_tflops(torch.cuda.get_device_name(0))
        result["peak_bf16_dense_tflops"] = peak
        result["fraction_of_peak"] = achieved / (peak * 1e12) if peak else None
    return result


def read_rate(store: Path, batch: int, repeats: int = 20) -> dict:
    """Samples/s of `StoreDataset.__getitems__` on random rows (a loader worker's whole job)."""
    dataset = StoreDataset(store)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(repeats):
        rows = rng.choice(len(dataset), size=batch, replace=False).tolist()
        start = time.perf_counter()
        dataset.__getitems__(rows)
        times.append(time.perf_counter() - start)
    dataset.close()
    return {"batch": batch, "samples_per_s": batch / statistics.median(times)}


def end_to_end(config_path: Path, store: Path, steps: int, workdir: Path) -> dict:
    """`pretrain` on the store for `steps` steps: the steady samples/s it reports, Lightning included."""
    from skyssl.train.csvlog import read_metrics
    from skyssl.train.run import pretrain

    base = load_config(config_path).model_dump(mode="json")
    base["monitor"]["every_n_steps"] = 0  # the monitor's passes are excluded anyway; skip them
    config = config_from_dict(base)
    started = time.perf_counter()
    run = pretrain(config, store, workdir / "run", max_steps=steps, overwrite=True, progress=False)
    wall = time.perf_counter() - started
    card = (run / "MODEL_CARD.md").read_text()
    steady = next((ln.split("|")[2].strip() for ln in card.splitlines() if ln.startswith("| steady samples/s")), None)
    rates = [float(r["train/samples_per_s"]) for r in read_metrics(run / "metrics.csv") if r.get("train/samples_per_s")]
    return {"steps": steps, "wall_s": wall, "steady_samples_per_s": float(steady) if steady not in (None, "—") else None,
            "windowed_samples_per_s_last": rates[-1] if rates else None, "num_workers": config.num_workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per case")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--e2e-steps", type=int, default=60, help="steps of the end-to-end CPU run (0: skip)")
    parser.add_argument("--n-objects", type=int, default=1000, help="objects in the simulated store")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads on the CPU")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile'd encoders (GPU)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    report: dict = {"machine": machine(), "cpu": [], "gpu": []}
    cpu = torch.device("cpu")
    small = load_config(CONFIGS / "cpu-small.yaml")
    report["cpu"].append(case("cpu-small", small, "legacy-dr9-south", cpu, args.warmup, args.steps))
    with tempfile.TemporaryDirectory() as tmp:
        store = simulate_store(SimConfig(survey="legacy", n_objects=args.n_objects, seed=0, lens_rate=0.01,
                                         image_dtype="float16"), Path(tmp) / "store", workers=2)
        report["read"] = read_rate(store, small.batch_size)
        if args.e2e_steps:
            report["end_to_end_cpu_small"] = end_to_end(CONFIGS / "cpu-small.yaml", store, args.e2e_steps, Path(tmp))

    if torch.cuda.is_available():
        gpu = torch.device("cuda")
        legacy = load_config(CONFIGS / "legacy-r50.yaml")
        sdss = load_config(CONFIGS / "sdss-r50.yaml")
        cases = [("legacy-r50 (standard stem, as shipped)", legacy, "legacy-dr9-south"),
                 ("legacy-r50 + small_stamp (stride-1 stem, 94.5 GFLOP anchor)",
                  legacy.model_copy(update={"model": legacy.model.model_copy(update={"small_stamp": True})}),
                  "legacy-dr9-south"),
                 ("sdss-r50 (stride-1 stem, 42 GFLOP anchor)", sdss, "sdss")]
        for name, config, survey in cases:
            report["gpu"].append(case(name, config, survey, gpu, args.warmup, args.steps))
            if args.compile:
                report["gpu"].append(case(name + " + compile", config.model_copy(update={"compile": True}),
                                          survey, gpu, args.warmup + 10, args.steps))
        report["anchors_gflop_per_sample"] = ANCHOR_GFLOP_PER_SAMPLE
    else:
        report["gpu_note"] = "torch.cuda.is_available() is False: the GPU cases were not run"
    report["machine"]["load_average_after"] = list(os.getloadavg())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""`MODEL_CARD.md`: what a run trained on, how, for how long, and how to do it again.

The facts are gathered into a plain dict by the runner (:func:`store_provenance`, the config, the
trainer) and rendered here by a pure function, so the card is testable without training anything.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from skyssl.hostinfo import cpu_model_name
from skyssl.manifest import MANIFEST_NAME
from skyssl.store import Store


def store_provenance(store: Store) -> dict[str, Any]:
    """Where the data came from: path, survey, size, and a checksum of the manifest (or the file list).

    The manifest records a SHA-256 of every shard, so its own checksum pins the bytes trained on. The
    authors' HDF5 files have no manifest; hashing tens of GB for a model card would cost more than an
    epoch, so their names and sizes are recorded instead.
    """
    path = Path(store.path).resolve()
    record: dict[str, Any] = {
        "path": str(path),
        "survey": store.survey.name if store.survey else None,
        "bands": list(store.bands or ()),
        "n_objects": store.n_objects,
        "image_shape": list(store.image_shape),
        "dtype": str(store.dtype),
    }
    manifest = path / MANIFEST_NAME if path.is_dir() else None
    if manifest is not None and manifest.is_file():
        record["manifest_sha256"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    else:
        record["files"] = [f"{Path(f).name} ({os.path.getsize(f)} bytes)" for f in store.files]
    return record


def device_description(accelerator: str, world_size: int) -> str:
    """e.g. '2 × NVIDIA H100 80GB HBM3' or '1 × CPU (AMD EPYC, 2 cores)'."""
    if accelerator in ("gpu", "cuda"):
        import torch

        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "GPU"
        return f"{world_size} × {name}"
    model = cpu_model_name()
    return f"{world_size} × CPU process ({model}, {os.cpu_count()} cores on this node)"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def _table(rows: list[tuple[str, Any]]) -> list[str]:
    return ["| | |", "|---|---|", *(f"| {k} | {_fmt(v)} |" for k, v in rows)]


def render_model_card(info: dict[str, Any]) -> str:
    """Markdown for a run. `info` keys: run, data, config, augment_spec, augment, training, monitor, commands."""
    cfg, data, train = info["config"], info["data"], info["training"]
    model, moco, optim = cfg["model"], cfg["moco"], cfg["optim"]
    monitor = info.get("monitor") or {}
    checksum = data.get("manifest_sha256")
    lines = [
        f"# Model card: {Path(info['run']).name}",
        "",
        f"MoCo v2 ({model['encoder']} encoder, {'small-stamp' if model['small_stamp'] else 'torchvision'} "
        f"stem) pretrained with skyssl {info.get('skyssl_version', '')} on {data['n_objects']} "
        f"{data.get('survey') or 'unknown-survey'} cutouts. The representation is the encoder output "
        f"({info.get('representation_dim', '?')}-d, before the projection head); weights are under "
        "`moco.encoder_q.` in `last.ckpt`.",
        "",
        "## Data",
        "",
        *_table([
            ("store", f"`{data['path']}`"),
            ("survey / bands", f"{data.get('survey')} / {', '.join(data.get('bands') or [])}"),
            ("objects", data["n_objects"]),
            ("trained on / held out for the monitor", f"{info['n_train']} / {info['n_held_out']}"),
            ("stamps", f"{' × '.join(map(str, data['image_shape']))} {data['dtype']}"),
            ("manifest SHA-256" if checksum else "files", checksum or "; ".join(data.get("files", []))),
        ]),
        "",
        "## Augmentations",
        "",
        f"Spec `{info['augment_spec']}` (profile `{info['augment'].get('profile')}`), {info['crop_px']} px views; "
        "resolved fields:",
        "",
        *_table(sorted(info["augment"].items())),
        "",
        "## Hyperparameters",
        "",
        *_table([
            ("queue K / momentum m / temperature τ",
             f"{moco['queue_size']} / {moco['momentum']} / {moco['temperature']}"),
            ("shuffle / BatchNorm splits", f"{info['shuffle']} / {info['bn_splits']}"),
            ("embedding / head hidden", f"{model['emb_dim']} / {model['head_hidden_dim'] or 'encoder width'}"),
            ("batch per device × devices = global",
             f"{cfg['batch_size']} × {train['world_size']} = {train['global_batch']}"),
            ("SGD peak lr (lr_per_256 × global/256)", f"{train['peak_lr']:.4g} ({optim['lr_per_256']} per 256)"),
            ("momentum / weight decay", f"{optim['momentum']} / {optim['weight_decay']}"),
            ("schedule",
             f"{train['warmup_steps']} warm-up steps, {optim['schedule']} to step {train['horizon_steps']}"),
            ("precision / channels_last / compile",
             f"{cfg['precision']} / {cfg['channels_last']} / {cfg['compile']}"),
            ("seed", cfg["seed"]),
        ]),
        "",
        "## Training",
        "",
        *_table([
            ("optimizer steps", train["global_step"]),
            ("epochs (steps per epoch)", f"{train['epochs']:.3g} ({train['steps_per_epoch']})"),
            ("samples seen", train["global_step"] * train["global_batch"]),
            ("wall time in fit, all segments", f"{train['train_seconds']:.1f} s"),
            ("steady samples/s (this segment)", train.get("samples_per_s")),
            ("device", train["device"]),
            ("monitor retrieval top-1, untrained → final",
             f"{_fmt(monitor.get('baseline'))} → {_fmt(monitor.get('final'))} "
             f"(step {monitor.get('final_step', '—')}, {monitor.get('n_held_out', 0)} held-out objects)"),
        ]),
        "",
        "## Reproduce",
        "",
        "```bash",
        info["commands"]["reproduce"],
        "```",
        "",
        f"This run was started with `{info['commands']['ran']}`.",
        "",
    ]
    return "\n".join(lines)

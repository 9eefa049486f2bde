"""The run dir: created, refused, replaced or resumed — decided once, by the global-zero process.

Under DDP every process runs the same command (torchrun and SLURM start them all; Lightning's own
launcher re-executes the command for ranks ≥ 1), so only the process that will be global rank 0 may
create, check or delete the folder; the others find it ready. The rank is read from the environment
each launcher sets, before any process group exists.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import yaml

from skyssl.errors import SkysslError
from skyssl.train.config import PretrainConfig

CONFIG_FILE = "config.yaml"
AUGMENT_FILE = "augment.yaml"
LAST_CHECKPOINT = "last.ckpt"
MODEL_CARD = "MODEL_CARD.md"
_RUN_MARKERS = (CONFIG_FILE, LAST_CHECKPOINT, "metrics.csv", MODEL_CARD)
_RANK_VARIABLES = ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK")

RESUME_MUTABLE = frozenset({
    "num_workers", "log_every_n_steps", "checkpoint_every_n_steps", "keep_checkpoints", "compile",
    "accelerator", "devices", "num_nodes", "strategy", "max_steps", "max_epochs",
})
"""Config fields a resumed run may change: they steer the run, not what one step computes."""


def is_global_zero_from_env(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process will be global rank 0: every rank variable a launcher set is 0."""
    env = os.environ if env is None else env
    for name in _RANK_VARIABLES:
        value = env.get(name)
        if value not in (None, "") and value.strip() != "0":
            return False
    return True


def _looks_like_run_dir(path: Path) -> bool:
    return not any(path.iterdir()) or any((path / marker).exists() for marker in _RUN_MARKERS)


def prepare_run_dir(out: str | Path, resume: bool, overwrite: bool) -> Path:
    """Create, replace or check `out` for a run; raise a one-line SkysslError when it cannot be used."""
    out = Path(out)
    if resume and overwrite:
        raise SkysslError("--resume continues a run and --overwrite replaces it; pass one of them")
    if resume:
        if not (out / LAST_CHECKPOINT).is_file():
            raise SkysslError(f"{out}: no {LAST_CHECKPOINT} to resume from")
        return out
    if out.exists():
        if not out.is_dir():
            raise SkysslError(f"{out} exists and is not a folder")
        if any(out.iterdir()):
            if not overwrite:
                raise SkysslError(f"{out} already exists; pass --resume to continue it or --overwrite to replace it")
            if not _looks_like_run_dir(out):
                raise SkysslError(f"{out} is not a skyssl run dir (no config.yaml, last.ckpt or metrics.csv); "
                                  "refusing to delete it")
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def check_resumable(saved: PretrainConfig, given: PretrainConfig) -> None:
    """A resumed run must compute the same steps: only :data:`RESUME_MUTABLE` fields may differ."""
    old, new = saved.model_dump(mode="json"), given.model_dump(mode="json")
    for name in old:
        if name not in RESUME_MUTABLE and old[name] != new.get(name):
            raise SkysslError(f"--config differs from the run's {CONFIG_FILE} in '{name}'; a resumed run keeps "
                              f"its settings (only {', '.join(sorted(RESUME_MUTABLE))} may change)")


def write_start_files(run: Path, config: PretrainConfig, augment_config) -> None:
    """The resolved config and the augmentation spec, written before the first step."""
    (run / CONFIG_FILE).write_text(config.to_yaml())
    augment = {"spec": augment_config.to_spec(), **augment_config.model_dump(mode="json")}
    (run / AUGMENT_FILE).write_text(yaml.safe_dump(augment, sort_keys=False))

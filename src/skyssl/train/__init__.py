"""MoCo v2 pretraining with Lightning: config, data, module, monitor and the `pretrain` runner.

- :mod:`skyssl.train.config` — :class:`PretrainConfig` and :func:`load_config` (YAML, validated up front);
- :mod:`skyssl.train.data`, :mod:`skyssl.train.sampler`, :mod:`skyssl.train.datamodule` — raw batches
  read whole from a store, seeded per-epoch order shared across ranks, held-out monitor rows;
- :mod:`skyssl.train.module` — :class:`PretrainModule`: device-side views, MoCo step, SGD + cosine;
- :mod:`skyssl.train.monitor` — the label-free retrieval monitor;
- :mod:`skyssl.train.run` — :func:`pretrain`, the run dir, resume, DDP (torchrun / SLURM).

Importing this package loads no model code; :func:`pretrain` does.
"""

from skyssl.train.config import PretrainConfig, load_config

__all__ = ["PretrainConfig", "load_config", "pretrain"]


def __getattr__(name: str):
    if name == "pretrain":  # lazy: Lightning and the models load only when a run starts
        from skyssl.train.run import pretrain

        return pretrain
    raise AttributeError(name)

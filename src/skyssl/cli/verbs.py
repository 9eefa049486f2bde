"""Imports every verb module so that each registers its command on the app."""

from skyssl.cli import (  # noqa: F401
    anomalies,
    augment,
    convert,
    demo,
    embed,
    evaluate,
    finetune,
    index,
    info,
    morphology,
    neighbors,
    photoz,
    pretrain,
    probe,
    search,
    serve,
    sheets,
    show,
    simulate,
    umap,
)

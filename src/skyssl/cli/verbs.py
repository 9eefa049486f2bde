"""Imports every verb module so that each registers its command on the app."""

from skyssl.cli import (  # noqa: F401
    augment,
    convert,
    demo,
    embed,
    evaluate,
    index,
    info,
    neighbors,
    pretrain,
    search,
    sheets,
    show,
    simulate,
)

"""Imports every verb module so that each registers its command on the app."""

from skyssl.cli import convert, demo, info, sheets, show, simulate  # noqa: F401

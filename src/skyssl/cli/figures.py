"""Printing a verb's figures: JSON with --json, otherwise one aligned `name value` line per scalar."""

from __future__ import annotations

import json
from typing import Any


def print_figures(figures: dict[str, Any], as_json: bool) -> None:
    """The figures as indented JSON, or their scalar entries (lists and tables are left to --json)."""
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    scalars = {key: value for key, value in figures.items() if not isinstance(value, list | dict)}
    width = max((len(key) for key in scalars), default=0) + 1
    for key, value in scalars.items():
        print(f"{key:<{width}} {value}")

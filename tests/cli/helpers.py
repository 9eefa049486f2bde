"""Run the `skyssl` CLI in-process or as a subprocess and collect exit code, stdout and stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from skyssl.cli.main import main

SKYSSL = Path(sys.executable).parent / "skyssl"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """In-process: typer exits through SystemExit on success and usage errors; user errors return 2."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_subprocess(*argv: str) -> subprocess.CompletedProcess:
    """As a user runs it: the installed console script in a fresh interpreter."""
    return subprocess.run([str(SKYSSL), *map(str, argv)], capture_output=True, text=True, timeout=120)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]

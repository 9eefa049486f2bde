"""Entry point: runs the typer app and turns user errors into one line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import sys

from skyssl.cli import verbs as _verbs  # noqa: F401  (registers the verbs)
from skyssl.cli.app import app
from skyssl.errors import SkysslError

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors and --help are handled by typer, which exits by itself."""
    try:
        app(args=argv, prog_name="skyssl")
    except SkysslError as exc:
        print(f"skyssl: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SystemExit as exc:  # typer exits by itself after --help, usage errors and success
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        print("skyssl: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("SKYSSL_DEBUG"):
            raise
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        print(f"skyssl: internal error: {exc.__class__.__name__}: {first_line} "
              "(set SKYSSL_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())

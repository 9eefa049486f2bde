"""User-facing errors.

Anything a user can cause (a malformed file, a bad argument, a missing column) raises
:class:`SkysslError` with a one-line message; the CLI prints that line and exits non-zero.
Any other exception is a bug in skyssl.
"""


class SkysslError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""


class InputError(SkysslError):
    """The input data is malformed or unreadable."""


class ArtefactError(SkysslError):
    """A skyssl artefact folder (store, embeddings, index…) is incomplete or inconsistent."""

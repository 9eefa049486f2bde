"""The typer application every verb module registers on."""

import typer

app = typer.Typer(
    name="skyssl",
    help="Self-supervised representations, similarity search and rare-object mining for sky-survey cutouts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """skyssl: from survey cutouts to a searchable, minable map of the sky."""

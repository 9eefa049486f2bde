"""`skyssl search`: the objects most similar to one object, a sky position, several examples or an image."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.errors import SkysslError

TABLE_COLUMNS = ("rank", "object_id", "similarity", "ra", "dec", "mag_z", "z_phot_mean", "type")


def parse_ids(values: list[str] | None, option: str) -> list[int]:
    """Ids given as repeated options and/or comma- or space-separated lists."""
    ids: list[int] = []
    for value in values or []:
        for token in re.split(r"[,\s]+", value.strip()):
            if not token:
                continue
            try:
                ids.append(int(token))
            except ValueError:
                raise SkysslError(f"{option}: {token!r} is not an object id (an integer)") from None
    return ids


def parse_colour(colour: str | None, colour_range: tuple[float, float] | None) -> tuple[str, str, float, float] | None:
    if colour is None and colour_range is None:
        return None
    if colour is None or colour_range is None:
        raise SkysslError("--colour and --colour-range go together, e.g. --colour g-r --colour-range 0.5 1.2")
    bands = colour.split("-")
    if len(bands) != 2 or not all(bands):
        raise SkysslError(f"--colour must name two bands as BLUE-RED (e.g. g-r), not {colour!r}")
    return bands[0], bands[1], float(colour_range[0]), float(colour_range[1])


def _format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def print_table(results: list[dict]) -> None:
    columns = [c for c in TABLE_COLUMNS if any(c in r for r in results)]
    print("  ".join(columns))
    for result in results:
        print("  ".join(_format_value(result.get(c)) for c in columns))


def _search_by_image(opened, image: Path, checkpoint: Path, options: dict) -> list[dict]:
    """Embed the cutout with the run that made the index's vectors, then search with it."""
    from skyssl.embed.model import load_run
    from skyssl.embed.query import check_query_shape, check_same_checkpoint, image_embedder, load_cutout

    if options["include_query"]:
        raise SkysslError("--include-query has no meaning for an --image query (the image is not an indexed object)")
    cutout = load_cutout(image)
    check_query_shape(cutout, opened.store.image_shape, str(image))
    encoder = load_run(checkpoint, device="auto")
    encoder.check_store(opened.store)
    check_same_checkpoint(opened.embeddings.manifest.get("checkpoint"), encoder, f"the vectors of {opened.path}")
    opened.embed_image_fn = image_embedder(encoder, opened.vector_kind, opened.store.image_shape)
    return opened.search_by_image(cutout, options["k"], options["filters"],
                                  min_separation_arcsec=options["min_separation_arcsec"])


@app.command()
def search(
    index: Path = typer.Option(..., "--index", help="Index folder (from `skyssl index`)."),
    object_id: str | None = typer.Option(None, "--id", help="Query by object id."),
    radec: str | None = typer.Option(None, "--radec", help="Query by position: 'RA DEC' in degrees or sexagesimal "
                                     "('150.1 2.2', '10:00:24 +02:12:00'); the object within --tolerance-arcsec."),
    ids_positive: list[str] | None = typer.Option(None, "--ids-positive", help="Query by examples: ids (comma-"
                                                  "separated or repeated); their mean direction is searched."),
    ids_negative: list[str] | None = typer.Option(None, "--ids-negative", help="Ids whose direction is subtracted."),
    image: Path | None = typer.Option(None, "--image", help="Query by a cutout: .npy or .fits (C, H, W) in nmgy, shaped "
                                      "like the store's stamps; needs --checkpoint."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Run dir whose model made the embeddings; "
                                           "embeds the --image query."),
    k: int = typer.Option(10, "--k", help="Number of results."),
    mag_window: float | None = typer.Option(None, "--mag-window", help="Only results within ±W mag of the query."),
    mag_band: str = typer.Option("z", "--mag-band", help="Band of the magnitude window."),
    colour: str | None = typer.Option(None, "--colour", help="Colour for --colour-range, as BLUE-RED (e.g. g-r)."),
    colour_range: tuple[float, float] | None = typer.Option(None, "--colour-range", help="Colour range LO HI."),
    photoz_range: tuple[float, float] | None = typer.Option(None, "--photoz-range", help="z_phot_mean range LO HI."),
    box: tuple[float, float, float, float] | None = typer.Option(None, "--box", help="Sky box RA_MIN RA_MAX DEC_MIN "
                                                                 "DEC_MAX in degrees (RA_MIN > RA_MAX wraps)."),
    cone: tuple[float, float, float] | None = typer.Option(None, "--cone", help="Sky cone RA DEC RADIUS in degrees."),
    exclude: list[str] | None = typer.Option(None, "--exclude", help="Ids never to return (comma-separated or repeated)."),
    min_separation_arcsec: float | None = typer.Option(None, "--min-separation-arcsec", help="Drop results closer "
                                                       "than this to a better-ranked result or the query."),
    tolerance_arcsec: float = typer.Option(2.0, "--tolerance-arcsec", help="Match radius of --radec."),
    include_query: bool = typer.Option(False, "--include-query", help="Let the query objects appear in results."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, most similar first."),
) -> None:
    """Similarity search: results most similar first, with similarity, position, photometry and a viewer link."""
    given = [name for name, value in (("--id", object_id), ("--radec", radec), ("--ids-positive", ids_positive),
                                      ("--image", image)) if value]
    if len(given) != 1:
        raise SkysslError("give exactly one query: --id ID, --radec 'RA DEC', --ids-positive IDS or --image FILE"
                          + (f" (got {', '.join(given)})" if given else ""))
    if (image is None) != (checkpoint is None):
        raise SkysslError("--image and --checkpoint go together: the run's model embeds the query image")
    if ids_negative and not ids_positive:
        raise SkysslError("--ids-negative needs --ids-positive")
    if k < 1:
        raise SkysslError(f"--k must be at least 1, got {k}")
    from skyssl.search.filters import SearchFilters
    from skyssl.search.index import SearchIndex

    filters = SearchFilters(
        mag_window=mag_window, mag_band=mag_band, colour=parse_colour(colour, colour_range),
        photoz_range=tuple(photoz_range) if photoz_range else None, sky_box_deg=tuple(box) if box else None,
        cone_deg=tuple(cone) if cone else None, exclude_ids=tuple(parse_ids(exclude, "--exclude")),
    )
    options = {"k": k, "filters": filters, "include_query": include_query,
               "min_separation_arcsec": min_separation_arcsec}
    with SearchIndex.open(index) as opened:
        if image is not None:
            results = _search_by_image(opened, image, checkpoint, options)
        elif object_id is not None:
            ids = parse_ids([object_id], "--id")
            if len(ids) != 1:
                raise SkysslError(f"--id takes one object id, got {object_id!r}; use --ids-positive for several")
            results = opened.search_by_id(ids[0], **options)
        elif radec is not None:
            matched, separation = opened.resolve_coordinates(radec, tolerance_arcsec)
            if not as_json:
                print(f"query: object {matched} at {separation:.2f}\u2033 from {radec!r}", file=sys.stderr)
            results = opened.search_by_id(matched, **options)
        else:
            results = opened.search_by_ids(parse_ids(ids_positive, "--ids-positive"),
                                           parse_ids(ids_negative, "--ids-negative"), **options)
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)

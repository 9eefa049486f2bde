"""Search routes: by object id, coordinates or at random (GET), by an uploaded cutout, and by feedback.

Each accepts the same result filters and returns the same shape (JSON, or CSV with `format=csv`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from skyssl.app.export import rows_to_csv
from skyssl.app.filters import ResultFilters
from skyssl.app.schemas import MAX_K, FeedbackRequest, Int64, SearchResponse
from skyssl.app.service import Service
from skyssl.app.uploads import MAX_UPLOAD_BYTES, check_upload_size
from skyssl.errors import InputError
from skyssl.search.coords import parse_coordinates

router = APIRouter(prefix="/api")
CSV_LEAD_COLUMNS = ("rank", "object_id", "similarity", "ra", "dec")
CSV_TAIL_COLUMNS = ("grade", "viewer_url")
CSV_RESPONSE = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                      "description": "JSON results, or with format=csv the same rows as a CSV download."}}
Float = Annotated[float | None, Query(allow_inf_nan=False)]


def service_of(request: Request) -> Service:
    return request.app.state.service


def parse_id_list(text: str | None) -> tuple[int, ...]:
    """Comma- or space-separated object ids."""
    ids = []
    for token in re.split(r"[,\s]+", (text or "").strip()):
        if token:
            try:
                value = int(token)
            except ValueError:
                raise InputError(f"exclude: {token[:40]!r} is not an object id (an integer)") from None
            if not -(2**63) <= value < 2**63:
                raise InputError(f"exclude: {value} is not a 64-bit object id")
            ids.append(value)
    return tuple(ids)


def search_payload(method: str, query: dict, results: list[dict], result_format: str,
                   columns: list[str]) -> dict | Response:
    """The JSON body, or a CSV download of the same rows."""
    if result_format == "csv":
        extra = [c for c in columns if c not in CSV_LEAD_COLUMNS]
        text = rows_to_csv(results, [*CSV_LEAD_COLUMNS, *extra, *CSV_TAIL_COLUMNS])
        return Response(text, media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="skyssl-search.csv"'})
    return {"method": method, "query": query, "results": results}


@router.get("/search", response_model=SearchResponse, responses=CSV_RESPONSE)
def search(
    request: Request,
    object_id: Annotated[Int64 | None, Query(alias="id", description="Query by object id.")] = None,
    ra: Annotated[float | None, Query(ge=0, lt=360, allow_inf_nan=False, description="RA in degrees.")] = None,
    dec: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False, description="Dec in degrees.")] = None,
    coords: Annotated[str | None, Query(max_length=200, description="'RA DEC' in degrees or sexagesimal.")] = None,
    random: Annotated[bool, Query(description="Query by a random object.")] = False,
    seed: Annotated[int | None, Query(ge=0, le=2**32 - 1, description="Seed of random=true.")] = None,
    tolerance_arcsec: Annotated[float, Query(gt=0, le=3600, allow_inf_nan=False)] = 2.0,
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 24,
    mag_band: Annotated[str, Query(max_length=8)] = "r",
    mag_min: Float = None,
    mag_max: Float = None,
    zphot_min: Float = None,
    zphot_max: Float = None,
    min_sep_arcsec: Annotated[float | None, Query(ge=0, le=3600, allow_inf_nan=False)] = None,
    exclude: Annotated[str | None, Query(max_length=100_000, description="Comma-separated ids never returned.")] = None,
    result_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
):
    """Objects most similar to one object, named by id, by position, or drawn at random."""
    service = service_of(request)
    given = [name for name, present in (("id", object_id is not None), ("ra/dec", ra is not None or dec is not None),
                                        ("coords", coords is not None), ("random", random)) if present]
    if len(given) != 1:
        raise InputError("give exactly one query: id, ra and dec, coords, or random=true"
                         + (f" (got {', '.join(given)})" if given else ""))
    filters = ResultFilters(mag_band=mag_band, mag_min=mag_min, mag_max=mag_max, zphot_min=zphot_min,
                            zphot_max=zphot_max, exclude_ids=parse_id_list(exclude),
                            min_separation_arcsec=min_sep_arcsec)
    if object_id is not None:
        positions, query = service.object_query(object_id)
    elif coords is not None:
        positions, query = service.coordinate_query(parse_coordinates(coords), tolerance_arcsec)
    elif random:
        positions, query = service.random_query(seed)
    else:
        if ra is None or dec is None:
            raise InputError("a position query needs both ra and dec (degrees)")
        positions, query = service.coordinate_query(parse_coordinates(f"{ra!r} {dec!r}"), tolerance_arcsec)
    results = service.search_similar(positions, k, filters)
    return search_payload("cosine", query, results, result_format, service.result_columns)


@router.post("/search/image", response_model=SearchResponse,
             responses={413: {"description": f"Upload over {MAX_UPLOAD_BYTES // 2**20} MiB."}})
async def search_image(
    request: Request,
    file: Annotated[UploadFile, File(description=".npy or FITS cutout (bands, height, width) in nanomaggies.")],
    k: Annotated[int, Form(ge=1, le=MAX_K)] = 24,
    min_sep_arcsec: Annotated[float | None, Form(ge=0, le=3600, allow_inf_nan=False)] = None,
):
    """Objects most similar to an uploaded cutout (needs the server started with --checkpoint)."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    check_upload_size(len(data))
    service = service_of(request)
    filters = ResultFilters(min_separation_arcsec=min_sep_arcsec)
    results = await run_in_threadpool(service.search_image, data, k, filters)
    return {"method": "cosine", "query": {"object_id": None, "ra": None, "dec": None}, "results": results}


@router.post("/feedback", response_model=SearchResponse)
def feedback(request: Request, body: FeedbackRequest):
    """Rank the survey by a logistic-regression probe fitted on marked positives and negatives."""
    filters = ResultFilters(mag_band=body.mag_band, mag_min=body.mag_min, mag_max=body.mag_max,
                            zphot_min=body.zphot_min, zphot_max=body.zphot_max,
                            exclude_ids=tuple(sorted(set(body.exclude))),
                            min_separation_arcsec=body.min_sep_arcsec)
    results, query = service_of(request).search_feedback(list(body.positive_ids), list(body.negative_ids), body.k,
                                                         filters)
    return {"method": "probe", "query": query, "results": results}

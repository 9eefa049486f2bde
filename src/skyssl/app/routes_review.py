"""Review routes: object records, thumbnails, labels (post, list, export) and the candidate list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from skyssl.app.export import EXPORT_COLUMNS, graded_rows, rows_to_csv, rows_to_fits
from skyssl.app.routes_search import service_of
from skyssl.app.schemas import CandidatePage, Int64, Label, LabelIn, LabelList, ObjectRecord
from skyssl.app.thumbnails import DEFAULT_SIZE_PX, MAX_SIZE_PX, MIN_SIZE_PX

router = APIRouter(prefix="/api")
ObjectId = Annotated[Int64, Path(description="The object's id (as in the store's object_id column).")]
THUMBNAIL_CACHE_CONTROL = "public, max-age=86400"
PNG_RESPONSE = {200: {"content": {"image/png": {}}, "description": "The thumbnail."},
                304: {"description": "Not modified (If-None-Match matched the ETag)."}}


@router.get("/objects/{object_id}", response_model=ObjectRecord)
def object_record(request: Request, object_id: ObjectId):
    """The object's catalogue row, its viewer link and every label it has been given (newest first)."""
    return service_of(request).object_record(object_id)


@router.get("/objects/{object_id}/thumbnail.png", response_class=Response, responses=PNG_RESPONSE)
def thumbnail(request: Request, object_id: ObjectId,
              size: Annotated[int, Query(ge=MIN_SIZE_PX, le=MAX_SIZE_PX)] = DEFAULT_SIZE_PX,
              if_none_match: Annotated[str | None, Header(max_length=1000)] = None):
    """The stamp in the survey's display colours, north up, size × size pixels."""
    image = service_of(request).thumbnail(object_id, size)
    headers = {"ETag": image.etag, "Cache-Control": THUMBNAIL_CACHE_CONTROL}
    if if_none_match is not None and image.etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(image.png, media_type="image/png", headers=headers)


@router.post("/labels", response_model=Label, status_code=201)
def post_label(request: Request, body: LabelIn):
    """Grade an object; the label is committed to disk before the reply."""
    return service_of(request).add_label(body.object_id, body.grade, body.reviewer, body.note)


@router.get("/labels", response_model=LabelList)
def list_labels(request: Request, object_id: Annotated[Int64 | None, Query()] = None,
                reviewer: Annotated[str | None, Query(max_length=64)] = None,
                limit: Annotated[int, Query(ge=1, le=100_000)] = 1000):
    """Labels of one object and/or one reviewer (all when neither), newest first, at most `limit`."""
    reviewer = reviewer.strip() if reviewer is not None else None
    return {"labels": service_of(request).labels.labels(object_id=object_id, reviewer=reviewer, limit=limit)}


@router.get("/labels/export.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV."}})
def export_csv(request: Request):
    """Every label with its object's position: object_id, ra, dec, grade, reviewer, note, created_at."""
    service = service_of(request)
    text = rows_to_csv(graded_rows(service.index, service.labels.labels()), EXPORT_COLUMNS)
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="skyssl-labels.csv"'})


@router.get("/labels/export.fits", response_class=Response,
            responses={200: {"content": {"application/fits": {}}, "description": "FITS binary table."}})
def export_fits(request: Request):
    """The same rows as the CSV export, as a FITS binary table (text columns in UTF-8)."""
    service = service_of(request)
    data = rows_to_fits(graded_rows(service.index, service.labels.labels()))
    return Response(data, media_type="application/fits",
                    headers={"Content-Disposition": 'attachment; filename="skyssl-labels.fits"'})


@router.get("/candidates", response_model=CandidatePage)
def candidates(request: Request, page: Annotated[int, Query(ge=1, le=10**9)] = 1,
               per_page: Annotated[int, Query(ge=1, le=500)] = 50):
    """One page of the ranked candidate list given with --candidates, with current grades."""
    return service_of(request).candidates_page(page, per_page)

"""The JSON shapes of the web API, as pydantic models: they validate requests and document the OpenAPI.

Search results and object records carry the catalogue's own columns besides the fixed fields, so those
models allow extra keys. Every error body is `{"detail": "<one sentence>"}`, validation errors included.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from skyssl.app.labels_db import GRADES, MAX_NOTE_CHARS, MAX_REVIEWER_CHARS

Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Grade = Literal[GRADES]  # type: ignore[valid-type]  (subscripting with the tuple lists its members)
MAX_K = 1000
MAX_MARKED_IDS = 1000


def encodable(text: str) -> str:
    """Reject strings that cannot be stored as UTF-8 (lone surrogates from JSON escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return text


class ErrorBody(BaseModel):
    detail: str


class Health(BaseModel):
    status: Literal["ok"]
    n_objects: int
    index_kind: str
    survey: str
    bands: list[str]
    columns: list[str] = Field(description="Catalogue columns present in every search result.")
    mag_bands: list[str] = Field(description="Bands the magnitude filter accepts.")
    image_search: bool
    candidates: bool
    n_candidates: int


class QueryInfo(BaseModel):
    object_id: int | None = None
    ra: float | None = None
    dec: float | None = None
    separation_arcsec: float | None = Field(None, description="Coordinate queries: distance to the matched object.")
    positive_ids: list[int] | None = None
    negative_ids: list[int] | None = None
    n_background: int | None = Field(None, description="Feedback: random background objects used as negatives.")


class SearchResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    rank: int
    object_id: int
    similarity: float = Field(description="Cosine similarity; for feedback, the probe's probability.")
    ra: float
    dec: float
    viewer_url: str
    thumbnail_url: str
    grade: Grade | None


class SearchResponse(BaseModel):
    method: Literal["cosine", "probe"]
    query: QueryInfo
    results: list[SearchResult]


class FeedbackRequest(BaseModel):
    positive_ids: list[Int64] = Field(min_length=1, max_length=MAX_MARKED_IDS)
    negative_ids: list[Int64] = Field(default_factory=list, max_length=MAX_MARKED_IDS)
    k: int = Field(24, ge=1, le=MAX_K)
    mag_band: str = Field("r", max_length=8)
    mag_min: float | None = Field(None, allow_inf_nan=False)
    mag_max: float | None = Field(None, allow_inf_nan=False)
    zphot_min: float | None = Field(None, allow_inf_nan=False)
    zphot_max: float | None = Field(None, allow_inf_nan=False)
    min_sep_arcsec: float | None = Field(None, ge=0, le=3600, allow_inf_nan=False)
    exclude: list[Int64] = Field(default_factory=list, max_length=100_000)


class LabelIn(BaseModel):
    object_id: Int64
    grade: Grade
    reviewer: str = Field(min_length=1, max_length=MAX_REVIEWER_CHARS)
    note: str = Field("", max_length=MAX_NOTE_CHARS)

    @field_validator("reviewer")
    @classmethod
    def _reviewer(cls, value: str) -> str:
        value = encodable(value).strip()
        if not value or not value.isprintable():
            raise ValueError("reviewer must be a non-blank name of printable characters")
        return value

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        return encodable(value)


class Label(BaseModel):
    id: int
    object_id: int
    grade: Grade
    reviewer: str
    note: str
    created_at: str = Field(description="ISO 8601 UTC.")


class LabelList(BaseModel):
    labels: list[Label]


class ObjectRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    object_id: int
    ra: float
    dec: float
    viewer_url: str
    thumbnail_url: str
    labels: list[Label]


class CandidateItem(BaseModel):
    rank: int
    object_id: int
    score: float | None
    ra: float
    dec: float
    grade: Grade | None
    thumbnail_url: str
    viewer_url: str


class CandidatePage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[CandidateItem]

"""The one error body every 4xx/5xx response carries."""

from pydantic import BaseModel


class ErrorItem(BaseModel):
    code: str  # stable machine code, e.g. "id_checksum", "stale_version"
    message: str  # precise message in Chinese, shown to the clerk as is
    field: str | None = None  # dotted path of the offending field, e.g. "id_number"


class ErrorBody(BaseModel):
    detail: list[ErrorItem]
    existing_id: str | None = None  # set on 409 draft_exists

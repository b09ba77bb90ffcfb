"""RFC 9457 problem details for every error the API returns.

Each problem carries ``type``, ``title``, ``status``, ``detail`` and a stable
``code``: for a refused submission, the rule or check that refused it (for
example ``licence``, ``holder``, ``reference``, ``signature``); otherwise the
error's own code. No stack trace or internal detail leaves the server.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    CanonicalEncodingError,
    EventFormatError,
    ProofError,
    SignatureError,
    StorageError,
    TizbekError,
    UnknownKeyError,
    VerificationError,
)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://tizbek.kz/problems/"
log = logging.getLogger("tizbek.api")


class ApiError(Exception):
    """An error the API answers with a problem document."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


#: Checks whose failure means the submission conflicts with the log's current state.
_CONFLICTS = {"reference", "replay"}


def refusal(exc: TizbekError) -> JSONResponse:
    """The problem for a submission the log refused."""
    if isinstance(exc, VerificationError):
        if exc.check == "rule":
            return problem(
                422, exc.rule or "rule", "Refused by a custody rule", exc.message, seq=exc.seq
            )
        if exc.check in _CONFLICTS:
            return problem(
                409, exc.check, "Conflicts with the log; refresh and sign again", exc.message
            )
        if exc.check in ("key", "signature"):
            return problem(422, exc.check, "Signature not accepted", exc.message)
        return problem(422, exc.check, "Refused by the log", exc.message)
    if isinstance(exc, EventFormatError) and "nonce" in exc.message:
        return problem(409, "replay", "Nonce already used", exc.message)
    if isinstance(exc, (EventFormatError, CanonicalEncodingError)):
        return problem(400, exc.code, "Malformed submission", exc.message)
    if isinstance(exc, (SignatureError, UnknownKeyError)):
        return problem(422, exc.code, "Signature not accepted", exc.message)
    if isinstance(exc, ProofError):  # a well-formed request for a tree or leaf that is not there
        return problem(404, "no_such_proof", "No such proof", exc.message)
    if isinstance(exc, StorageError):
        unavailable = problem(503, exc.code, "The log is not available", exc.message)
        unavailable.headers["retry-after"] = "1"
        return unavailable
    return problem(400, exc.code, "Bad request", exc.message)


def install(app: FastAPI) -> None:
    """Make every error of ``app`` a problem document."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.title, exc.detail)

    @app.exception_handler(TizbekError)
    async def _tizbek(_: Request, exc: TizbekError) -> JSONResponse:
        return refusal(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return problem(
            400,
            "invalid_request",
            "Invalid request",
            f"{where}: {first.get('msg', 'invalid')}".strip(": "),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {
            404: ("not_found", "Not found"),
            405: ("method_not_allowed", "Method not allowed"),
        }
        code, title = titles.get(exc.status_code, ("http_error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem(exc.status_code, code, title, detail)

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        if not exc.connection_invalidated:
            return await _unexpected(_, exc)
        log.warning("the database connection was lost: %s", exc.orig)
        answer = problem(
            503,
            "storage",
            "The log is not available",
            "the connection to the database was lost; try again",
        )
        answer.headers["retry-after"] = "1"
        return answer

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(
            500, "internal", "Internal error", "the server failed to answer; the incident is logged"
        )


class Problem(BaseModel):
    """RFC 9457 problem details, with Tizbek's stable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str


def _documented(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


#: The problems any operation may answer, for the OpenAPI schema.
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("malformed request"),
    401: _documented("missing, unknown or revoked token"),
    403: _documented("the token may not use this endpoint"),
    404: _documented("no such resource, or not one you may see"),
    409: _documented("conflicts with the log's current state"),
    413: _documented("request body too large"),
    422: _documented("refused by a rule, key or signature check"),
    429: _documented("rate limited; see Retry-After"),
    500: _documented("the server failed"),
    503: _documented("the log is not available"),
}

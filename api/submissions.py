"""Submissions: signed events from collectors, transporters, recyclers and the authority.

A submission is authorised by its signature, not by a token. The body is
read whole (at most 64 KiB), parsed strictly, and handed to the sequencer;
the answer comes once the entry is durable: 201 for a new entry, 200 with the
same body for a resend of an identical submission.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import services_of
from api.fastroutes import FastRoute
from api.problems import ApiError
from ledger.canonical import parse_json
from ledger.events import HEX64_RE, ID_RE, NONCE_RE, SIG_RE, TIME_RE, TYPE_RE, Submission

router = APIRouter(prefix="/v1", tags=["submissions"])

#: The largest submission body accepted, in bytes.
MAX_SUBMISSION = 64 * 1024


class Appended(BaseModel):
    """Where the submission landed."""

    seq: int
    leaf_hash: str
    entry: dict[str, Any]


_EXAMPLE = {
    "event": {
        "type": "lot.registered",
        "log": "demo.tizbek.kz/log",
        "actor": "almaty-collect",
        "key": "<64-hex key id>",
        "at": "2026-11-23T09:15:00Z",
        "nonce": "<16-64 url-safe characters>",
        "lot": "D3M00000X",
        "category": 6,
        "waste_code": "20 01 35*",
        "hazardous": True,
        "hp_codes": ["HP14"],
        "items": 40,
        "weight_g": 182500,
        "weight_measured": True,
        "source": "household",
        "site": "Almaty, Bostandyq district",
    },
    "sig": "<base64 Ed25519 signature over JCS(event)>",
}


#: The JSON schema of a submission: the common event fields (protocol §3); each
#: event type's own fields are checked by the log, which names what is wrong.
_SCHEMA = {
    "type": "object",
    "required": ["event", "sig"],
    "additionalProperties": False,
    "properties": {
        "event": {
            "type": "object",
            "required": ["type", "log", "actor", "key", "at", "nonce"],
            "properties": {
                "type": {"type": "string", "pattern": TYPE_RE.pattern},
                "log": {"type": "string", "minLength": 1},
                "actor": {"type": "string", "pattern": ID_RE.pattern},
                "key": {"type": "string", "pattern": HEX64_RE.pattern},
                "at": {"type": "string", "pattern": TIME_RE.pattern},
                "nonce": {"type": "string", "pattern": NONCE_RE.pattern},
            },
        },
        "sig": {"type": "string", "pattern": SIG_RE.pattern},
    },
}


@router.post(
    "/events",
    response_model=Appended,
    status_code=201,
    responses={
        200: {"model": Appended, "description": "the same submission was already appended"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _SCHEMA, "example": _EXAMPLE}},
        }
    },
)
async def submit(request: Request) -> Response:
    """Append a signed event (see docs/protocol.md §3 and §11)."""
    body = await _body(request)
    submission = Submission.from_json(parse_json(body))
    appended = await services_of(request).committer.append(submission)
    entry = appended.entry
    # The entry as stored: its leaf bytes are canonical JSON already.
    answer = b'{"seq":%d,"leaf_hash":"%s","entry":%s}' % (
        entry.seq,
        entry.hash.hex().encode(),
        entry.data,
    )
    return Response(answer, status_code=201 if appended.new else 200, media_type="application/json")


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_SUBMISSION:
        raise ApiError(
            413,
            "too_large",
            "Submission too large",
            f"a submission has at most {MAX_SUBMISSION} bytes",
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_SUBMISSION:
            raise ApiError(
                413,
                "too_large",
                "Submission too large",
                f"a submission has at most {MAX_SUBMISSION} bytes",
            )
        chunks.append(chunk)
    return b"".join(chunks)


#: Submissions by the fast path (see :mod:`api.fastroutes`): the route above reads
#: the request itself, so the fast route takes every POST and answers alike.
FAST_ROUTES = (FastRoute("/v1/events", submit, method="POST"),)

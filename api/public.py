"""Public endpoints: what anyone needs to verify the log, with no token."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from api.app_types import Services
from api.deps import services, services_of
from api.fastroutes import FastRoute, integer_query, params
from ledger.storage.reader import LogReader

router = APIRouter(prefix="/v1", tags=["public"])
#: The largest seq or tree size a request may name (the largest safe JSON integer).
MAX_SEQ = 2**53 - 1
Svc = Annotated[Services, Depends(services)]


class LogInfo(BaseModel):
    """The log's identity and size."""

    origin: str
    verifier_key: str
    size: int
    authority: str


class InclusionProof(BaseModel):
    """RFC 9162 inclusion proof: sibling hashes from the leaf up, hex."""

    seq: int
    size: int
    hashes: list[str]


class ConsistencyProof(BaseModel):
    """RFC 9162 consistency proof between two tree sizes, hex."""

    first: int
    second: int
    hashes: list[str]


class CheckpointItem(BaseModel):
    """A checkpoint the log signed."""

    size: int
    note: str
    signed_at: str


@router.get("/log", response_model=LogInfo)
async def log_info(svc: Svc) -> LogInfo:
    """The log's origin, checkpoint verifier key and current size."""
    genesis = svc.reader.genesis()
    return LogInfo(
        origin=genesis.origin,
        verifier_key=str(genesis.log_key),
        size=svc.reader.size(),
        authority=genesis.authority_id,
    )


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "C2SP checkpoint note"}},
)
async def checkpoint(svc: Svc) -> Response:
    """The latest signed checkpoint, as a C2SP signed note."""
    return _checkpoint(svc.reader)


@router.get("/checkpoints", response_model=list[CheckpointItem])
async def checkpoints(
    svc: Svc,
    start: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CheckpointItem]:
    """Every checkpoint the log signed, from tree size ``start`` on."""
    return [
        CheckpointItem(size=size, note=note, signed_at=at)
        for size, note, at in svc.reader.checkpoints(start=start, limit=limit)
    ]


@router.get("/proof/inclusion", response_model=InclusionProof)
async def inclusion(
    svc: Svc,
    seq: Annotated[int, Query(ge=0, le=MAX_SEQ)],
    size: Annotated[int, Query(ge=1, le=MAX_SEQ)],
) -> Response:
    """The inclusion proof of entry ``seq`` in the tree of ``size`` entries."""
    return _inclusion(svc.reader, seq, size)


@router.get("/proof/consistency", response_model=ConsistencyProof)
async def consistency(
    svc: Svc,
    first: Annotated[int, Query(ge=1, le=MAX_SEQ)],
    second: Annotated[int, Query(ge=1, le=MAX_SEQ)],
) -> Response:
    """The consistency proof from the tree of ``first`` entries to that of ``second``."""
    return _consistency(svc.reader, first, second)


# What the routes above answer, rendered once for them and for their fast routes.


def _json(value: object) -> Response:
    """``value`` as the compact JSON FastAPI renders a response model in."""
    return Response(json.dumps(value, separators=(",", ":")), media_type="application/json")


def _checkpoint(reader: LogReader) -> Response:
    return PlainTextResponse(reader.checkpoint(), media_type="text/plain; charset=utf-8")


def _inclusion(reader: LogReader, seq: int, size: int) -> Response:
    hashes = reader.inclusion(seq=seq, size=size)
    return _json({"seq": seq, "size": size, "hashes": [h.hex() for h in hashes]})


def _consistency(reader: LogReader, first: int, second: int) -> Response:
    hashes = reader.consistency(first=first, second=second)
    return _json({"first": first, "second": second, "hashes": [h.hex() for h in hashes]})


def _reader(request: Request) -> LogReader:
    return services_of(request).reader


async def _checkpoint_fast(request: Request) -> Response:
    return _checkpoint(_reader(request))


async def _inclusion_fast(request: Request) -> Response:
    query = params(request)
    return _inclusion(_reader(request), query["seq"], query["size"])


async def _consistency_fast(request: Request) -> Response:
    query = params(request)
    return _consistency(_reader(request), query["first"], query["second"])


#: The proofs and the checkpoint, which verifiers fetch most, by the fast path
#: (see :mod:`api.fastroutes`); the routes above define and document them.
FAST_ROUTES = (
    FastRoute("/v1/checkpoint", _checkpoint_fast, method="GET"),
    FastRoute(
        "/v1/proof/inclusion",
        _inclusion_fast,
        method="GET",
        parse=integer_query({"seq": (0, MAX_SEQ), "size": (1, MAX_SEQ)}),
    ),
    FastRoute(
        "/v1/proof/consistency",
        _consistency_fast,
        method="GET",
        parse=integer_query({"first": (1, MAX_SEQ), "second": (1, MAX_SEQ)}),
    ),
)

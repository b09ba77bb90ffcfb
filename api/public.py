"""Public endpoints: what anyone needs to verify the log, with no token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from api.app_types import Services
from api.deps import services

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
async def checkpoint(svc: Svc) -> PlainTextResponse:
    """The latest signed checkpoint, as a C2SP signed note."""
    return PlainTextResponse(svc.reader.checkpoint(), media_type="text/plain; charset=utf-8")


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
) -> InclusionProof:
    """The inclusion proof of entry ``seq`` in the tree of ``size`` entries."""
    hashes = svc.reader.inclusion(seq=seq, size=size)
    return InclusionProof(seq=seq, size=size, hashes=[h.hex() for h in hashes])


@router.get("/proof/consistency", response_model=ConsistencyProof)
async def consistency(
    svc: Svc,
    first: Annotated[int, Query(ge=1, le=MAX_SEQ)],
    second: Annotated[int, Query(ge=1, le=MAX_SEQ)],
) -> ConsistencyProof:
    """The consistency proof from the tree of ``first`` entries to that of ``second``."""
    hashes = svc.reader.consistency(first=first, second=second)
    return ConsistencyProof(first=first, second=second, hashes=[h.hex() for h in hashes])

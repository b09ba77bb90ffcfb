"""Findings for inspectors: what in the custody record does not add up, and its entries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.app_types import Services
from api.auth import inspector
from api.deps import services
from ledger.events import utc_now
from ledger.insight.limits import Limits
from ledger.storage.findings import KINDS, findings, stamp
from ledger.storage.tokens import Principal

router = APIRouter(prefix="/v1", tags=["insight"])
Svc = Annotated[Services, Depends(services)]
Inspector = Annotated[Principal, Depends(inspector)]
Kind = Literal["transit_too_long", "discrepancy_overdue", "never_dispatched", "weight_loss"]


@router.get("/findings")
async def list_findings(
    svc: Svc,
    who: Inspector,
    kind: Annotated[list[Kind] | None, Query(description="only these kinds")] = None,
    at: Annotated[dt.datetime | None, Query(description="as of this time (default now)")] = None,
) -> list[dict[str, Any]]:
    """Every finding (inspectors), each with `kind`, `subject`, `detail`, `seqs`, `figures`."""
    chosen = tuple(k for k in KINDS if kind is None or k in kind)
    when = utc_now() if at is None else _utc(at)
    found = findings(svc.reader.engine, at=when, limits=Limits.from_env(), kinds=chosen)
    return [f.as_json() for f in found]


def _utc(at: dt.datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return stamp(at)

"""Inspectors' insight: findings (what does not add up) and statistics, each with its entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from api.app_types import Services
from api.auth import inspector
from api.deps import services
from api.problems import ApiError
from ledger.events import utc_now
from ledger.insight.estimates import load_estimates
from ledger.insight.limits import KINDS, Limits
from ledger.storage.findings import findings, stamp
from ledger.storage.stats import MEASURES, Scope, figure_rows, statistics
from ledger.storage.tokens import Principal

router = APIRouter(prefix="/v1", tags=["insight"])
Svc = Annotated[Services, Depends(services)]
Inspector = Annotated[Principal, Depends(inspector)]
Kind = Literal[
    "transit_too_long",
    "discrepancy_overdue",
    "never_dispatched",
    "weight_loss",
    "licence_invalid",
    "mass_balance",
    "two_places",
]


@router.get("/findings")
async def list_findings(
    svc: Svc,
    who: Inspector,
    kind: Annotated[list[Kind] | None, Query(description="only these kinds")] = None,
    at: Annotated[dt.datetime | None, Query(description="as of this time (default now)")] = None,
) -> list[dict[str, Any]]:
    """Every finding (inspectors), each with `kind`, `subject`, `detail`, `seqs`, `figures`."""
    return list_of_findings(svc, kind, at)


def list_of_findings(
    svc: Services, kind: Sequence[str] | None, at: dt.datetime | None
) -> list[dict[str, Any]]:
    """The findings of ``kind`` (every kind if None) as of ``at`` (now if None), as JSON."""
    chosen = tuple(k for k in KINDS if kind is None or k in kind)
    when = utc_now() if at is None else _utc(at)
    found = findings(svc.reader.engine, at=when, limits=Limits.from_env(), kinds=chosen)
    return [f.as_json() for f in found]


def _utc(at: dt.datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return stamp(at)


Measure = Literal["collected", "received", "processed", "recovered", "credited"]
FromDay = Annotated[
    dt.date | None, Query(alias="from", description="first reporting day (Asia/Almaty)")
]
ToDay = Annotated[dt.date | None, Query(alias="to", description="last reporting day, included")]
Region = Annotated[str | None, Query(max_length=200, description="only this region")]
Category = Annotated[int | None, Query(ge=1, le=6, description="only this WEEE category")]
Size = Annotated[
    int | None,
    Query(ge=1, le=2**62, description="as of this tree size: only entries below it"),
]


def _scope(
    start: dt.date | None,
    end: dt.date | None,
    region: str | None,
    category: int | None,
    size: int | None,
) -> Scope:
    return Scope(
        None if start is None else start.isoformat(),
        None if end is None else end.isoformat(),
        region,
        category,
        size,
    )


@router.get("/stats")
async def stats(
    svc: Svc,
    who: Inspector,
    start: FromDay = None,
    end: ToDay = None,
    region: Region = None,
    category: Category = None,
    size: Size = None,
) -> dict[str, Any]:
    """Documented kg collected, received and processed by month, year, category and region;
    recovered material; recovery and recycling rates against WEEE Annex V; EPR credit per
    producer; collection rate against `TIZBEK_GENERATED_ESTIMATES`. Every figure carries the
    `query` that lists the entries behind it (inspectors)."""
    try:
        generated = load_estimates()
    except ValueError as exc:
        raise ApiError(500, "bad_configuration", "Server misconfigured", str(exc)) from None
    scope = _scope(start, end, region, category, size)
    return statistics(svc.reader.engine, scope, generated=generated)


@router.get("/stats/entries")
async def stats_entries(
    svc: Svc,
    who: Inspector,
    measure: Annotated[Measure, Query(description="which figure: " + ", ".join(MEASURES))],
    start: FromDay = None,
    end: ToDay = None,
    region: Region = None,
    category: Category = None,
    size: Size = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    year: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
    material: Annotated[str | None, Query(max_length=32)] = None,
    producer: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[
        str | None, Query(pattern=r"^\d{1,18}\.\d{1,5}$", description="`next` of the last page")
    ] = None,
) -> dict[str, Any]:
    """The rows behind one statistics figure: `grams` (the figure, the sum of all rows),
    `count`, and a page of `rows` (each row's entry `seq`, `n`, day, organisation, lot and
    grams; fetch the entries and their proofs to check it), with `next` for the next page."""
    scope = _scope(start, end, region, category, size)
    cursor = None
    if after is not None:
        seq, n = after.split(".")
        cursor = (int(seq), int(n))
    return figure_rows(
        svc.reader.engine,
        measure,
        scope,
        after=cursor,
        month=month,
        year=year,
        material=material,
        producer=producer,
    )

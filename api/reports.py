"""Signed periodic reports for inspectors: a facility's or a region's month, JSON or PDF.

Each report carries the checkpoint it was computed at and the log's signature;
``tizbek report check`` verifies one and derives its figures again.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from api.app_types import Services
from api.auth import inspector
from api.deps import services
from api.problems import ApiError
from ledger.errors import StorageError
from ledger.insight.reports import report_pdf, sign_report
from ledger.storage.reports import facility_report, region_report
from ledger.storage.tokens import Principal

router = APIRouter(prefix="/v1/reports", tags=["insight"])
Svc = Annotated[Services, Depends(services)]
Inspector = Annotated[Principal, Depends(inspector)]
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
Format = Annotated[Literal["json", "pdf"], Query(description="json (signed) or pdf")]
DOCUMENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the signed report (JSON), or the same as an A4 PDF",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _answer(svc: Services, body: dict[str, Any], fmt: str, name: str) -> Response:
    report = sign_report(body, svc.signer)
    if fmt == "pdf":
        return Response(
            report_pdf(report),
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="{name}.pdf"'},
        )
    return JSONResponse(report)


@router.get("/facility/{org}", response_class=Response, responses=DOCUMENT)
async def facility(
    svc: Svc,
    who: Inspector,
    org: Annotated[str, Path(max_length=64)],
    month: Month,
    format: Format = "json",
) -> Response:
    """A facility's month: stock, receipts, treatment and outputs, onward transfers, gaps."""
    try:
        body = facility_report(svc.reader.engine, org, month)
    except StorageError as exc:
        raise ApiError(404, "unknown_org", "Not Found", exc.message) from None
    return _answer(svc, body, format, f"tizbek-{org}-{month}")


@router.get("/region/{region}", response_class=Response, responses=DOCUMENT)
async def region(
    svc: Svc,
    who: Inspector,
    region: Annotated[str, Path(max_length=200)],
    month: Month,
    format: Format = "json",
) -> Response:
    """A region's month: documented kg by category, recovered material, rates, EPR credit."""
    try:
        body = region_report(svc.reader.engine, region, month)
    except StorageError as exc:
        raise ApiError(409, "no_checkpoint", "Conflict", exc.message) from None
    return _answer(svc, body, format, "tizbek-region-" + month)

"""Label endpoints: one label as PNG or SVG, and printable A4 PDF sheets.

Labels are for the organisation they were issued to (and inspectors): a
member's token renders the labels of its own blocks and of the lots it is
party to. Issuing a block is a signed ``labels.issued`` event like any other
write (``POST /v1/events``, or ``tizbek labels issue``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api.app_types import Services
from api.auth import reader
from api.deps import services
from api.problems import ApiError
from ledger.errors import LotIdError
from ledger.labels import ids
from ledger.labels.content import block_labels, issued_to, label_for
from ledger.labels.render import MAX_SHEET, Label, grid, label_png, label_svg, sheet_pdf
from ledger.storage.tokens import Principal

router = APIRouter(prefix="/v1/labels", tags=["labels"])
Svc = Annotated[Services, Depends(services)]
Reader = Annotated[Principal, Depends(reader)]
Lang = Annotated[str, Query(pattern="^(kk|ru|en)$", description="Caption language")]

PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "An A4 PDF sheet of labels"}
}
IMAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/png": {}, "image/svg+xml": {}},
        "description": "One label as PNG or SVG",
    }
}


def _may_print(svc: Services, who: Principal, lot: str) -> None:
    if who.inspector:
        return
    org = issued_to(svc.reader, lot)
    doc = svc.reader.doc("lot", lot)
    if (org is not None and org["id"] == who.org) or (
        doc is not None and who.org in doc.get("parties", ())
    ):
        return
    raise ApiError(404, "not_found", "Not found", f"no label {lot} you may print")


def _label(svc: Services, who: Principal, lot: str, lang: str) -> Label:
    try:
        canonical = ids.normalise(lot)
    except LotIdError as exc:
        raise ApiError(404, "lot_id", "Not a lot id", exc.message) from None
    _may_print(svc, who, canonical)
    return label_for(svc.reader, svc.links, canonical, lang)


Layout = Annotated[Literal["3x8", "2x7"], Query(description="Label grid on A4")]


def _pdf(labels: list[Label], layout: str) -> Response:
    return Response(sheet_pdf(labels, layout=grid(layout)), media_type="application/pdf")


@router.get("/sheet", response_class=Response, responses=PDF)
async def sheet(
    svc: Svc,
    who: Reader,
    lot: Annotated[list[str], Query(min_length=1, max_length=MAX_SHEET)],
    layout: Layout = "3x8",
    lang: Lang = "ru",
) -> Response:
    """A PDF sheet of the labels ``lot`` names (repeat it: ``lot=A&lot=B``)."""
    return _pdf([_label(svc, who, one, lang) for one in lot], layout)


@router.get("/blocks/{block}", response_class=Response, responses=PDF)
async def block_sheet(
    svc: Svc,
    who: Reader,
    block: Annotated[str, Path(pattern="^[0-9A-Z]{4}$")],
    layout: Layout = "3x8",
    lang: Lang = "ru",
) -> Response:
    """A PDF sheet of every label of an issued block (at most 480)."""
    issue = svc.reader.doc("labels", block)
    if issue is None or not (who.inspector or issue["org"] == who.org):
        raise ApiError(404, "not_found", "Not found", f"no label block {block} you may print")
    if issue["count"] > MAX_SHEET:
        raise ApiError(
            413, "too_many", "Too many labels", f"block {block} holds more than {MAX_SHEET}"
        )
    return _pdf(block_labels(svc.reader, svc.links, block, lang), layout)


@router.get("/{lot}", response_class=Response, responses=IMAGE)
async def label(
    svc: Svc,
    who: Reader,
    lot: str,
    format: Annotated[str, Query(pattern="^(png|svg)$")] = "png",
    lang: Lang = "ru",
    dpi: Annotated[int, Query(ge=72, le=600)] = 300,
) -> Response:
    """One label: a blank one for an issued id, a filled one for a registered lot."""
    made = _label(svc, who, lot, lang)
    if format == "svg":
        return Response(label_svg(made), media_type="image/svg+xml")
    return Response(label_png(made, dpi=dpi), media_type="image/png")

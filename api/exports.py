"""Exports for inspectors and partners: lots and transfers as CSV or JSON Lines.

The same filters as ``GET /v1/lots``, and the same visibility: an inspector
exports everything, an organisation what it is or was party to. Rows stream
in id order, a page at a time, so an export of a whole region does not sit in
memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from api.app_types import Services
from api.auth import inspector, reader
from api.deps import services
from api.insight import Kind, list_of_findings
from ledger.custody.rules import Doc
from ledger.storage.tokens import Principal

router = APIRouter(prefix="/v1/export", tags=["exports"])
Svc = Annotated[Services, Depends(services)]
Reader = Annotated[Principal, Depends(reader)]
Inspector = Annotated[Principal, Depends(inspector)]
Format = Annotated[str, Query(pattern="^(csv|jsonl)$", description="csv or jsonl")]
PAGE = 500

#: CSV columns of a lot, and how each is read from its document.
LOT_COLUMNS: list[tuple[str, Callable[[Doc], Any]]] = [
    ("lot", lambda d: d["id"]),
    ("state", lambda d: d["state"]),
    ("holder", lambda d: d["holder"]),
    ("collector", lambda d: d["collector"]),
    ("category", lambda d: d["category"]),
    ("waste_code", lambda d: d["waste_code"]),
    ("hazardous", lambda d: d["hazardous"]),
    ("weight_g", lambda d: d["weight_g"]),
    ("items", lambda d: d["items"]),
    ("region", lambda d: d["region"]),
    ("source", lambda d: d["source"]),
    ("producer", lambda d: d.get("producer") or ""),
    ("transfer", lambda d: d.get("transfer") or ""),
    ("discrepancy", lambda d: (d.get("discrepancy") or {}).get("status", "")),
    ("created_seq", lambda d: d["created_seq"]),
    ("head_seq", lambda d: d["head_seq"]),
    ("last_at", lambda d: d["last_at"]),
]
TRANSFER_COLUMNS: list[tuple[str, Callable[[Doc], Any]]] = [
    ("transfer", lambda d: d["id"]),
    ("state", lambda d: d["state"]),
    ("sender", lambda d: d["sender"]),
    ("to", lambda d: d["to"]),
    ("carriers", lambda d: " ".join(leg["carrier"] for leg in d.get("legs", []))),
    ("vehicle", lambda d: d.get("vehicle") or ""),
    ("lots", lambda d: " ".join(sorted(d["lots"]))),
    ("declared_g", lambda d: sum(d["lots"].values())),
    ("created_seq", lambda d: d["created_seq"]),
    ("head_seq", lambda d: d["head_seq"]),
    ("last_at", lambda d: d["last_at"]),
]


def _pages(fetch: Callable[[str | None], list[Doc]]) -> Iterator[Doc]:
    after: str | None = None
    while True:
        page = fetch(after)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1]["id"]


def _stream(
    docs: Iterator[Doc], columns: list[tuple[str, Callable[[Doc], Any]]], fmt: str, name: str
) -> StreamingResponse:
    def csv_rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([column for column, _ in columns])
        for doc in docs:
            writer.writerow([read(doc) for _, read in columns])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    def json_lines() -> Iterator[str]:
        for doc in docs:
            yield json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n"

    if fmt == "csv":
        media, body = "text/csv; charset=utf-8", csv_rows()
    else:
        media, body = "application/jsonl", json_lines()
    headers = {"content-disposition": f'attachment; filename="{name}.{fmt}"'}
    return StreamingResponse(body, media_type=media, headers=headers)


EXPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "rows as CSV (with a header row) or as JSON Lines",
        "content": {"text/csv": {"schema": {"type": "string"}}, "application/jsonl": {}},
    }
}


@router.get("/lots", response_class=StreamingResponse, responses=EXPORT)
async def export_lots(
    svc: Svc,
    who: Reader,
    format: Format = "csv",
    state: str | None = None,
    holder: str | None = None,
    category: Annotated[int | None, Query(ge=1, le=6)] = None,
    region: str | None = None,
    registered_from: Annotated[dt.date | None, Query(description="first UTC day")] = None,
    registered_to: Annotated[dt.date | None, Query(description="last UTC day")] = None,
) -> StreamingResponse:
    """Every lot you may see that matches the filters of `GET /v1/lots`, as CSV or JSON
    Lines."""
    filters = {"state": state, "holder": holder, "category": category, "region": region}
    days = (
        registered_from.isoformat() if registered_from else None,
        registered_to.isoformat() if registered_to else None,
    )
    party = None if who.inspector else who.org
    docs = _pages(
        lambda after: svc.reader.lots(
            party=party, filters=filters, limit=PAGE, after=after, registered=days
        )
    )
    return _stream(docs, LOT_COLUMNS, format, "lots")


@router.get("/transfers", response_class=StreamingResponse, responses=EXPORT)
async def export_transfers(svc: Svc, who: Reader, format: Format = "csv") -> StreamingResponse:
    """Every transfer you may see, as CSV or JSON Lines."""
    party = None if who.inspector else who.org
    docs = _pages(lambda after: svc.reader.docs("transfer", party=party, limit=PAGE, after=after))
    return _stream(docs, TRANSFER_COLUMNS, format, "transfers")


FINDING_COLUMNS: list[tuple[str, Callable[[Doc], Any]]] = [
    ("kind", lambda d: d["kind"]),
    ("subject", lambda d: d["subject"]),
    ("detail", lambda d: d["detail"]),
    ("seqs", lambda d: " ".join(str(s) for s in d["seqs"])),
    ("figures", lambda d: json.dumps(d["figures"], ensure_ascii=False, sort_keys=True)),
]


@router.get("/findings", response_class=StreamingResponse, responses=EXPORT)
async def export_findings(
    svc: Svc,
    who: Inspector,
    format: Format = "csv",
    kind: Annotated[list[Kind] | None, Query(description="only these kinds")] = None,
    at: Annotated[dt.datetime | None, Query(description="as of this time (default now)")] = None,
) -> StreamingResponse:
    """Every finding (inspectors), as CSV (`kind, subject, detail, seqs, figures`) or JSON
    Lines, with the same filters as `GET /v1/findings`."""
    found = list_of_findings(svc, kind, at)
    return _stream(iter(found), FINDING_COLUMNS, format, "findings")

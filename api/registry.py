"""The key registry and the licensed recyclers, as a signing client needs them.

``GET /v1/keys/{key_id}`` tells a device whether the key it generated has been
bound (and to which organisation), so it knows whether its signatures will be
accepted; bindings are public, as every audit bundle carries them.
``GET /v1/recyclers`` lists the recyclers a dispatch of given lots would be
accepted for: active, with a licence valid on the day that covers every lot's
waste code and category.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from api.app_types import Services
from api.auth import reader
from api.deps import services
from api.problems import ApiError
from ledger.custody.licences import recyclers_for
from ledger.custody.rules import Doc
from ledger.storage.reader import LogReader
from ledger.storage.tables import KEYS
from ledger.storage.tokens import Principal

router = APIRouter(prefix="/v1", tags=["registry"])
Svc = Annotated[Services, Depends(services)]
Reader = Annotated[Principal, Depends(reader)]

#: The most lots one recycler query may name.
MAX_LOTS = 100


def key_binding(log: LogReader, key_id: str) -> dict[str, Any] | None:
    """The binding of ``key_id``: its organisation, label and the entries that bound and revoked
    it; None if the key was never bound."""
    with log.engine.connect() as conn:
        row = conn.execute(select(KEYS).where(KEYS.c.key_id == key_id)).mappings().first()
    if row is None:
        return None
    return {
        "key_id": row["key_id"],
        "org": row["org"],
        "public_key": row["public_key"],
        "label": row["label"],
        "admin": bool(row["admin"]),
        "bound_seq": int(row["bound_seq"]),
        "revoked_seq": None if row["revoked_seq"] is None else int(row["revoked_seq"]),
    }


@router.get("/keys/{key_id}")
async def key(svc: Svc, key_id: Annotated[str, Path(pattern="^[0-9a-f]{64}$")]) -> dict[str, Any]:
    """A key's binding (public): the organisation it signs for, and whether it is revoked."""
    found = key_binding(svc.reader, key_id)
    if found is None:
        raise ApiError(404, "not_found", "Not found", f"no key {key_id} is bound in this log")
    return found


def all_orgs(log: LogReader) -> Iterator[Doc]:
    """Every organisation document, a page at a time."""
    after: str | None = None
    while True:
        page = log.docs("org", limit=500, after=after)
        yield from page
        if len(page) < 500:
            return
        after = page[-1]["id"]


def today() -> str:
    """Today's UTC date, YYYY-MM-DD."""
    return dt.datetime.now(dt.UTC).date().isoformat()


def eligible_recyclers(
    log: LogReader, who: Principal, lots: list[str], day: str
) -> list[dict[str, Any]]:
    """The recyclers a dispatch of ``lots`` (lots ``who`` may see) may go to on ``day``."""
    docs = []
    for ident in lots:
        doc = log.doc("lot", ident)
        if doc is None or (not who.inspector and who.org not in doc.get("parties", ())):
            raise ApiError(404, "not_found", "Not found", f"no lot {ident} you may see")
        docs.append(doc)
    return [
        {"org": e.org, "name": e.name, "region": e.region, "licences": list(e.licences)}
        for e in recyclers_for(all_orgs(log), docs, day=day)
    ]


@router.get("/recyclers")
async def recyclers(
    svc: Svc,
    who: Reader,
    lot: Annotated[list[str] | None, Query(max_length=MAX_LOTS)] = None,
    on: Annotated[dt.date | None, Query(description="UTC day; default today")] = None,
) -> list[dict[str, Any]]:
    """Recyclers licensed on the day for every named lot's waste code and category."""
    day = on.isoformat() if on else today()
    return eligible_recyclers(svc.reader, who, list(dict.fromkeys(lot or [])), day)

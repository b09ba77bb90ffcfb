"""The collector's pages: own lots by state, register a scanned lot, dispatch held lots.

Pages are rendered from the projections with the session's token; the events
(``lot.registered``, ``transfer.dispatched``) are signed in the browser by
``api/static/app/forms.js`` and go through the offline queue.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from api.registry import all_orgs, eligible_recyclers, today
from api.web.codelists import SOURCE_TITLES, waste_code_names
from api.web.pages import PREFIX, Audience, Ctx, need_user, page, register
from api.web.translations import N_
from ledger.custody import codes
from ledger.errors import LotIdError
from ledger.labels import ids
from ledger.storage.reader import LogReader
from ledger.storage.tables import HEADS

ROLE = "collector"
BASE = f"{PREFIX}/collector"
router = APIRouter(prefix=BASE, include_in_schema=False)
audience = register(
    Audience(
        ROLE,
        N_("Collection"),
        (
            (N_("My lots"), f"{BASE}/"),
            (N_("Register a lot"), f"{BASE}/register"),
            (N_("Dispatch"), f"{BASE}/dispatch"),
        ),
    )
)

#: The order lot states are listed in.
STATES = ("held", "dispatched", "in_transit", "processed", "split", "merged", "lost")
#: The most lots the dispatch page lists.
MAX_LISTED = 500


def head_hashes(log: LogReader, lots: list[str]) -> dict[str, str]:
    """The leaf hash of the latest entry about each lot: what its next event's ``after`` is."""
    if not lots:
        return {}
    with log.engine.connect() as conn:
        rows = conn.execute(
            select(HEADS.c.subject, HEADS.c.head_hash).where(
                HEADS.c.kind == "lot", HEADS.c.subject.in_(lots)
            )
        ).all()
    return {str(subject): bytes(head).hex() for subject, head in rows}


@router.get("/", response_class=HTMLResponse)
async def lots(ctx: Ctx) -> Response:
    """The organisation's lots, grouped by state."""
    user = need_user(ctx, ROLE)
    found = ctx.svc.reader.lots(party=user.org, limit=MAX_LISTED)
    by_state: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in found:
        mine = doc["holder"] == user.org or doc.get("collector") == user.org
        if mine:
            by_state[doc["state"]].append(doc)
    groups = [(s, by_state[s]) for s in STATES if by_state.get(s)]
    return page(ctx, "collector/lots.html", groups=groups, org=user.org)


def _canonical(lot: str | None) -> str:
    if not lot:
        return ""
    try:
        return ids.normalise(lot)
    except LotIdError:
        return lot


@router.get("/register", response_class=HTMLResponse)
async def register_form(
    ctx: Ctx, lot: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """Register a lot: scan its label (or type its id), describe it, sign."""
    user = need_user(ctx, ROLE)
    producers = [
        org
        for org in all_orgs(ctx.svc.reader)
        if "producer" in org.get("roles", ()) and org.get("status") == "active"
    ]
    return page(
        ctx,
        "collector/register.html",
        lot=_canonical(lot),
        org=user.org,
        categories=sorted(codes.CATEGORIES),
        waste_codes=waste_code_names(ctx.lang),
        hp_codes=codes.HP_CODES,
        sources=sorted(codes.SOURCES),
        source_titles=SOURCE_TITLES,
        producers=producers,
    )


@router.get("/dispatch", response_class=HTMLResponse)
async def dispatch_form(
    ctx: Ctx, lot: Annotated[list[str] | None, Query(max_length=100)] = None
) -> Response:
    """Dispatch held lots: choose the lots, then a recycler licensed for all of them."""
    user = need_user(ctx, ROLE)
    held = ctx.svc.reader.lots(
        party=user.org, filters={"state": "held", "holder": user.org}, limit=MAX_LISTED
    )
    held_ids = {doc["id"] for doc in held}
    chosen = [ident for ident in dict.fromkeys(lot or []) if ident in held_ids]
    recyclers = (
        eligible_recyclers(ctx.svc.reader, user.principal, chosen, today()) if chosen else []
    )
    transporters = [
        org
        for org in all_orgs(ctx.svc.reader)
        if "transporter" in org.get("roles", ()) and org.get("status") == "active"
    ]
    return page(
        ctx,
        "collector/dispatch.html",
        held=held,
        chosen=chosen,
        heads=head_hashes(ctx.svc.reader, chosen),
        recyclers=recyclers,
        transporters=transporters,
        transfer_id=f"TR-{secrets.token_hex(4).upper()}",
        org=user.org,
    )

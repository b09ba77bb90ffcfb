"""The scan page: what anyone who scans a lot's QR label lands on.

``GET /l/{lot}`` answers a browser with a mobile-first HTML page (the page's
own script verifies the record it shows) and a client that asks for JSON
with the lot record. Typed ids are normalised (``/l/d3m0-0000-x`` redirects
to ``/l/D3M00000X``); a mistyped id is answered 404 (code ``lot_id``) saying
the check failed.
GS1 Digital Links (``/8004/{GIAI}``) redirect to the same page.

Without a token or share link only the public status shows; a bearer token
that may read the lot, or a valid ``share`` link, shows the full record.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.app_types import Services
from api.auth import principal
from api.deps import services
from api.lot_record import lot_record
from api.problems import MEDIA_TYPE, ApiError
from ledger import i18n
from ledger.errors import LotIdError
from ledger.labels import ids
from ledger.share import ShareLinkError
from ledger.storage.tokens import Principal

router = APIRouter(tags=["scan"])
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
Svc = Annotated[Services, Depends(services)]
Who = Annotated[Principal | None, Depends(principal)]
Lang = Annotated[str | None, Query(pattern="^(kk|ru|en)$", description="Page language")]
Share = Annotated[str | None, Query(max_length=64, description="A share link's token")]


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _page(request: Request, lang: str, lot: str, status: int, **context: Any) -> HTMLResponse:
    def switch_url(code: str) -> str:
        query = {k: v for k, v in request.query_params.items() if k != "lang"}
        return f"{request.url.path}?{urlencode({**query, 'lang': code})}"

    return templates.TemplateResponse(
        request,
        "scan.html",
        {
            "lang": lang,
            "lot_grouped": ids.grouped(lot) if ids.is_lot_id(lot) else lot,
            "languages": [(code, i18n.NAMES[code]) for code in i18n.LANGUAGES],
            "switch_url": switch_url,
            "t": lambda key, **values: i18n.t(lang, key, **values),
            "record": None,
            "error": None,
            **context,
        },
        status_code=status,
    )


def _full_access(
    svc: Services, who: Principal | None, share: str | None, lot: str
) -> tuple[bool, int | None]:
    """Whether the full record shows, and until when a share link allows it."""
    if share is not None:
        return True, svc.share.check(share, lot)
    if who is None:
        return False, None
    doc = svc.reader.doc("lot", lot)
    return (who.inspector or (doc is not None and who.org in doc.get("parties", ()))), None


@router.get(
    "/l/{lot}",
    response_model=None,
    responses={
        200: {
            "description": "The scan page (HTML) or the lot record (JSON)",
            "content": {"text/html": {}, "application/json": {}},
        },
        308: {"description": "The canonical form of a typed lot id"},
        **{
            status: {
                "description": f"{what}: a page for a browser, a problem for a JSON client",
                "content": {
                    "text/html": {"schema": {"type": "string"}},
                    MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}},
                },
            }
            for status, what in ((404, "not a lot id, or no such lot or label"),)
        },
    },
)
async def scan(
    request: Request, svc: Svc, who: Who, lot: str, lang: Lang = None, share: Share = None
) -> Response:
    """A lot's scan page: public status, or the full verified record with a token or share link."""
    chosen = i18n.negotiate(request.headers.get("accept-language"), lang)
    as_json = _wants_json(request)
    try:
        canonical = ids.normalise(lot)
    except LotIdError as exc:
        if as_json:
            raise ApiError(404, "lot_id", "Not a lot id", exc.message) from None
        return _page(
            request, chosen, lot, 404, error=f"{i18n.t(chosen, 'page.bad_id')}: {exc.message}"
        )
    if canonical != lot:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/l/{canonical}{query}", status_code=308)
    notice: str | None = None
    try:
        full, until = _full_access(svc, who, share, canonical)
    except ShareLinkError as exc:
        if as_json:
            raise ApiError(403, exc.code, "Share link refused", exc.message) from None
        full, until, notice = False, None, exc.message
    record = lot_record(svc.reader, canonical, full=full, lang=chosen)
    if record is None:
        detail = i18n.t(chosen, "page.not_found", lot=canonical)
        if as_json:
            raise ApiError(404, "not_found", "Not found", detail)
        return _page(request, chosen, canonical, 404, error=detail)
    if as_json:
        return JSONResponse(record)
    shared_until = (
        i18n.when(datetime.fromtimestamp(until, UTC).isoformat(), chosen) if until else None
    )
    messages = {k: v for k, v in i18n.MESSAGES[chosen].items() if k.startswith(("badge.", "fail."))}
    return _page(
        request,
        chosen,
        canonical,
        200,
        record=record,
        error=notice,
        shared_until=shared_until,
        record_json=_script_json(record),
        messages_json=_script_json(messages),
    )


@router.get("/8004/{giai}", response_class=RedirectResponse, status_code=308)
async def digital_link(request: Request, svc: Svc, giai: str) -> RedirectResponse:
    """A GS1 Digital Link with the lot's GIAI: redirects to the lot's scan page."""
    try:
        lot = svc.links.lot_of_giai(giai)
    except LotIdError as exc:
        raise ApiError(404, "not_found", "Not found", exc.message) from None
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/l/{lot}{query}", status_code=308)

"""The inspector's pages: a dashboard of the national figures, search, a lot's timeline, the audit.

Inspectors read everything, so these pages need an inspector token (the
authority's, or one made with ``tizbek token create --role inspector``). The
dashboard draws its charts from :func:`ledger.storage.stats.statistics`, lists
transfers in transit too long (:func:`ledger.storage.findings.findings`) and
open discrepancies (the ``lots`` projection), and balances each recycler's
current and previous month (:func:`ledger.storage.reports.facility_report`,
flagged by the ``mass_balance`` findings). The audit runs in the server
(:mod:`api.web.audits`); the page polls its progress.

The dashboard, search and lot pages read many rows, so they are plain
functions, which FastAPI runs in its thread pool, off the event loop.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Any

from babel.dates import format_date, format_skeleton
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select

from api.problems import ApiError
from api.registry import all_orgs
from api.web import translations
from api.web.audits import AuditRun, Audits
from api.web.charts import COLOURS, Row, Series, bar_chart
from api.web.codelists import ROLE_TITLES
from api.web.pages import PREFIX, Audience, Context, Ctx, RoleRequired, need_user, page, register
from api.web.session import User, same_origin
from api.web.translations import N_
from ledger import i18n as words
from ledger.errors import LotIdError, StorageError
from ledger.insight.flows import REPORTING_ZONE
from ledger.insight.limits import Limits
from ledger.labels import ids
from ledger.storage.findings import findings
from ledger.storage.reports import facility_report
from ledger.storage.stats import Scope, statistics
from ledger.storage.tables import LOTS

ROLE = "inspector"
BASE = f"{PREFIX}/inspector"
router = APIRouter(prefix=BASE, include_in_schema=False)
audience = register(
    Audience(
        ROLE,
        N_("Inspection"),
        (
            (N_("Dashboard"), f"{BASE}/"),
            (N_("Search"), f"{BASE}/search"),
            (N_("Audit"), f"{BASE}/audit"),
        ),
    )
)

#: How many months the charts cover, this one included.
MONTHS = 12
#: The most rows a list on these pages shows.
MAX_LISTED = 200
#: The most lots listed under an organisation or a transfer in search results.
MAX_LOTS = 50

_SERIES = {
    "collected": N_("Collected"),
    "received": N_("Received by recyclers"),
    "processed": N_("Processed"),
}


#: Transfer states that lots do not share (the others are named as lot states are).
TRANSFER_STATES = {"received": N_("Received"), "refused": N_("Refused")}


def transfer_state(state: str, lang: str) -> str:
    """A transfer's state, in ``lang``."""
    if state in TRANSFER_STATES:
        return str(translations.gettext_for(lang)(TRANSFER_STATES[state]))
    key = f"state.{state}"
    return words.t(lang, key) if key in words.MESSAGES[lang] else state


def need_inspector(ctx: Context) -> User:
    """The signed-in inspector: the role, and a token that reads everything."""
    user = need_user(ctx, ROLE)
    if not user.principal.inspector:
        raise RoleRequired(ROLE)
    return user


def reporting_today() -> dt.date:
    """Today in the reporting zone (Asia/Almaty), whose months the figures use."""
    return dt.datetime.now(REPORTING_ZONE).date()


def month_before(month: str) -> str:
    """The month before ``YYYY-MM``."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def month_name(month: str, lang: str) -> str:
    """``2026-11`` as ``lang`` names the month and year (``November 2026`` in English)."""
    first = dt.date(int(month[:4]), int(month[5:7]), 1)
    return str(format_skeleton("yMMMM", first, locale=lang))


def _series(lang: str, keys: tuple[str, ...]) -> list[Series]:
    gettext = translations.gettext_for(lang)
    return [Series(k, gettext(_SERIES[k]), COLOURS[i]) for i, k in enumerate(keys)]


def charts(ctx: Context) -> dict[str, Any]:
    """The two charts and the rows of their tables: by month and category, and by region."""
    lang = ctx.lang
    gettext = translations.gettext_for(lang)
    today = reporting_today()
    first = today.replace(day=1)
    for _ in range(MONTHS - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    stats = statistics(ctx.svc.reader.engine, Scope(start=first.isoformat()))
    cells: dict[tuple[str, int], dict[str, int]] = {}
    regions: dict[str, dict[str, int]] = {}
    for row in stats["months"]:
        cell = cells.setdefault((row["month"], row["category"]), {})
        region = regions.setdefault(row["region"] or gettext("No region"), {})
        for measure in _SERIES:
            grams = row[measure]["grams"] if measure in row else 0
            cell[measure] = cell.get(measure, 0) + grams
            region[measure] = region.get(measure, 0) + grams
    by_month = [
        Row(
            month_name(month, lang),
            {k: v for k, v in values.items() if k != "received"},
            {"month": month, "category": str(category)},
            note=f"{category} {words.t(lang, f'category.{category}')}",
        )
        for (month, category), values in sorted(cells.items())
        if values.get("collected") or values.get("processed")
    ]
    by_region = [Row(name, values, {"region": name}) for name, values in sorted(regions.items())]
    figure = lambda grams: translations.weight(grams, lang)  # noqa: E731
    since = str(format_date(first, "long", locale=lang))
    return {
        "since": since,
        "by_month": by_month,
        "by_region": by_region,
        "month_chart": bar_chart(
            "chart-months",
            title=gettext("Collected and processed, by month and category"),
            desc=gettext(
                "Kilograms of e-waste collected and processed each month since %(since)s, "
                "for each WEEE category, as documented in the log."
            )
            % {"since": since},
            rows=by_month,
            series=_series(lang, ("collected", "processed")),
            figure=figure,
        ),
        "region_chart": bar_chart(
            "chart-regions",
            title=gettext("Collected, received and processed, by region"),
            desc=gettext(
                "Kilograms collected in each region and received and processed by the "
                "recyclers of each region since %(since)s."
            )
            % {"since": since},
            rows=by_region,
            series=_series(lang, ("collected", "received", "processed")),
            figure=figure,
        ),
        "month_series": _series(lang, ("collected", "processed")),
        "region_series": _series(lang, ("collected", "received", "processed")),
    }


def open_discrepancies(ctx: Context) -> tuple[int, list[dict[str, Any]]]:
    """How many lots have an open discrepancy, and the first of them by deadline."""
    reader = ctx.svc.reader
    with reader.engine.connect() as conn:
        count = int(
            conn.execute(
                select(func.count()).select_from(LOTS).where(LOTS.c.discrepancy_status == "open")
            ).scalar_one()
        )
    docs = reader.lots(filters={"discrepancy_status": "open"}, limit=MAX_LISTED)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    found = []
    for doc in docs:
        d = doc["discrepancy"]
        declared, measured = int(d["declared_g"]), int(d["measured_g"])
        found.append(
            {
                "lot": doc["id"],
                "holder": doc["holder"],
                "transfer": d["transfer"],
                "declared_g": declared,
                "measured_g": measured,
                "percent": round(100 * (measured - declared) / declared, 1) if declared else None,
                "deadline": d["deadline"],
                "overdue": d["deadline"] < today,
                "opened_seq": d["opened_seq"],
            }
        )
    found.sort(key=lambda item: (item["deadline"], item["lot"]))
    return count, found


def facility_balances(ctx: Context, at: str, limits: Limits) -> list[dict[str, Any]]:
    """Each recycler's balance of this month and the last, at the latest signed checkpoint."""
    engine = ctx.svc.reader.engine
    gaps = {
        f.subject: f.figures
        for f in findings(engine, at=at, limits=limits, kinds=("mass_balance",))
    }
    this = reporting_today().isoformat()[:7]
    months = (month_before(this), this)
    recyclers = [o for o in all_orgs(ctx.svc.reader) if "recycler" in o.get("roles", ())]
    rows = []
    for org in recyclers:
        for month in months:
            try:
                report = facility_report(engine, org["id"], month)
            except StorageError:  # no signed checkpoint yet
                return []
            rows.append(
                {
                    "org": org["id"],
                    "name": org.get("name", org["id"]),
                    "month": month,
                    "size": report["checkpoint"]["size"],
                    "figures": report["figures"],
                    "gap": gaps.get(f"{org['id']}:{month}"),
                }
            )
    return rows


@router.get("/", response_class=HTMLResponse)
def dashboard(ctx: Ctx) -> Response:
    """The national figures in charts, what is overdue or open, and each recycler's balance."""
    need_inspector(ctx)
    at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    limits = Limits.from_env()
    transit = findings(ctx.svc.reader.engine, at=at, limits=limits, kinds=("transit_too_long",))
    count, discrepancies = open_discrepancies(ctx)
    return page(
        ctx,
        "inspector/dashboard.html",
        **charts(ctx),
        transit=transit[:MAX_LISTED],
        transit_count=len(transit),
        transit_days=limits.transit_days,
        discrepancies=discrepancies,
        discrepancy_count=count,
        discrepancy_percent=ctx.svc.reader.genesis().rules.discrepancy_percent,
        balances=facility_balances(ctx, at, limits),
        mass_balance_percent=limits.mass_balance_percent,
        month_name=lambda month: month_name(month, ctx.lang),
    )


def search_everything(ctx: Context, query: str) -> dict[str, list[dict[str, Any]]]:
    """Lots, transfers and organisations that ``query`` names (an id, or part of a name)."""
    reader = ctx.svc.reader
    found: dict[str, list[dict[str, Any]]] = {"lots": [], "transfers": [], "orgs": []}
    text = query.strip()
    if not text:
        return found
    try:
        lot = reader.doc("lot", ids.normalise(text))
    except LotIdError:
        lot = reader.doc("lot", text)
    if lot is not None:
        found["lots"].append(lot)
    for ident in dict.fromkeys((text, text.upper())):
        transfer = reader.doc("transfer", ident)
        if transfer is not None:
            found["transfers"].append(transfer)
            break
    needle = text.casefold()
    for org in all_orgs(reader):
        if needle in org["id"].casefold() or needle in str(org.get("name", "")).casefold():
            org = dict(org, lots=reader.lots(party=org["id"], limit=MAX_LOTS))
            found["orgs"].append(org)
    return found


@router.get("/search", response_class=HTMLResponse)
def search(ctx: Ctx, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """One box: a lot id (as printed or typed), a transfer id, an organisation's id or name."""
    need_inspector(ctx)
    found = search_everything(ctx, q)
    return page(
        ctx,
        "inspector/search.html",
        q=q,
        found=found,
        anything=any(found.values()),
        limit=MAX_LOTS,
        role_titles=ROLE_TITLES,
        transfer_state=lambda state: transfer_state(state, ctx.lang),
    )


def event_title(lang: str, event: dict[str, Any]) -> str:
    """What an entry records, in ``lang``: ``Received by karaganda-recycling``."""
    key = f"event.{event.get('type')}"
    if key not in words.MESSAGES[lang]:
        return words.t(lang, "event.other", type=event.get("type"), actor=event.get("actor"))
    return words.t(lang, key, actor=event.get("actor"))


@router.get("/lot/{lot}", response_class=HTMLResponse)
def lot_page(ctx: Ctx, lot: str) -> Response:
    """A lot's facts and its timeline, each entry with its seq, and its scan page to verify."""
    need_inspector(ctx)
    try:
        ident = ids.normalise(lot)
    except LotIdError:
        ident = lot
    doc = ctx.svc.reader.doc("lot", ident)
    if doc is None:
        raise ApiError(404, "not_found", "Not found", f"no lot {lot}")
    timeline = []
    for seq in doc["history"]:
        entry = ctx.svc.reader.entry(int(seq))
        if entry is not None:
            timeline.append(
                {
                    "seq": entry.seq,
                    "type": entry.event.get("type"),
                    "title": event_title(ctx.lang, entry.event),
                    "at": entry.event.get("at"),
                    "transfer": entry.event.get("transfer"),
                }
            )
    share = ctx.svc.share.make(doc["id"], minutes=30)
    return page(
        ctx,
        "inspector/lot.html",
        lot=doc,
        timeline=timeline,
        scan_url=f"/l/{doc['id']}?share={share}",
    )


_AUDITS_LOCK = threading.Lock()


def audits_of(request: Request) -> Audits:
    """This server's audits (one per app, so one per process)."""
    state = request.app.state
    with _AUDITS_LOCK:
        if getattr(state, "inspector_audits", None) is None:
            state.inspector_audits = Audits()
        found: Audits = state.inspector_audits
    return found


def run_json(run: AuditRun | None, lang: str) -> dict[str, Any]:
    """An audit as the page reads it: its figures, and the same written for ``lang``."""
    if run is None:
        return {"state": "none"}
    found = run.as_json()
    counts = ("checked", "total", "entries", "nodes", "checkpoints")
    written = {k: translations.number(found[k], lang) for k in counts if found[k] is not None}
    if run.checkpoint is not None:
        written["size"] = translations.number(run.checkpoint["size"], lang)
    written["started"] = translations.when(run.started, lang)
    return {**found, "text": written}


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(ctx: Ctx) -> Response:
    """The full audit of the stored log: start it, watch it, read its outcome."""
    need_inspector(ctx)
    run = audits_of(ctx.request).current()
    return page(ctx, "inspector/audit.html", run=run_json(run, ctx.lang))


@router.post("/audit")
async def start_audit(ctx: Ctx, request: Request) -> Response:
    """Start the audit unless one runs; answer with the running one (JSON, or back to the page)."""
    same_origin(request)
    need_inspector(ctx)
    run, started = audits_of(request).start(ctx.svc.reader.engine)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({**run_json(run, ctx.lang), "started_now": started}, status_code=202)
    return RedirectResponse(f"{BASE}/audit", status_code=303)


@router.get("/audit/progress")
async def audit_progress(ctx: Ctx) -> JSONResponse:
    """How far the audit is, and once it is done, what it found (``state: none`` before one)."""
    need_inspector(ctx)
    run = audits_of(ctx.request).current()
    return JSONResponse(run_json(run, ctx.lang), headers={"cache-control": "no-store"})

"""The recycler's pages: incoming transfers and their receipt, discrepancies, treatment, and
the certificate of recycling of a treated lot.

The receipt (``transfer.received``) and the treatment (``lot.processed``) are
signed in the browser by ``api/static/app/forms.js`` and go through the
outbox; the certificate is a PDF rendered here by
:mod:`ledger.labels.certificate` from the log's entries and its latest signed
checkpoint.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.problems import ApiError
from api.registry import today
from api.web import custody, treatment
from api.web.pages import PREFIX, Audience, Ctx, need_user, page, register
from api.web.translations import N_, number, weight, when
from ledger import i18n
from ledger.checkpoint import verify_checkpoint
from ledger.custody.licences import covering_licence
from ledger.custody.rules import Doc
from ledger.entries import Entry
from ledger.labels.certificate import Certificate, Fraction, certificate_pdf
from ledger.storage.reader import LogReader

ROLE = "recycler"
BASE = f"{PREFIX}/recycler"
router = APIRouter(prefix=BASE, include_in_schema=False)
audience = register(
    Audience(
        ROLE,
        N_("Recycling"),
        (
            (N_("Incoming"), f"{BASE}/"),
            (N_("Discrepancies"), f"{BASE}/discrepancies"),
            (N_("Treatment"), f"{BASE}/lots"),
        ),
    )
)


@router.get("/", response_class=HTMLResponse)
async def incoming(ctx: Ctx, lot: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """Transfers on their way here; a scanned lot opens its receipt (or its treatment)."""
    user = need_user(ctx, ROLE)
    reader = ctx.svc.reader
    wanted = custody.lot_id(lot)
    problem = None
    if wanted:
        # A lot on its way here is seen through its transfer; one held here, directly.
        found = reader.doc("lot", wanted) or {}
        ident = found.get("transfer")
        transfer = reader.doc("transfer", ident) if ident else None
        if transfer is not None and transfer["to"] == user.org:
            return RedirectResponse(f"{BASE}/receive?transfer={quote(transfer['id'])}", 303)
        if found.get("state") == "held" and found.get("holder") == user.org:
            return RedirectResponse(f"{BASE}/process?lot={quote(wanted)}", 303)
        problem = wanted
    names = custody.org_names(reader)
    transfers = [
        custody.describe(t, names) for t in custody.open_transfers(reader, destination=user.org)
    ]
    return page(ctx, "recycler/incoming.html", transfers=transfers, lot=wanted, problem=problem)


def _own_transfer(reader: LogReader, org: str, ident: str) -> Doc | None:
    found = reader.doc("transfer", ident)
    return found if found is not None and found["to"] == org else None


@router.get("/receive", response_class=HTMLResponse)
async def receive(ctx: Ctx, transfer: Annotated[str, Query(max_length=64)]) -> Response:
    """The receipt of one transfer: every lot on the way, weighed, accepted or refused."""
    user = need_user(ctx, ROLE)
    reader = ctx.svc.reader
    found = _own_transfer(reader, user.org, transfer)
    names = custody.org_names(reader)
    doc = custody.describe(found, names) if found is not None else None
    lots = custody.lots_on_the_way(reader, found) if found is not None else []
    ready = doc is not None and doc["state"] in custody.OPEN and doc["next_carrier"] is None
    return page(
        ctx,
        "recycler/receive.html",
        status=200 if doc is not None else 404,
        transfer=doc,
        asked=transfer,
        lots=lots,
        ready=ready,
        lot_heads=custody.heads(reader, "lot", [d["id"] for d in lots]),
        head=custody.heads(reader, "transfer", [transfer]).get(transfer, ""),
        percent=reader.genesis().rules.discrepancy_percent,
    )


def _days_left(deadline: str) -> int:
    return (dt.date.fromisoformat(deadline[:10]) - dt.date.fromisoformat(today())).days


@router.get("/discrepancies", response_class=HTMLResponse)
async def discrepancies(ctx: Ctx) -> Response:
    """Discrepancies on lots this recycler took part in: open ones first, by deadline."""
    user = need_user(ctx, ROLE)
    found: list[tuple[Doc, dict[str, Any]]] = []
    for status in ("open", "resolved"):
        docs = ctx.svc.reader.lots(
            party=user.org, filters={"discrepancy_status": status}, limit=custody.MAX_LISTED
        )
        ordered = sorted(docs, key=lambda d: (d["discrepancy"]["deadline"], d["id"]))
        for doc in ordered:
            d = dict(doc["discrepancy"])
            declared = int(d["declared_g"])
            off = round((int(d["measured_g"]) - declared) * 100 / declared, 1)
            d["difference"] = ("+" if off > 0 else "") + number(off, ctx.lang)
            d["days_left"] = _days_left(d["deadline"])
            found.append((doc, d))
    return page(ctx, "recycler/discrepancies.html", found=found)


@router.get("/lots", response_class=HTMLResponse)
async def lots(ctx: Ctx) -> Response:
    """Lots held here, waiting for treatment, and those treated here, with their certificates."""
    user = need_user(ctx, ROLE)
    reader = ctx.svc.reader
    held = reader.lots(filters={"state": "held", "holder": user.org}, limit=custody.MAX_LISTED)
    treated = [
        d
        for d in reader.lots(
            filters={"state": "processed", "holder": user.org}, limit=custody.MAX_LISTED
        )
        if d.get("processed_by") == user.org
    ]
    return page(ctx, "recycler/lots.html", held=held, treated=treated)


def operations_for(org: Doc, lot: Doc, on: str) -> list[str]:
    """The operations a licence of ``org`` valid ``on`` that day allows on ``lot``."""
    offered = {op for lic in org.get("licences", {}).values() for op in lic.get("operations", ())}
    allowed = [
        op
        for op in offered
        if covering_licence(
            org, day=on, waste_code=lot["waste_code"], category=lot["category"], operation=op
        )
        is not None
    ]
    return sorted(allowed, key=lambda op: (op[0] != "R", op[0], int(op[1:])))


@router.get("/process", response_class=HTMLResponse)
async def process(ctx: Ctx, lot: Annotated[str, Query(max_length=64)]) -> Response:
    """Record the treatment of a held lot: the operation and its output fractions."""
    user = need_user(ctx, ROLE)
    reader = ctx.svc.reader
    ident = custody.lot_id(lot)
    doc = reader.doc("lot", ident)
    if doc is None or doc["holder"] != user.org or doc["state"] != "held":
        return page(ctx, "recycler/process.html", status=404, doc=None, asked=ident)
    org = reader.doc("org", user.org) or {}
    return page(
        ctx,
        "recycler/process.html",
        doc=doc,
        asked=ident,
        head=custody.heads(reader, "lot", [ident]).get(ident, ""),
        operations=[
            (op, treatment.operation_name(op, ctx.lang)) for op in operations_for(org, doc, today())
        ],
        materials=treatment.material_names(ctx.lang),
        output_codes=treatment.OUTPUT_CODES,
        tolerance=reader.genesis().rules.output_tolerance_percent,
    )


def _entries(reader: LogReader, doc: Doc) -> list[Entry]:
    found = [reader.entry(seq) for seq in doc["history"]]
    return [e for e in found if e is not None]


def certificate_of(lang: str, reader: LogReader, doc: Doc, url: str, base: str) -> Certificate:
    """The certificate of the processed lot ``doc``, in ``lang``, at the latest checkpoint."""
    entries = _entries(reader, doc)
    treated = next(
        e
        for e in reversed(entries)
        if e.event["type"] == "lot.processed" and e.event["lot"] == doc["id"]
    )
    received = next(
        (
            e
            for e in reversed(entries)
            if e.event["type"] == "transfer.received" and e.seq < treated.seq
        ),
        None,
    )
    checkpoint = verify_checkpoint(reader.checkpoint(), reader.genesis().log_key)
    if checkpoint.size <= treated.seq:
        raise ApiError(
            409,
            "not_checkpointed",
            "Not yet in a signed checkpoint",
            f"entry {treated.seq} is not in a signed checkpoint yet; try again in a moment",
        )
    names = custody.org_names(reader)

    def party(org: str | None) -> str:
        return f"{names.get(org, org)} ({org})" if org else "—"

    titles = dict(treatment.material_names(lang))
    outputs = tuple(
        Fraction(
            titles.get(o["material"], o["material"]), o["waste_code"], weight(o["weight_g"], lang)
        )
        for o in doc["outputs"]
    )
    return Certificate(
        lot=doc["id"],
        category=i18n.category(doc["category"], lang),
        waste_code=doc["waste_code"],
        collector=party(doc.get("collector")),
        recycler=party(doc.get("processed_by")),
        registered=when(doc.get("created_at"), lang),
        received=when(received.event["at"], lang) if received else "—",
        processed=when(treated.event["at"], lang),
        input_weight=weight(int(doc["weight_g"]), lang),
        operation=treatment.operation_name(doc["operation"], lang),
        outputs=outputs,
        total=weight(sum(int(o["weight_g"]) for o in doc["outputs"]), lang),
        origin=checkpoint.origin,
        seq=treated.seq,
        leaf_hash=treated.hash.hex(),
        checkpoint_size=checkpoint.size,
        root_hash=checkpoint.root.hex(),
        url=url,
        proof_url=f"{base}/v1/proof/inclusion?seq={treated.seq}&size={checkpoint.size}",
    )


@router.get("/certificate/{lot}.pdf", response_class=Response)
async def certificate(ctx: Ctx, lot: str) -> Response:
    """The certificate of recycling of a lot treated here, as a PDF."""
    user = need_user(ctx, ROLE)
    reader = ctx.svc.reader
    doc = reader.doc("lot", lot)
    if doc is None or doc["state"] != "processed" or doc.get("processed_by") != user.org:
        raise ApiError(404, "not_found", "Not found", f"no lot {lot} treated by {user.org}")
    links = ctx.svc.links
    made = certificate_of(ctx.lang, reader, doc, links.scan_url(doc["id"]), links.base)
    pdf = certificate_pdf(made, treatment.certificate_words(ctx.lang))
    name = f"tizbek-certificate-{doc['id']}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )

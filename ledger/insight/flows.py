"""Material flows: what each custody event moved, in grams, as rows of the ``flows`` projection.

Statistics, facility mass balance and periodic reports read these rows
instead of replaying the log. Every row names the entry (``seq``) and the
lot it is about, so any figure summed from them leads back to signed entries.

Stock rows follow the lots a party *holds* (state ``held``): whenever an event
changes who holds a lot or what it weighs, the old holder gets a row of minus
the old weight and the new holder a row of plus the new weight, labelled by
what happened. Summed per organisation up to a moment they give its stock
then; summed over all time they equal the weight of the lots it holds now
(the tests hold it so). The kinds:

=============  =====  ==========================================================
kind           sign   when
=============  =====  ==========================================================
``collected``  \\+    a collector registers a lot
``sent``       \\-    a holder dispatches a lot
``received``   \\+    the destination accepts a lot (all of it, or the part kept)
``returned``   \\+    a refused lot, or a partial refusal's return lot, comes back
``split``      ±      a lot is split (the parent out, the children in)
``merged``     ±      lots are merged (the inputs out, the container in)
``processed``  \\-    a recycler treats a lot (its input weight)
``output``     \\+    a treatment's fraction kept as a lot of its own
``lost``       \\-    a held lot is reported lost
``revised``    ±      an approved revision corrects a held lot's weight
=============  =====  ==========================================================

Other rows leave stock alone: ``recovered`` (one per treatment output:
``material``, ``operation``, grams), ``credited`` (one per lot a treated lot
was collected as: ``lot`` is that original lot and ``grams`` its share, so a
treatment is credited to each collection, producer and region it came from)
and ``unaccounted`` (weight a treatment's outputs or a split's children do not
account for; negative when outputs exceed the input within the tolerance).

Days, months and years are those of :data:`REPORTING_ZONE`; ``at`` keeps the
signer's time (UTC). A row where a recycler took part (``received`` and
``processed`` by it, ``sent`` to it) names in ``licence`` the licence that
covered it on the day, found here again independently of the rules, or ``""``
when none did: the log's rules refuse such events, so an empty ``licence``
means the rules were bypassed, and the findings report it.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

from ledger.custody.rules import Doc, DocKey

#: Kazakhstan's time (UTC+5 since 1 March 2024): a day, month or year of the statistics.
REPORTING_ZONE = ZoneInfo("Asia/Almaty")

#: Kinds that move stock; the others (``recovered``, ``credited``, ``unaccounted``) do not.
STOCK_KINDS = (
    "collected",
    "sent",
    "received",
    "returned",
    "split",
    "merged",
    "processed",
    "output",
    "lost",
    "revised",
)

_STOCK_KIND = {
    "lot.registered": "collected",
    "transfer.dispatched": "sent",
    "lot.split": "split",
    "lot.merged": "merged",
    "lot.lost": "lost",
    "revision.proposed": "revised",
    "revision.approved": "revised",
}

#: Columns of the ``flows`` table, in the order of :class:`Flow`.
COLUMNS = [
    ("seq", "bigint"),
    ("n", "smallint"),
    ("at", "text"),
    ("day", "text"),
    ("kind", "text"),
    ("org", "text"),
    ("lot", "text"),
    ("grams", "bigint"),
    ("category", "smallint"),
    ("region", "text"),
    ("counterpart", "text"),
    ("operation", "text"),
    ("material", "text"),
    ("producer", "text"),
    ("licence", "text"),
]


@dataclass(frozen=True)
class Flow:
    """One row of the ``flows`` projection."""

    seq: int
    n: int
    at: str
    day: str
    kind: str
    org: str
    lot: str
    grams: int
    category: int | None = None
    region: str | None = None
    counterpart: str | None = None
    operation: str | None = None
    material: str | None = None
    producer: str | None = None
    licence: str | None = None

    def row(self) -> tuple[Any, ...]:
        """The row as the table takes it."""
        return tuple(_ROW(self))


#: A flow's fields in the table's column order (``astuple`` would deep-copy each value).
_ROW = operator.attrgetter(*(f.name for f in fields(Flow)))


def local_day(at: str) -> str:
    """The reporting day (``YYYY-MM-DD`` in :data:`REPORTING_ZONE`) of a log time."""
    moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    return moment.astimezone(REPORTING_ZONE).date().isoformat()


def covering_licence(
    org: Doc | None, day: str, lot: Doc, operation: str | None = None
) -> str | None:
    """The number of a licence of a recycler ``org`` that covered ``lot`` on ``day``.

    ``None`` if ``org`` is not a recycler (nothing to cover); ``""`` if no licence did.
    """
    if org is None or "recycler" not in org.get("roles", ()):
        return None
    for number, lic in sorted(org.get("licences", {}).items()):
        if (
            lic["status"] == "active"
            and lic["valid_from"] <= day <= lic["valid_to"]
            and lot.get("waste_code") in lic["waste_codes"]
            and lot.get("category") in lic["categories"]
            and (operation is None or operation in lic["operations"])
        ):
            return str(number)
    return ""


def _held(doc: Doc | None) -> tuple[str, int] | None:
    if doc is None or doc.get("state") != "held":
        return None
    return doc["holder"], int(doc["weight_g"])


def flows_of(
    seq: int,
    event: Mapping[str, Any],
    changed: Mapping[DocKey, Doc],
    before: Callable[[str, str], Doc | None],
) -> list[Flow]:
    """The rows entry ``seq`` adds: ``changed`` is what it changed, ``before`` the prior docs."""
    etype = event["type"]
    actor = event["actor"]
    at = event["at"]
    day = local_day(at)
    utc_day = at[:10]
    actor_doc = before("org", actor)
    actor_region = None if actor_doc is None else actor_doc.get("region")
    rows: list[Flow] = []

    def add(kind: str, org: str, lot: Doc, grams: int, **extra: Any) -> None:
        if kind != "collected" and org == actor and "region" not in extra:
            extra["region"] = actor_region
        rows.append(
            Flow(seq, len(rows), at, day, kind, org, lot["id"], grams, lot.get("category"), **extra)
        )

    transfer = event.get("transfer")
    sender = None
    if etype == "transfer.received" and isinstance(transfer, str):
        doc = changed.get(("transfer", transfer))
        sender = None if doc is None else doc.get("sender")
    for (kind, ident), after in changed.items():
        if kind != "lot":
            continue
        old_doc = before("lot", ident)
        old, new = _held(old_doc), _held(after)
        if old == new:
            continue
        if old is not None:
            label = _STOCK_KIND.get(etype, "processed" if etype == "lot.processed" else "other")
            extra_out: dict[str, Any] = {"counterpart": event.get("to")}
            if etype == "transfer.dispatched":
                extra_out["licence"] = covering_licence(before("org", event["to"]), utc_day, after)
            elif etype == "lot.processed":
                extra_out["operation"] = after.get("operation")
                extra_out["licence"] = covering_licence(
                    actor_doc, utc_day, after, after.get("operation")
                )
            add(label, old[0], after, -old[1], **extra_out)
        if new is not None:
            if etype == "transfer.received":
                label = "received" if new[0] == actor else "returned"
                other = sender if new[0] == actor else actor
            elif etype == "lot.processed":
                label, other = "output", None
            else:
                label, other = _STOCK_KIND.get(etype, "other"), None
            extra: dict[str, Any] = {"counterpart": other}
            if label == "received":
                extra["licence"] = covering_licence(actor_doc, utc_day, after)
            if label == "collected":
                extra |= {"region": after.get("region"), "producer": after.get("producer")}
            add(label, new[0], after, new[1], **extra)
    # What the rules changed is the record; an event they left unchanged (only ever in a
    # log whose rules were bypassed, which an audit reports) moved nothing.
    subject = changed.get(("lot", str(event.get("lot"))))
    if etype == "lot.processed" and subject is not None:
        lot = subject
        outputs = lot.get("outputs") or []
        operation = lot.get("operation")
        for out in outputs:
            add(
                "recovered",
                actor,
                lot,
                int(out["weight_g"]),
                operation=operation,
                material=out["material"],
            )
        for origin, grams in sorted(lot["origins"].items()):
            rows.append(
                Flow(
                    seq,
                    len(rows),
                    at,
                    day,
                    "credited",
                    actor,
                    origin,
                    int(grams),
                    lot.get("category"),
                    actor_region,
                    operation=operation,
                )
            )
        gap = int(lot["weight_g"]) - sum(int(o["weight_g"]) for o in outputs)
        if gap:
            add("unaccounted", actor, lot, gap, operation=operation)
    elif etype == "lot.split" and subject is not None:
        parent = subject
        children = sum(int(c["weight_g"]) for c in event.get("children", []))
        if int(parent["weight_g"]) != children:
            add("unaccounted", actor, parent, int(parent["weight_g"]) - children)
    return rows

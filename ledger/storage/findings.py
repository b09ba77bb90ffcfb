"""Findings: what in the custody projections does not add up, each with the entries behind it.

Every finding is one query over the typed projections (``lots``,
``transfers``), which the sequencer keeps current as it appends, so finding
them never replays the log. Each names its kind, its subject, a sentence for
people, figures for tools, and the seqs of the entries that prove it (fetch
them with their inclusion proofs to check them against a signed checkpoint).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from ledger.insight.limits import KINDS, Limits
from ledger.storage.hotpath import Driver
from ledger.storage.reports import month_flows, period_of


@dataclass(frozen=True)
class Finding:
    """One thing that does not add up."""

    kind: str
    subject: str
    detail: str
    seqs: list[int]
    figures: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "detail": self.detail,
            "seqs": self.seqs,
            "figures": self.figures,
        }


def _days_before(at: str, days: int) -> str:
    try:
        moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00")) - dt.timedelta(days=days)
    except OverflowError:  # before the first year: nothing happened that early
        return "0000"
    return stamp(moment)


def stamp(moment: dt.datetime) -> str:
    """A time as the log writes it, ``2026-12-01T08:00:00Z`` (four-digit years always)."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _transit(driver: Driver, at: str, limits: Limits) -> list[Finding]:
    rows = driver.rows(
        "SELECT transfer, sender, destination, transporter, dispatched_at, created_seq, head_seq "
        "FROM transfers WHERE state IN ('dispatched', 'in_transit') AND dispatched_at < ? "
        "ORDER BY dispatched_at, transfer",
        [_days_before(at, limits.transit_days)],
    )
    return [
        Finding(
            "transit_too_long",
            transfer,
            f"transfer {transfer} from {sender} to {to} was dispatched at {sent} and has not "
            f"been received in {limits.transit_days} days",
            sorted({int(created), int(head)}),
            {"sender": sender, "destination": to, "transporter": carrier, "dispatched_at": sent},
        )
        for transfer, sender, to, carrier, sent, created, head in rows
    ]


def _overdue(driver: Driver, at: str) -> list[Finding]:
    lots = driver.rows(
        "SELECT lot, holder, discrepancy_deadline, head_seq FROM lots "
        "WHERE discrepancy_status = 'open' AND discrepancy_deadline < ? "
        "ORDER BY discrepancy_deadline, lot",
        [at[:10]],
    )
    docs: dict[str, Any] = {}
    for start in range(0, len(lots), 400):
        chunk = [lot for lot, _, _, _ in lots[start : start + 400]]
        docs.update(
            (subject, json.loads(doc))
            for subject, doc in driver.rows_in(
                "SELECT subject, doc FROM subject_docs WHERE kind = ? AND subject = ANY(?)",
                chunk,
                ["lot"],
            )
        )
    found = []
    for lot, holder, deadline, head in lots:
        discrepancy = docs[lot]["discrepancy"]
        found.append(
            Finding(
                "discrepancy_overdue",
                lot,
                f"lot {lot}: {discrepancy['declared_g']} g declared, "
                f"{discrepancy['measured_g']} g measured; the discrepancy was due to be "
                f"resolved by {deadline}",
                sorted({int(discrepancy["opened_seq"]), int(head)}),
                {
                    "holder": holder,
                    "deadline": deadline,
                    "declared_g": discrepancy["declared_g"],
                    "measured_g": discrepancy["measured_g"],
                    "transfer": discrepancy["transfer"],
                },
            )
        )
    return found


def _undispatched(driver: Driver, at: str, limits: Limits) -> list[Finding]:
    rows = driver.rows(
        "SELECT lot, collector, created_at, created_seq, weight_g FROM lots "
        "WHERE first_dispatch_seq IS NULL AND state = 'held' AND holder = collector "
        "AND created_at < ? ORDER BY created_at, lot",
        [_days_before(at, limits.undispatched_days)],
    )
    return [
        Finding(
            "never_dispatched",
            lot,
            f"lot {lot} was registered by {collector} at {created} and has never been "
            f"dispatched in {limits.undispatched_days} days",
            [int(seq)],
            {"collector": collector, "registered_at": created, "weight_g": int(weight)},
        )
        for lot, collector, created, seq, weight in rows
    ]


def _losses(driver: Driver, limits: Limits) -> list[Finding]:
    found = []
    for role, column in (("collector", "collector"), ("carrier", "carrier")):
        rows = driver.rows(
            f"SELECT {column}, count(*), sum(registered_g), sum(received_g) FROM lots "  # noqa: S608
            f"WHERE received_g IS NOT NULL AND registered_g IS NOT NULL "
            f"AND {column} IS NOT NULL GROUP BY {column} "
            f"HAVING (sum(registered_g) - sum(received_g)) * 100 > ? * sum(registered_g) "
            f"ORDER BY {column}",
            [limits.weight_loss_percent],
        )
        for who, count, registered, received in rows:
            lost = int(registered) - int(received)
            worst = driver.rows(
                f"SELECT lot, created_seq, head_seq FROM lots WHERE {column} = ? "  # noqa: S608
                "AND received_g IS NOT NULL AND registered_g > received_g "
                "ORDER BY registered_g - received_g DESC, lot LIMIT 20",
                [who],
            )
            percent = round(100 * lost / int(registered), 1)
            found.append(
                Finding(
                    "weight_loss",
                    f"{role}:{who}",
                    f"{lost} g of {registered} g collected ({percent} %) did not arrive in "
                    f"{count} lots "
                    + ("collected by" if role == "collector" else "carried by")
                    + f" {who} (limit {limits.weight_loss_percent} %)",
                    sorted({int(s) for _, created, head in worst for s in (created, head)}),
                    {
                        role: who,
                        "lots": int(count),
                        "registered_g": int(registered),
                        "received_g": int(received),
                        "lost_percent": percent,
                        "worst_lots": [lot for lot, _, _ in worst],
                    },
                )
            )
    return found


def _unlicensed(driver: Driver) -> list[Finding]:
    rows = driver.rows(
        "SELECT f.seq, f.kind, f.org, f.counterpart, f.lot, f.at, f.grams, f.operation, "
        "l.waste_code, l.category FROM flows AS f LEFT JOIN lots AS l ON l.lot = f.lot "
        "WHERE f.licence = '' ORDER BY f.seq, f.n"
    )
    found = []
    for seq, kind, org, counterpart, lot, at, grams, operation, code, category in rows:
        recycler = counterpart if kind == "sent" else org
        doing = {
            "sent": f"{org} dispatched lot {lot} to {recycler}",
            "received": f"{recycler} received lot {lot}",
            "processed": f"{recycler} treated lot {lot} ({operation})",
        }.get(kind, f"{org} moved lot {lot}")
        found.append(
            Finding(
                "licence_invalid",
                str(lot),
                f"entry {seq}: {doing} at {at}, when {recycler} held no licence valid that "
                f"day for {code}, category {category}; the rules refuse this, so they were "
                f"bypassed",
                [int(seq)],
                {
                    "recycler": recycler,
                    "action": kind,
                    "at": at,
                    "lot": lot,
                    "waste_code": code,
                    "category": category,
                    "operation": operation,
                    "grams": abs(int(grams)),
                },
            )
        )
    return found


#: Stock kinds that bring weight into a holder's stock, and those that take it out.
_INTO = ("received", "returned", "collected", "output")
_OUT_OF = ("sent", "processed", "lost")


def _balance(driver: Driver, org: str, month: str) -> dict[str, int]:
    opening, rows = month_flows(driver, org, *period_of(month))
    sums: dict[str, int] = {}
    for kind, _category, grams in rows:
        sums[kind] = sums.get(kind, 0) + grams
    figures = {"opening_g": opening}
    for kind in (*_INTO, *_OUT_OF, "split", "merged", "revised", "recovered", "unaccounted"):
        value = sums.get(kind, 0)
        figures[f"{kind}_g"] = -value if kind in _OUT_OF else value
    figures["closing_g"] = opening + sum(
        v for k, v in sums.items() if k not in ("recovered", "credited", "unaccounted")
    )
    return figures


def _mass_balance(driver: Driver, limits: Limits) -> list[Finding]:
    gaps = driver.rows(
        "SELECT org, substr(day, 1, 7), sum(grams) FROM flows WHERE kind = 'unaccounted' "
        "GROUP BY org, substr(day, 1, 7) ORDER BY 1, 2"
    )
    if not gaps:
        return []
    found = []
    for org, month, gap in gaps:
        # What the facility treated and split that month, read only for months with a gap:
        # treatments from the running totals, splits (few) from their rows.
        days = [org, *period_of(month)]
        treated = -int(
            driver.rows(
                "SELECT coalesce(sum(grams), 0) FROM flow_totals WHERE kind = 'processed' "
                "AND org = ? AND day >= ? AND day <= ?",
                days,
            )[0][0]
        ) - int(
            driver.rows(
                "SELECT coalesce(sum(grams), 0) FROM flows WHERE kind = 'split' AND org = ? "
                "AND day >= ? AND day <= ? AND grams < 0",
                days,
            )[0][0]
        )
        if int(gap) * 100 <= limits.mass_balance_percent * treated:
            continue
        lots = driver.rows(
            "SELECT lot, seq, grams FROM flows WHERE kind = 'unaccounted' AND org = ? "
            "AND day >= ? AND day <= ? AND grams > 0 ORDER BY grams DESC, seq LIMIT 20",
            days,
        )
        figures: dict[str, Any] = {"facility": org, "month": month, "treated_g": treated}
        figures |= _balance(driver, org, month)
        figures["lots"] = [lot for lot, _, _ in lots]
        percent = round(100 * int(gap) / treated, 1) if treated else None
        found.append(
            Finding(
                "mass_balance",
                f"{org}:{month}",
                f"{org} in {month}: {int(gap)} g of the {treated} g it treated or split "
                f"({percent} %) is in no output, child lot, stock or onward transfer "
                f"(opening {figures['opening_g']} g + received {figures['received_g']} g; "
                f"treated {figures['processed_g']} g into {figures['recovered_g']} g of "
                f"outputs; sent on {figures['sent_g']} g; closing stock "
                f"{figures['closing_g']} g; limit {limits.mass_balance_percent} %)",
                sorted({int(seq) for _, seq, _ in lots}),
                figures,
            )
        )
    return found


def _two_places(driver: Driver, limits: Limits) -> list[Finding]:
    # Minutes between dispatch and receipt, in each database's own date arithmetic, so
    # only the transfers too fast for the road leave the database.
    elapsed = (
        "EXTRACT(EPOCH FROM (CAST(t.received_at AS timestamptz) "
        "- CAST(t.dispatched_at AS timestamptz))) / 60"
        if driver.postgres
        else "(julianday(t.received_at) - julianday(t.dispatched_at)) * 1440"
    )
    query = (
        "SELECT t.transfer, t.sender, t.destination, s.region, d.region, t.dispatched_at, "  # noqa: S608
        "t.received_at, t.created_seq, t.head_seq FROM transfers AS t "
        "JOIN organisations AS s ON s.id = t.sender "
        "JOIN organisations AS d ON d.id = t.destination "
        "WHERE t.received_at IS NOT NULL AND t.dispatched_at IS NOT NULL "
        "AND s.region <> d.region AND " + elapsed + " < ? ORDER BY t.created_seq"
    )
    rows = driver.rows(query, [limits.travel_minutes])
    found = []
    for transfer, sender, dest, here, there, sent, got, created, head in rows:
        gap = _moment(got) - _moment(sent)
        minutes = gap.total_seconds() / 60
        if minutes >= limits.travel_minutes:
            continue
        found.append(
            Finding(
                "two_places",
                transfer,
                f"transfer {transfer}'s lots were signed for by {sender} in {here} at {sent} "
                f"and by {dest} in {there} at {got}, {round(minutes)} minutes later: "
                f"less than the {limits.travel_minutes} minutes the way takes, so one label "
                f"was at two places at once",
                sorted({int(created), int(head)}),
                {
                    "sender": sender,
                    "destination": dest,
                    "from_region": here,
                    "to_region": there,
                    "dispatched_at": sent,
                    "received_at": got,
                    "minutes": round(minutes, 1),
                },
            )
        )
    return found


def _moment(at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(at.replace("Z", "+00:00"))


def findings(
    engine: Engine, *, at: str, limits: Limits | None = None, kinds: tuple[str, ...] = KINDS
) -> list[Finding]:
    """Every finding of ``kinds`` as of the time ``at`` (ISO 8601 UTC)."""
    limits = limits or Limits()
    found: list[Finding] = []
    with engine.connect() as conn:
        driver = Driver(conn)
        if "transit_too_long" in kinds:
            found += _transit(driver, at, limits)
        if "discrepancy_overdue" in kinds:
            found += _overdue(driver, at)
        if "never_dispatched" in kinds:
            found += _undispatched(driver, at, limits)
        if "weight_loss" in kinds:
            found += _losses(driver, limits)
        if "licence_invalid" in kinds:
            found += _unlicensed(driver)
        if "mass_balance" in kinds:
            found += _mass_balance(driver, limits)
        if "two_places" in kinds:
            found += _two_places(driver, limits)
    return found

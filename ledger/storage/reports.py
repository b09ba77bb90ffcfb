"""Computing periodic reports from the ``flows`` projection, at a signed checkpoint.

A facility's report balances its month: opening stock, what it received,
collected and got back, what it treated and into which outputs, what it sent
on or lost, what is unaccounted, and its closing stock. A region's report is
the statistics of its month (:mod:`ledger.storage.stats`). Only entries below
the checkpoint's size count, so the same report comes out of the same log
whenever it is computed again (:func:`rederive`).
"""

from __future__ import annotations

import calendar
from typing import Any

from sqlalchemy import Engine

from ledger.checkpoint import Checkpoint
from ledger.errors import StorageError
from ledger.insight.flows import REPORTING_ZONE
from ledger.insight.reports import FORMAT, plain
from ledger.note import parse_note
from ledger.storage.hotpath import Driver
from ledger.storage.stats import Scope, statistics

#: Figures of a facility's balance: flows kinds, signed so that every figure is positive.
_FIGURES = [
    ("received_g", "received", 1),
    ("collected_g", "collected", 1),
    ("returned_g", "returned", 1),
    ("processed_g", "processed", -1),
    ("outputs_g", "recovered", 1),
    ("output_lots_g", "output", 1),
    ("sent_g", "sent", -1),
    ("lost_g", "lost", -1),
    ("split_and_merged_g", None, 1),
    ("revised_g", "revised", 1),
    ("unaccounted_g", "unaccounted", 1),
]
_NOT_STOCK = ("recovered", "credited", "unaccounted")


def period_of(month: str) -> tuple[str, str]:
    """First and last day of a reporting month ``YYYY-MM``."""
    try:
        year, number = (int(part) for part in month.split("-"))
        last = calendar.monthrange(year, number)[1]
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError(f"a month is YYYY-MM, not {month!r}") from None
    if len(month) != 7:
        raise ValueError(f"a month is YYYY-MM, not {month!r}")
    return f"{month}-01", f"{month}-{last:02d}"


def month_flows(
    driver: Driver, org: str, start: str, end: str, *, size: int | None = None
) -> tuple[int, list[tuple[str, int | None, int]]]:
    """``org``'s stock before day ``start``, and its flows from ``start`` to ``end`` (days
    included) summed per kind and category; with ``size``, only entries below it."""
    below = size if size is not None else 2**62  # without a size: every entry
    opening = driver.rows(
        "SELECT coalesce(sum(grams), 0) FROM flows WHERE org = ? AND day < ? AND seq < ? "
        "AND kind NOT IN (?, ?, ?)",
        [org, start, below, *_NOT_STOCK],
    )[0][0]
    rows = driver.rows(
        "SELECT kind, category, sum(grams) FROM flows WHERE org = ? AND day >= ? "
        "AND day <= ? AND seq < ? GROUP BY kind, category ORDER BY kind, category",
        [org, start, end, below],
    )
    return int(opening), [(kind, cat, int(grams)) for kind, cat, grams in rows]


def _checkpoint(driver: Driver, size: int | None) -> tuple[int, str]:
    if size is None:
        rows = driver.rows("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
    else:
        rows = driver.rows("SELECT size, note FROM checkpoints WHERE size = ?", [size])
    if not rows:
        raise StorageError(
            "the log has no checkpoint yet" if size is None else f"no checkpoint of size {size}"
        )
    return int(rows[0][0]), str(rows[0][1])


def facility_report(
    engine: Engine, org: str, month: str, *, size: int | None = None
) -> dict[str, Any]:
    """The unsigned report of facility ``org`` for ``month``, at a stored checkpoint."""
    start, end = period_of(month)
    with engine.connect() as conn:
        driver = Driver(conn)
        found = driver.rows("SELECT name, region, roles FROM organisations WHERE id = ?", [org])
        if not found:
            raise StorageError(f"no organisation {org} is registered")
        name, region, roles = found[0]
        size, note = _checkpoint(driver, size)
        opening, rows = month_flows(driver, org, start, end, size=size)
        materials = driver.rows(
            "SELECT material, sum(grams) FROM flows WHERE org = ? AND kind = 'recovered' "
            "AND day >= ? AND day <= ? AND seq < ? GROUP BY material ORDER BY material",
            [org, start, end, size],
        )
    totals: dict[str, int] = {}
    by_category: dict[int, dict[str, int]] = {}
    for kind, category, grams in rows:
        totals[kind] = totals.get(kind, 0) + int(grams)
        if kind in ("received", "processed", "recovered") and category is not None:
            cell = by_category.setdefault(int(category), {})
            sign = -1 if kind == "processed" else 1
            cell[f"{kind}_g"] = cell.get(f"{kind}_g", 0) + sign * int(grams)
    figures = {"opening_stock_g": opening}
    for name, source, sign in _FIGURES:
        if source is None:
            figures[name] = totals.get("split", 0) + totals.get("merged", 0)
        else:
            figures[name] = sign * totals.get(source, 0)
    figures["closing_stock_g"] = opening + sum(v for k, v in totals.items() if k not in _NOT_STOCK)
    return _body(
        {"facility": org, "name": name, "region": region, "roles": roles.split(",")},
        start,
        end,
        size,
        note,
        figures=figures,
        by_category=[{"category": c, **by_category[c]} for c in sorted(by_category)],
        materials=[{"material": m, "grams": int(g)} for m, g in materials],
    )


def region_report(
    engine: Engine, region: str, month: str, *, size: int | None = None
) -> dict[str, Any]:
    """The unsigned report of ``region`` for ``month``: its statistics at a stored checkpoint."""
    start, end = period_of(month)
    with engine.connect() as conn:
        size, note = _checkpoint(Driver(conn), size)
    stats = statistics(engine, Scope(start, end, region, None, size))
    totals = {
        f"{measure}_g": sum(row[measure]["grams"] for row in stats["months"] if measure in row)
        for measure in ("collected", "received", "processed")
    }
    return _body(
        {"region": region},
        start,
        end,
        size,
        note,
        figures=totals,
        by_category=[
            {
                "category": row["category"],
                **{
                    f"{m}_g": row[m]["grams"]
                    for m in ("collected", "received", "processed")
                    if m in row
                },
            }
            for row in stats["months"]
        ],
        materials=[
            {"material": row["material"], "category": row["category"], "grams": row["grams"]}
            for row in stats["recovered"]
        ],
        rates=[{k: v for k, v in row.items() if k != "query"} for row in stats["rates"]],
        epr=[{k: v for k, v in row.items() if k != "query"} for row in stats["epr"]],
    )


def _body(
    subject: dict[str, Any], start: str, end: str, size: int, note: str, **parts: Any
) -> dict[str, Any]:
    text, _ = parse_note(note)
    root = Checkpoint.parse(text).root.hex()
    body: dict[str, Any] = plain(
        {
            "format": FORMAT,
            "subject": subject,
            "period": {"from": start, "to": end},
            "zone": str(REPORTING_ZONE),
            "checkpoint": {"size": size, "root": root, "note": note},
            **parts,
        }
    )
    return body


def rederive(engine: Engine, report: dict[str, Any]) -> list[str]:
    """Compute ``report`` again from the log at its checkpoint; name each part that differs."""
    subject, month = report["subject"], str(report["period"]["from"])[:7]
    size = int(report["checkpoint"]["size"])
    if "facility" in subject:
        again = facility_report(engine, str(subject["facility"]), month, size=size)
    else:
        again = region_report(engine, str(subject["region"]), month, size=size)
    body = {k: v for k, v in report.items() if k != "signature"}
    return sorted(k for k in set(body) | set(again) if body.get(k) != again.get(k))

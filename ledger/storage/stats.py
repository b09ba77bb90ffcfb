"""National statistics from the ``flows`` projection: documented kg, rates, EPR credit.

Five measures, each a sum over ``flows`` rows (see :mod:`ledger.insight.flows`):

``collected``
    lots registered by collectors, at the collector's region;
``received``
    lots accepted by a recycler from an organisation that is not a recycler
    (the weight entering formal recycling, counted once even when a recycler
    sends a lot on to another), at the recycler's region, as weighed there;
``processed``
    the input weight recyclers treated, at the recycler's region;
``recovered``
    treatment outputs by material (and whether they count as recovered or
    recycled: :mod:`ledger.insight.targets`);
``credited``
    treated weight traced back, through splits and merges, to the lots it was
    collected as: per producer, it is the EPR credit of the producer's
    take-back lots.

Every figure comes with the query that lists the rows behind it
(:func:`figure_rows`), each naming its entry's seq, so anyone can check the
figure against the signed log. Days, months and years are those of the
reporting zone (Asia/Almaty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine

from ledger.insight.flows import REPORTING_ZONE
from ledger.insight.targets import ANNEX_V, counts
from ledger.storage.hotpath import Driver

MEASURES = ("collected", "received", "processed", "recovered", "credited")

#: Where the rows of each measure come from: tables, condition (its parameters), grams.
_SOURCES: dict[str, tuple[str, str, str, list[object]]] = {
    "collected": ("flows AS f", "f.kind = 'collected'", "f.grams", []),
    "received": (
        "flows AS f JOIN organisations AS d ON d.id = f.org "
        "LEFT JOIN organisations AS s ON s.id = f.counterpart",
        "f.kind = 'received' AND d.roles LIKE ? AND (s.roles IS NULL OR s.roles NOT LIKE ?)",
        "f.grams",
        ["%recycler%", "%recycler%"],
    ),
    "processed": ("flows AS f", "f.kind = 'processed'", "-f.grams", []),
    "recovered": ("flows AS f", "f.kind = 'recovered'", "f.grams", []),
    "credited": (
        "flows AS f LEFT JOIN flows AS c ON c.kind = 'collected' AND c.lot = f.lot",
        "f.kind = 'credited'",
        "f.grams",
        [],
    ),
}
#: Treated grams per producer, walked from the few lots collected for a producer.
_SOURCES["credited_by_producer"] = (
    "flows AS c JOIN flows AS f ON f.lot = c.lot AND f.kind = 'credited'",
    "c.kind = 'collected' AND c.producer > ''",
    "f.grams",
    [],
)
#: Measures the running totals (``flow_totals``) answer without reading every row.
_TOTALS = ("collected", "received", "processed", "recovered")


@dataclass(frozen=True)
class Scope:
    """Which rows count: reporting days ``start``..``end`` (inclusive), region, category.

    ``size``: only entries below this seq (a checkpoint's tree size), so a
    figure can be derived again, unchanged, at that checkpoint.
    """

    start: str | None = None
    end: str | None = None
    region: str | None = None
    category: int | None = None
    size: int | None = None

    def params(self) -> dict[str, str]:
        """The scope as query parameters."""
        found = {
            "from": self.start,
            "to": self.end,
            "region": self.region,
            "category": None if self.category is None else str(self.category),
            "size": None if self.size is None else str(self.size),
        }
        return {k: v for k, v in found.items() if v is not None}


def _where(
    measure: str,
    scope: Scope,
    narrow: Mapping[str, str | int | None] | None = None,
    *,
    totals: bool = False,
) -> tuple[str, str, list[object]]:
    narrow = narrow or {}
    tables, condition, grams, fixed = _SOURCES[measure]
    if totals:
        tables = tables.replace("flows AS f", "flow_totals AS f", 1)
    clauses = [condition]
    params: list[object] = list(fixed)
    wanted: dict[str, object] = {
        "f.region": scope.region,
        "f.category": scope.category,
        "f.material": narrow.get("material"),
        "c.producer": narrow.get("producer"),
    }
    if measure != "credited":
        wanted.pop("c.producer")
    for column, value in wanted.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    start, end = scope.start, scope.end
    for key, length in (("month", 7), ("year", 4)):
        value = narrow.get(key)
        if value is not None:
            clauses.append(f"substr(f.day, 1, {length}) = ?")
            params.append(str(value))
    if start is not None:
        clauses.append("f.day >= ?")
        params.append(start)
    if end is not None:
        clauses.append("f.day <= ?")
        params.append(end)
    if scope.size is not None:
        clauses.append("f.seq < ?")
        params.append(scope.size)
    return f"FROM {tables} WHERE " + " AND ".join(clauses), grams, params


def query_link(measure: str, scope: Scope, **narrow: str | int | None) -> str:
    """The API query that lists the rows behind one figure."""
    params = {"measure": measure, **scope.params()}
    params.update({k: str(v) for k, v in narrow.items() if v is not None})
    return "/v1/stats/entries?" + urlencode(params)


#: Rows of one figure per page of :func:`figure_rows`.
PAGE = 5000


def figure_rows(
    engine: Engine,
    measure: str,
    scope: Scope,
    *,
    after: tuple[int, int] | None = None,
    limit: int = PAGE,
    **narrow: str | int | None,
) -> dict[str, Any]:
    """The rows behind one figure, a page at a time, and the figure itself.

    Answers ``grams`` (the figure: the sum of every row), ``count`` (every
    row), ``rows`` (this page: each row's entry seq, position ``n`` in it,
    day, organisation, lot and grams, after the row ``after`` = (seq, n)) and
    ``next`` (the ``after`` of the next page, or ``None``).
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}")
    where, grams, params = _where(measure, scope, narrow)
    page_where, page_params = where, list(params)
    if after is not None:
        page_where += " AND (f.seq > ? OR (f.seq = ? AND f.n > ?))"
        page_params += [after[0], after[0], after[1]]
    with engine.connect() as conn:
        driver = Driver(conn)
        total, count = driver.rows(f"SELECT coalesce(sum({grams}), 0), count(*) {where}", params)[0]
        rows = driver.rows(
            f"SELECT f.seq, f.n, f.day, f.org, f.lot, {grams} {page_where} "
            f"ORDER BY f.seq, f.n LIMIT {int(limit) + 1}",
            page_params,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "measure": measure,
        "grams": int(total),
        "count": int(count),
        "rows": [
            {"seq": int(seq), "n": int(n), "day": day, "org": org, "lot": lot, "grams": int(g)}
            for seq, n, day, org, lot, g in rows
        ],
        "next": f"{rows[-1][0]}.{rows[-1][1]}" if more else None,
    }


def _grouped(driver: Driver, measure: str, scope: Scope, dims: list[str]) -> list[tuple[Any, ...]]:
    # The running totals answer the live figures; a figure as of a tree size reads the rows.
    totals = scope.size is None and measure in _TOTALS
    where, grams, params = _where(measure, scope, totals=totals)
    keys = ", ".join(dims)
    count = "sum(f.rows)" if totals else "count(*)"
    found = driver.rows(
        f"SELECT {keys}, sum({grams}), {count} {where} GROUP BY {keys} ORDER BY {keys}",
        params,
    )
    if not totals:
        return found
    # The totals keep an absent region, material, operation or producer as "".
    return [tuple(None if v == "" else v for v in row) for row in found]


def _credited(driver: Driver, scope: Scope) -> list[tuple[Any, ...]]:
    """Treated grams per producer: from the few lots collected for a producer to the
    treatments credited to them (an index walk, not a pass over every treatment)."""
    where, grams, params = _where("credited_by_producer", scope)
    return driver.rows(
        f"SELECT c.producer, sum({grams}), count(*) {where} GROUP BY c.producer", params
    )


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def statistics(
    engine: Engine,
    scope: Scope | None = None,
    *,
    generated: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    """Every figure of the statistics, each with the query that reproduces it.

    ``generated``: estimated e-waste generated, kg per region per year
    (``{"Almaty": {"2026": 90000000}}``), for the collection rate.
    """
    scope = scope or Scope()
    month, category, region = "substr(f.day, 1, 7)", "f.category", "f.region"
    cube: dict[tuple[str, int, str], dict[str, Any]] = {}
    with engine.connect() as conn:
        driver = Driver(conn)
        size = scope.size
        if size is None:
            size = int(driver.rows("SELECT count(*) FROM log_entries")[0][0])
        for measure in ("collected", "received", "processed"):
            for m, cat, reg, grams, rows in _grouped(
                driver, measure, scope, [month, category, region]
            ):
                cell = cube.setdefault((m, cat, reg or ""), {})
                cell[measure] = {
                    "grams": int(grams),
                    "rows": int(rows),
                    "query": query_link(measure, scope, month=m, category=cat, region=reg),
                }
        recovered = _grouped(
            driver,
            "recovered",
            scope,
            ["substr(f.day, 1, 4)", category, "f.material", "f.operation"],
        )
        producers = _grouped(driver, "collected", scope, ["f.producer"])
        credited = _credited(driver, scope)
    months = [
        {"month": m, "category": cat, "region": reg or None, **cell}
        for (m, cat, reg), cell in sorted(cube.items())
    ]
    years = _years(months, scope)
    return {
        "zone": str(REPORTING_ZONE),
        "scope": {**scope.params(), "size": size},
        "months": months,
        "years": years,
        "recovered": _recovered(recovered, scope),
        "rates": _rates(months, recovered, scope),
        "epr": _epr(producers, credited, scope),
        "collection_rate": _collection(years, generated or {}),
    }


def _years(months: list[dict[str, Any]], scope: Scope) -> list[dict[str, Any]]:
    years: dict[tuple[str, int, str | None], dict[str, Any]] = {}
    for row in months:
        year = row["month"][:4]
        cell = years.setdefault(
            (year, row["category"], row["region"]),
            {"year": year, "category": row["category"], "region": row["region"]},
        )
        for measure in ("collected", "received", "processed"):
            if measure in row:
                figure = cell.setdefault(
                    measure,
                    {
                        "grams": 0,
                        "rows": 0,
                        "query": query_link(
                            measure,
                            scope,
                            year=year,
                            category=row["category"],
                            region=row["region"],
                        ),
                    },
                )
                figure["grams"] += row[measure]["grams"]
                figure["rows"] += row[measure]["rows"]
    return [years[k] for k in sorted(years, key=lambda k: (k[0], k[1], k[2] or ""))]


def _recovered(rows: list[tuple[Any, ...]], scope: Scope) -> list[dict[str, Any]]:
    by: dict[tuple[str, int, str], dict[str, Any]] = {}
    for year, cat, material, operation, grams, _count in rows:
        cell = by.setdefault(
            (year, cat, material),
            {
                "year": year,
                "category": cat,
                "material": material,
                "grams": 0,
                "recovered_g": 0,
                "reused_recycled_g": 0,
                "query": query_link("recovered", scope, year=year, category=cat, material=material),
            },
        )
        recovered, recycled = counts(operation, material)
        cell["grams"] += int(grams)
        cell["recovered_g"] += int(grams) if recovered else 0
        cell["reused_recycled_g"] += int(grams) if recycled else 0
    return [by[k] for k in sorted(by)]


def _rates(
    months: list[dict[str, Any]], recovered: list[tuple[Any, ...]], scope: Scope
) -> list[dict[str, Any]]:
    treated: dict[int, int] = {}
    for row in months:
        if "processed" in row:
            treated[row["category"]] = treated.get(row["category"], 0) + row["processed"]["grams"]
    got: dict[int, list[int]] = {}
    for _year, cat, material, operation, grams, _count in recovered:
        is_recovered, is_recycled = counts(operation, material)
        cell = got.setdefault(cat, [0, 0])
        cell[0] += int(grams) if is_recovered else 0
        cell[1] += int(grams) if is_recycled else 0
    rates = []
    for cat in sorted(set(treated) | set(got)):
        target = ANNEX_V.get(cat)
        input_g = treated.get(cat, 0)
        rec_g, recyc_g = got.get(cat, [0, 0])
        recovery, recycling = _percent(rec_g, input_g), _percent(recyc_g, input_g)
        rates.append(
            {
                "category": cat,
                "processed_g": input_g,
                "recovered_g": rec_g,
                "reused_recycled_g": recyc_g,
                "recovery_percent": recovery,
                "reuse_recycling_percent": recycling,
                "target_recovery_percent": None if target is None else target.recovered,
                "target_reuse_recycling_percent": None
                if target is None
                else target.reused_recycled,
                "meets_targets": None
                if target is None or recycling is None
                else (
                    recycling >= target.reused_recycled
                    and (
                        target.recovered is None
                        or (recovery is not None and recovery >= target.recovered)
                    )
                ),
                "query": query_link("processed", replace(scope, category=cat)),
            }
        )
    return rates


def _epr(
    collected: list[tuple[Any, ...]], credited: list[tuple[Any, ...]], scope: Scope
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for producer, grams, count in collected:
        if producer is not None:
            rows[producer] = {
                "producer": producer,
                "collected_g": int(grams),
                "lots": int(count),
                "credited_g": 0,
                "query": query_link("credited", scope, producer=producer),
            }
    for producer, grams, _count in credited:
        if producer is not None and producer in rows:
            rows[producer]["credited_g"] = int(grams)
    return [rows[p] for p in sorted(rows)]


def _collection(
    years: list[dict[str, Any]], generated: Mapping[str, Mapping[str, int]]
) -> list[dict[str, Any]]:
    collected: dict[tuple[str, str], int] = {}
    for row in years:
        if row["region"] is not None and "collected" in row:
            key = (row["region"], row["year"])
            collected[key] = collected.get(key, 0) + row["collected"]["grams"]
    found = []
    for region in sorted(generated):
        for year, kg in sorted(generated[region].items()):
            grams = collected.get((region, year), 0)
            found.append(
                {
                    "region": region,
                    "year": year,
                    "generated_kg": kg,
                    "collected_g": grams,
                    "collection_percent": _percent(grams, kg * 1000),
                }
            )
    return found

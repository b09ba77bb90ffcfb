"""Writing the projections: key bindings, subject heads, custody documents, typed tables.

The custody documents (``subject_docs``) are what the rules read; the typed
tables (``organisations``, ``licences``, ``lots``, ``transfers``) are written
from them for queries and reports. The same writer serves the append path
(a batch's changes), ``tizbek rebuild`` and ``tizbek import`` (everything a
replay produced), so the live projections and a rebuild cannot differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from ledger.custody.rules import Doc, DocKey
from ledger.insight import flows
from ledger.keyring import Binding
from ledger.storage.hotpath import Driver

HeadLookup = Callable[[str, str], bytes | None]

_KEY_COLUMNS = [
    ("key_id", "text"),
    ("org", "text"),
    ("public_key", "text"),
    ("label", "text"),
    ("bound_seq", "bigint"),
    ("revoked_seq", "bigint"),
    ("admin", "boolean"),
]


def doc_json(doc: Doc) -> str:
    """A document as stored: compact JSON with sorted keys."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()


def binding_rows(bindings: Iterable[Binding]) -> list[tuple[Any, ...]]:
    """Rows of the ``keys`` table."""
    return [
        (b.key_id, b.actor, b.public_key.base64, b.label, b.bound_seq, b.revoked_seq, b.admin)
        for b in bindings
    ]


def write_bindings(driver: Driver, bindings: Iterable[Binding]) -> None:
    """Insert new key bindings."""
    driver.insert("keys", _KEY_COLUMNS, binding_rows(bindings))


def write_heads(driver: Driver, heads: Mapping[DocKey, bytes]) -> None:
    """Insert or move subject heads."""
    driver.insert(
        "subject_heads",
        [("kind", "text"), ("subject", "text"), ("head_hash", "bytea")],
        [(k, s, h) for (k, s), h in heads.items()],
        "ON CONFLICT (kind, subject) DO UPDATE SET head_hash = excluded.head_hash",
    )


_TOTAL_KEY = [
    ("kind", "text"),
    ("day", "text"),
    ("org", "text"),
    ("counterpart", "text"),
    ("category", "smallint"),
    ("region", "text"),
    ("material", "text"),
    ("operation", "text"),
    ("producer", "text"),
]
_AT = {name: n for n, (name, _) in enumerate(flows.COLUMNS)}


def flow_totals(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``flows`` rows summed per ``flow_totals`` key: (key..., grams, rows)."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        key = tuple(
            row[_AT[name]] if row[_AT[name]] is not None else (0 if kind == "smallint" else "")
            for name, kind in _TOTAL_KEY
        )
        cell = sums.setdefault(key, [0, 0])
        cell[0] += int(row[_AT["grams"]])
        cell[1] += 1
    return [(*key, grams, count) for key, (grams, count) in sums.items()]


def write_flows(driver: Driver, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``flows`` rows (see :mod:`ledger.insight.flows`) and add them to the totals."""
    driver.insert("flows", flows.COLUMNS, rows)
    keys = ", ".join(name for name, _ in _TOTAL_KEY)
    driver.insert(
        "flow_totals",
        [*_TOTAL_KEY, ("grams", "bigint"), ("rows", "bigint")],
        flow_totals(rows),
        f"ON CONFLICT ({keys}) DO UPDATE SET grams = flow_totals.grams + excluded.grams, "
        "rows = flow_totals.rows + excluded.rows",
    )


def write_docs(driver: Driver, docs: Mapping[DocKey, Doc], head: HeadLookup) -> None:
    """Insert or replace custody documents and the typed rows written from them."""
    if not docs:
        return
    driver.insert(
        "subject_docs",
        [("kind", "text"), ("subject", "text"), ("doc", "text")],
        [(k, s, doc_json(d)) for (k, s), d in docs.items()],
        "ON CONFLICT (kind, subject) DO UPDATE SET doc = excluded.doc",
    )
    driver.insert(
        "subject_parties",
        [("org", "text"), ("kind", "text"), ("subject", "text")],
        [(org, kind, ident) for (kind, ident), d in docs.items() for org in d.get("parties", ())],
        "ON CONFLICT (org, kind, subject) DO NOTHING",
    )
    orgs = [d for (k, _), d in docs.items() if k == "org"]
    lots = [d for (k, _), d in docs.items() if k == "lot"]
    transfers = [d for (k, _), d in docs.items() if k == "transfer"]
    _write_orgs(driver, orgs)
    _upsert(
        driver,
        "lots",
        "lot",
        [
            ("lot", "text"),
            ("collector", "text"),
            ("holder", "text"),
            ("state", "text"),
            ("category", "smallint"),
            ("waste_code", "text"),
            ("weight_g", "bigint"),
            ("region", "text"),
            ("created_seq", "bigint"),
            ("head_seq", "bigint"),
            ("head_hash", "bytea"),
            ("created_at", "text"),
            ("last_at", "text"),
            ("registered_g", "bigint"),
            ("received_g", "bigint"),
            ("carrier", "text"),
            ("first_dispatch_seq", "bigint"),
            ("discrepancy_status", "text"),
            ("discrepancy_deadline", "text"),
        ],
        [
            (
                d["id"],
                d.get("collector") or "",
                d["holder"],
                d["state"],
                d["category"],
                d["waste_code"],
                d["weight_g"],
                d.get("region"),
                d["created_seq"],
                d["head_seq"],
                head("lot", d["id"]) or b"",
                d.get("created_at"),
                d.get("last_at"),
                d.get("registered_g"),
                d.get("received_g"),
                d.get("carrier"),
                d.get("first_dispatch_seq"),
                (d.get("discrepancy") or {}).get("status"),
                (d.get("discrepancy") or {}).get("deadline"),
            )
            for d in lots
        ],
    )
    _upsert(
        driver,
        "transfers",
        "transfer",
        [
            ("transfer", "text"),
            ("sender", "text"),
            ("destination", "text"),
            ("transporter", "text"),
            ("state", "text"),
            ("created_seq", "bigint"),
            ("head_seq", "bigint"),
            ("head_hash", "bytea"),
            ("dispatched_at", "text"),
            ("received_at", "text"),
        ],
        [
            (
                d["id"],
                d["sender"],
                d["to"],
                ",".join(leg["carrier"] for leg in d["legs"]) or None,
                d["state"],
                d["created_seq"],
                d["head_seq"],
                head("transfer", d["id"]) or b"",
                d.get("dispatched_at"),
                d.get("received_at"),
            )
            for d in transfers
        ],
    )


def _upsert(
    driver: Driver,
    table: str,
    key: str,
    columns: list[tuple[str, str]],
    rows: list[tuple[Any, ...]],
) -> None:
    updates = ", ".join(f"{name} = excluded.{name}" for name, _ in columns if name != key)
    driver.insert(table, columns, rows, f"ON CONFLICT ({key}) DO UPDATE SET {updates}")


def _write_orgs(driver: Driver, orgs: list[Doc]) -> None:
    if not orgs:
        return
    _upsert(
        driver,
        "organisations",
        "id",
        [
            ("id", "text"),
            ("name", "text"),
            ("bin", "text"),
            ("roles", "text"),
            ("country", "text"),
            ("region", "text"),
            ("registered_seq", "bigint"),
            ("updated_seq", "bigint"),
            ("deregistered_seq", "bigint"),
        ],
        [
            (
                d["id"],
                d["name"],
                d["bin"],
                ",".join(d["roles"]),
                d["country"],
                d["region"],
                d["registered_seq"],
                d["updated_seq"],
                d["deregistered_seq"],
            )
            for d in orgs
        ],
    )
    columns = [
        ("org", "text"),
        ("number", "text"),
        ("valid_from", "text"),
        ("valid_to", "text"),
        ("waste_codes", "text"),
        ("categories", "text"),
        ("operations", "text"),
        ("capacity_kg", "bigint"),
        ("status", "text"),
        ("granted_seq", "bigint"),
        ("updated_seq", "bigint"),
    ]
    updates = ", ".join(f"{n} = excluded.{n}" for n, _ in columns if n not in ("org", "number"))
    driver.insert(
        "licences",
        columns,
        [
            (
                d["id"],
                number,
                lic["valid_from"],
                lic["valid_to"],
                ",".join(lic["waste_codes"]),
                ",".join(str(c) for c in lic["categories"]),
                ",".join(lic["operations"]),
                lic["capacity_kg"],
                lic["status"],
                lic["granted_seq"],
                lic["updated_seq"],
            )
            for d in orgs
            for number, lic in sorted(d["licences"].items())
        ],
        f"ON CONFLICT (org, number) DO UPDATE SET {updates}",
    )

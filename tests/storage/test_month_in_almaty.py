"""End to end: a month of e-waste custody in Almaty on the durable log.

Three collectors, two transporters and two licensed recyclers (one licence
expires mid-month), a producer and an inspector. Two hundred lots are
registered; some are split, some merged into containers; transfers go out
every few days; one lot is refused and sent elsewhere, one is lost in
transit; a short receipt opens a discrepancy that a revision, approved by
both parties, resolves; recyclers report output fractions. Every refusal the
rules demand happens, and the final log verifies, from the database and
through the CLI, and rebuilds to the same projections.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ledger.custody.settings import Rules
from ledger.demo import lot_fields
from ledger.entries import Entry
from ledger.errors import VerificationError
from ledger.events import make_event, sign_event
from ledger.genesis import make_genesis
from ledger.keys import SigningKey
from ledger.memlog import MemoryLog
from ledger.note import NoteSigner
from ledger.storage import migrate
from ledger.storage.audit import audit_database
from ledger.storage.backup import export_header, import_lines
from ledger.storage.engine import make_engine
from ledger.storage.rebuild import rebuild_projections
from ledger.storage.sqllog import SqlLog
from ledger.storage.stats import Scope, statistics
from tests.storage.logs import block_of, label
from tests.tizbek_cli import run_tizbek

ORIGIN = "almaty.tizbek.kz/log"
AUTHORITY = "kz-eco"
COLLECTORS = ["almaty-collect", "medeu-recycle-point", "alatau-eco"]
TRANSPORTERS = ["steppe-haulage", "tengri-logistics"]
RECYCLERS = ["karaganda-recycling", "kaz-ewaste"]  # the second's licence ends mid-month
DAYS = 30


class Month:
    """The durable log, everyone's keys, and a clock that runs through the month."""

    def __init__(self, database_url: str) -> None:
        # Days start at midnight, so an event's date depends only on the story, not on
        # the hour the test runs.
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = today - timedelta(days=DAYS + 1)
        self.clock = self.start
        self.mid = (self.start + timedelta(days=DAYS // 2)).date().isoformat()
        self.authority = SigningKey.generate()
        signer = NoteSigner(ORIGIN, SigningKey.generate())
        # Field devices sync late in this jurisdiction: signer times may be 40 days old.
        genesis = make_genesis(
            self.authority,
            origin=ORIGIN,
            log_key=signer.verifier,
            authority_id=AUTHORITY,
            authority_name="Ministry of Ecology and Natural Resources",
            at=self.at,
            rules=Rules(max_past_seconds=40 * 86_400),
        )
        seed = MemoryLog(signer=signer, genesis=genesis)
        migrate.upgrade(database_url)
        self.engine: Engine = make_engine(database_url)
        import_lines(
            self.engine,
            [export_header(str(signer.verifier), [n for _, n in seed.checkpoints])]
            + [e.data.decode() for e in seed.entries],
        )
        self.log = SqlLog(self.engine, signer)
        self.keys: dict[str, SigningKey] = {AUTHORITY: self.authority}
        self.heads: dict[tuple[str, str], str] = {}
        self.refusals: list[tuple[str, str | None]] = []

    @property
    def at(self) -> str:
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def act(self, actor: str, etype: str, **fields: Any) -> Entry:
        self.clock += timedelta(minutes=7)
        key = self.keys[actor]
        event = make_event(etype, log=ORIGIN, actor=actor, key=key, at=self.at, **fields)
        entry, _ = self.log.append(sign_event(key, event))
        for name in ("lot", "transfer", "into"):
            if isinstance(fields.get(name), str):
                self.heads[("lot" if name == "into" else name, fields[name])] = entry.hash.hex()
        for item in fields.get("lots", []) + fields.get("children", []):
            self.heads[("lot", item["lot"])] = entry.hash.hex()
            if "return_lot" in item:
                self.heads[("lot", item["return_lot"])] = entry.hash.hex()
        return entry

    def refused(self, rule: str, actor: str, etype: str, **fields: Any) -> None:
        """Expect a refusal for ``rule`` (a custody rule, or a protocol check's name)."""
        with pytest.raises(VerificationError) as caught:
            self.act(actor, etype, **fields)
        exc = caught.value
        self.refusals.append((exc.check, exc.rule))
        assert rule in (exc.rule, exc.check), exc.message

    @property
    def month(self) -> str:
        """The reporting month of the clock: Almaty keeps UTC+5 all year."""
        return (self.clock + timedelta(hours=5)).strftime("%Y-%m")

    @property
    def late(self) -> bool:
        """Whether the story's clock is past the day the second licence ends."""
        return self.clock.date().isoformat() > self.mid

    def head(self, kind: str, ident: str) -> str:
        return self.heads[(kind, ident)]

    def setup(self) -> None:
        orgs = [
            *((c, ["collector"], "Almaty") for c in COLLECTORS),
            *((t, ["transporter"], "Almaty") for t in TRANSPORTERS),
            (RECYCLERS[0], ["recycler"], "Karaganda Region"),
            (RECYCLERS[1], ["recycler"], "Almaty Region"),
            ("samsung-kz", ["producer"], "Almaty"),
            ("eco-inspectorate", ["inspector"], "Astana"),
        ]
        for n, (org, roles, region) in enumerate(orgs):
            self.act(
                AUTHORITY,
                "org.registered",
                org=org,
                name=f"{org} LLP",
                bin=f"{190340000100 + n:012d}",
                roles=roles,
                country="KZ",
                region=region,
            )
            key = SigningKey.generate()
            self.act(
                AUTHORITY,
                "key.bound",
                org=org,
                public_key=key.public.base64,
                key_id=key.key_id,
                label="field device",
            )
            self.keys[org] = key
        for collector in COLLECTORS:
            self.act(
                AUTHORITY, "labels.issued", org=collector, block=block_of(collector), count=500
            )
        licence = {
            "waste_codes": ["20 01 35*", "20 01 36", "16 02 13*", "16 02 14", "16 02 16"],
            "categories": [1, 2, 3, 4, 5, 6],
            "operations": ["R3", "R4", "R5", "R12", "R13", "D10"],
        }
        year = self.start.year
        self.act(
            AUTHORITY,
            "license.granted",
            org=RECYCLERS[0],
            license="KZ-01-2025-0007",
            valid_from=f"{year - 1}-01-01",
            valid_to=f"{year + 2}-12-31",
            **licence,
        )
        self.act(
            AUTHORITY,
            "license.granted",
            org=RECYCLERS[1],
            license="KZ-02-2024-0311",
            valid_from=f"{year - 2}-06-01",
            valid_to=self.mid,
            **licence,
        )


def _outputs(weight: int, rng: random.Random) -> list[dict[str, Any]]:
    shares = [
        ("19 12 02", "ferrous", 0.34),
        ("19 12 03", "non_ferrous", 0.12),
        ("19 12 04", "plastics", 0.28),
        ("16 02 15*", "circuit_boards", 0.09),
        ("16 06 01*", "batteries", 0.05),
    ]
    grams = [int(weight * share * rng.uniform(0.9, 1.0)) for _, _, share in shares]
    outs: list[dict[str, Any]] = [
        {"waste_code": c, "material": m, "weight_g": g}
        for (c, m, _), g in zip(shares, grams, strict=True)
    ]
    residue = weight - sum(grams) - rng.randint(0, weight // 50)
    outs.append({"waste_code": "19 12 11*", "material": "residues", "weight_g": max(0, residue)})
    return outs


def test_a_month_in_almaty(tmp_path: Path, database_url: str) -> None:
    rng = random.Random(2026)
    m = Month(database_url)
    m.setup()
    held: dict[str, list[str]] = {c: [] for c in COLLECTORS}
    at_recycler: dict[str, list[str]] = {r: [] for r in RECYCLERS}
    weights: dict[str, int] = {}
    registered = splits = merges = processed = 0
    special_done: set[str] = set()
    # The statistics, tallied by hand as the story goes: grams per (month, category, region).
    tally = Tally()
    region_of = {RECYCLERS[0]: "Karaganda Region", RECYCLERS[1]: "Almaty Region"}

    for day in range(DAYS):
        m.clock = m.start + timedelta(days=day, hours=8)
        # Collection: about seven lots a day, two hundred in the month.
        for _ in range(7 if registered < 200 - 7 * (DAYS - day - 1) else 6):
            if registered >= 200:
                break
            collector = COLLECTORS[registered % 3]
            lot = label(collector, registered + 1)
            weight = rng.randint(8_000, 250_000)
            code, hazardous = rng.choice([("20 01 35*", True), ("20 01 36", False)])
            fields = lot_fields(
                lot,
                weight_g=weight,
                waste_code=code,
                hazardous=hazardous,
                hp_codes=["HP14"] if hazardous else [],
                category=rng.choice([5, 6]),
                items=rng.randint(1, 60),
                source=rng.choice(["household", "business", "epr_takeback"]),
            )
            if registered % 10 == 0:
                fields["producer"] = "samsung-kz"  # an EPR take-back attributed to its producer
            m.act(collector, "lot.registered", **fields)
            tally.registered(m.month, lot, fields)
            registered += 1
            held[collector].append(lot)
            weights[lot] = weight
        # A split and a merge now and then, at the collection points.
        if day % 7 == 2:
            collector = COLLECTORS[day % 3]
            parent = held[collector].pop(0)
            half = weights[parent] // 2
            m.refused(
                "weights",
                collector,
                "lot.split",
                lot=parent,
                after=m.head("lot", parent),
                children=[
                    {"lot": f"{parent}-A", "weight_g": half},
                    {"lot": f"{parent}-B", "weight_g": weights[parent]},
                ],
            )
            m.act(
                collector,
                "lot.split",
                lot=parent,
                after=m.head("lot", parent),
                children=[
                    {"lot": f"{parent}-A", "weight_g": half},
                    {"lot": f"{parent}-B", "weight_g": weights[parent] - half},
                ],
            )
            held[collector] += [f"{parent}-A", f"{parent}-B"]
            tally.split(parent, {f"{parent}-A": half, f"{parent}-B": weights[parent] - half})
            weights[f"{parent}-A"], weights[f"{parent}-B"] = half, weights[parent] - half
            splits += 1
        if day % 7 == 4:
            collector = COLLECTORS[day % 3]
            docs = _lot_docs(m.engine, held[collector])
            by_category: dict[int, list[str]] = {}
            for d in docs:
                by_category.setdefault(d["category"], []).append(d["id"])
            same = max(by_category.values(), key=len)[:2] if by_category else []
            if len(same) == 2:
                into = f"CNT-{day:02d}"
                m.act(
                    collector,
                    "lot.merged",
                    into=into,
                    waste_code="20 01 35*",
                    lots=[{"lot": x, "after": m.head("lot", x)} for x in same],
                )
                for x in same:
                    held[collector].remove(x)
                held[collector].append(into)
                tally.merged(into, same)
                weights[into] = sum(weights[x] for x in same)
                merges += 1
        # Every third day each collector sends what it holds.
        if day % 3 == 2:
            for n, collector in enumerate(COLLECTORS):
                lots, held[collector] = held[collector], []
                if not lots:
                    continue
                transfer = f"TR-{day:02d}-{n}"
                recycler = RECYCLERS[(day + n) % 2]
                carrier = TRANSPORTERS[n % 2]
                if m.late and recycler == RECYCLERS[1]:
                    m.refused(
                        "licence",
                        collector,
                        "transfer.dispatched",
                        transfer=transfer,
                        to=recycler,
                        transporter=carrier,
                        lots=[
                            {"lot": x, "after": m.head("lot", x), "weight_g": weights[x]}
                            for x in lots
                        ],
                    )
                    recycler = RECYCLERS[0]
                m.act(
                    collector,
                    "transfer.dispatched",
                    transfer=transfer,
                    to=recycler,
                    transporter=carrier,
                    vehicle=f"{n + 1:03d} AB 02",
                    lots=[
                        {"lot": x, "after": m.head("lot", x), "weight_g": weights[x]} for x in lots
                    ],
                )
                other = TRANSPORTERS[(n + 1) % 2]
                m.refused(
                    "transporter",
                    other,
                    "transfer.taken_over",
                    transfer=transfer,
                    after=m.head("transfer", transfer),
                )
                m.act(
                    carrier,
                    "transfer.taken_over",
                    transfer=transfer,
                    after=m.head("transfer", transfer),
                )
                if "lost" not in special_done and len(lots) > 2:
                    lost = lots.pop()
                    m.act(
                        carrier,
                        "lot.lost",
                        lot=lost,
                        after=m.head("lot", lost),
                        reason="fell from the truck on the Kapshagay road",
                    )
                    m.refused(
                        "lot-state",
                        carrier,
                        "lot.lost",
                        lot=lost,
                        after=m.head("lot", lost),
                        reason="again",
                    )
                    special_done.add("lost")
                m.clock += timedelta(hours=1)
                wrong = RECYCLERS[(RECYCLERS.index(recycler) + 1) % 2]
                items = []
                for x in lots:
                    item: dict[str, Any] = {
                        "lot": x,
                        "after": m.head("lot", x),
                        "weight_g": int(weights[x] * rng.uniform(0.97, 1.02)),
                        "outcome": "accepted",
                    }
                    if "refused" not in special_done and x.endswith("7"):
                        item.update(outcome="refused", reason="lot holds refrigerators")
                        special_done.add("refused")
                        refused_lot = x
                    elif "short" not in special_done and day > 10:
                        item["weight_g"] = int(weights[x] * 0.75)
                        special_done.add("short")
                        short = (x, transfer)
                    items.append(item)
                m.refused(
                    "destination",
                    wrong,
                    "transfer.received",
                    transfer=transfer,
                    after=m.head("transfer", transfer),
                    lots=items,
                )
                receipt = m.act(
                    recycler,
                    "transfer.received",
                    transfer=transfer,
                    after=m.head("transfer", transfer),
                    lots=items,
                )
                for item in items:
                    if item["outcome"] == "accepted":
                        tally.received(m.month, item["lot"], region_of[recycler], item["weight_g"])
                    weights[item["lot"]] = item["weight_g"]
                    if item["outcome"] == "accepted":
                        at_recycler[recycler].append(item["lot"])
                    else:
                        held[collector].append(item["lot"])
                if "short" in special_done and "revised" not in special_done:
                    lot, _ = short
                    m.act(
                        recycler,
                        "revision.proposed",
                        revision="REV-1",
                        entry=receipt.seq,
                        changes=[{"lot": lot, "weight_g": weights[lot] * 100 // 75}],
                        reason="the weighbridge was not zeroed before this lot",
                    )
                    m.act(collector, "revision.approved", revision="REV-1")
                    weights[lot] = weights[lot] * 100 // 75
                    special_done.add("revised")
        # Recyclers process what they received, each within its licence.
        for recycler in RECYCLERS:
            for lot in at_recycler[recycler][:4]:
                if m.late and recycler == RECYCLERS[1]:
                    m.refused(
                        "licence",
                        recycler,
                        "lot.processed",
                        lot=lot,
                        after=m.head("lot", lot),
                        operation="R4",
                        outputs=_outputs(weights[lot], rng),
                    )
                    continue
                if "overweight" not in special_done:
                    m.refused(
                        "mass-balance",
                        recycler,
                        "lot.processed",
                        lot=lot,
                        after=m.head("lot", lot),
                        operation="R4",
                        outputs=[
                            {
                                "waste_code": "19 12 02",
                                "material": "ferrous",
                                "weight_g": weights[lot] * 2,
                            }
                        ],
                    )
                    special_done.add("overweight")
                outputs = _outputs(weights[lot], rng)
                m.act(
                    recycler,
                    "lot.processed",
                    lot=lot,
                    after=m.head("lot", lot),
                    operation="R4",
                    outputs=outputs,
                )
                tally.processed(m.month, lot, region_of[recycler], weights[lot], outputs)
                at_recycler[recycler].remove(lot)
                processed += 1
        if day == 20:
            m.refused(
                "role",
                COLLECTORS[0],
                "lot.processed",
                lot=label(COLLECTORS[0], 1),
                after=m.head("lot", label(COLLECTORS[0], 1)),
                operation="R4",
                outputs=[],
            )
            m.act(
                "eco-inspectorate",
                "inspection.recorded",
                target={"kind": "org", "id": RECYCLERS[0]},
                finding="mass balance for the period checked against the weighbridge log",
            )

        # Each day's events stay within that day: dates never depend on when the test runs.
        assert m.clock.date() == (m.start + timedelta(days=day)).date()

    assert registered == 200
    assert {"lost", "refused", "short", "revised", "overweight"} <= special_done
    assert splits >= 3
    assert merges >= 2
    assert processed >= 100
    expected_rules = {
        "weights",
        "licence",
        "transporter",
        "lot-state",
        "destination",
        "mass-balance",
        "role",
    }
    assert {rule for _, rule in m.refusals} == expected_rules

    m.log.close()
    report = audit_database(m.engine)
    assert report.violations == ()
    run = run_tizbek("verify", "--db", database_url, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"OK: {report.entries} entries")

    before = _tables(m.engine)
    states = {row[0]: row[3] for row in before["lots"]}
    assert states[refused_lot] in ("held", "dispatched", "in_transit", "processed")
    assert list(states.values()).count("lost") == 1
    (short_doc,) = _lot_docs(m.engine, [short[0]])
    assert short_doc["discrepancy"]["status"] == "resolved"
    assert short_doc["discrepancy"]["resolution"] == "revision REV-1"
    live = statistics(m.engine)  # from the running totals
    tally.check(live)
    # The same figures from the rows themselves, as a report at a checkpoint reads them.
    assert _figures(statistics(m.engine, Scope(size=report.entries))) == _figures(live)
    _check_stock(m.engine)
    rebuild_projections(m.engine)
    assert _tables(m.engine) == before
    m.engine.dispose()


class Tally:
    """The figures the statistics must show, added up by hand from what the story did."""

    def __init__(self) -> None:
        self.category: dict[str, int] = {}
        self.origins: dict[str, dict[str, int]] = {}
        self.producer_lots: set[str] = set()
        self.cells: dict[tuple[str, str, int, str], int] = {}
        self.materials: dict[tuple[str, int, str], int] = {}
        self.treated: dict[int, list[int]] = {}
        self.credited = 0

    def _add(self, measure: str, month: str, lot: str, region: str, grams: int) -> None:
        key = (measure, month, self.category[lot], region)
        self.cells[key] = self.cells.get(key, 0) + grams

    def registered(self, month: str, lot: str, fields: dict[str, Any]) -> None:
        self.category[lot] = fields["category"]
        self.origins[lot] = {lot: fields["weight_g"]}
        if fields.get("producer") == "samsung-kz":
            self.producer_lots.add(lot)
        self._add("collected", month, lot, "Almaty", fields["weight_g"])

    def split(self, parent: str, children: dict[str, int]) -> None:
        whole = sum(children.values())
        for child, grams in children.items():
            self.category[child] = self.category[parent]
            # Protocol §11.2: each origin's grams scaled by the share, rounded down.
            self.origins[child] = {o: g * grams // whole for o, g in self.origins[parent].items()}

    def merged(self, into: str, inputs: list[str]) -> None:
        self.category[into] = self.category[inputs[0]]
        self.origins[into] = {}
        for lot in inputs:
            for o, g in self.origins[lot].items():
                self.origins[into][o] = self.origins[into].get(o, 0) + g

    def received(self, month: str, lot: str, region: str, grams: int) -> None:
        self._add("received", month, lot, region, grams)

    def processed(
        self, month: str, lot: str, region: str, grams: int, outputs: list[dict[str, Any]]
    ) -> None:
        self._add("processed", month, lot, region, grams)
        cat = self.category[lot]
        treated = self.treated.setdefault(cat, [0, 0])
        treated[0] += grams
        for out in outputs:
            key = (month[:4], cat, out["material"])
            self.materials[key] = self.materials.get(key, 0) + out["weight_g"]
            if out["material"] != "residues":  # R4 outputs count, residues never do
                treated[1] += out["weight_g"]
        self.credited += sum(g for o, g in self.origins[lot].items() if o in self.producer_lots)

    def check(self, stats: dict[str, Any]) -> None:
        shown = {
            (measure, row["month"], row["category"], row["region"]): row[measure]["grams"]
            for row in stats["months"]
            for measure in ("collected", "received", "processed")
            if measure in row
        }
        assert len(shown) > 6
        assert shown == self.cells
        by_material = {
            (r["year"], r["category"], r["material"]): r["grams"] for r in stats["recovered"]
        }
        assert by_material == self.materials
        rates = {r["category"]: r for r in stats["rates"]}
        assert set(rates) == set(self.treated)
        for cat, (treated, recycled) in self.treated.items():
            assert rates[cat]["processed_g"] == treated
            assert rates[cat]["reused_recycled_g"] == recycled
            assert rates[cat]["reuse_recycling_percent"] == round(100 * recycled / treated, 1)
            assert rates[cat]["target_reuse_recycling_percent"] == 55  # categories 5 and 6
        (epr,) = stats["epr"]
        assert epr["producer"] == "samsung-kz"
        assert epr["collected_g"] == sum(self.origins[lot][lot] for lot in self.producer_lots)
        assert epr["credited_g"] == self.credited > 0


def _figures(stats: dict[str, Any]) -> Any:
    """The statistics without their links (which name the scope)."""
    if isinstance(stats, dict):
        return {k: _figures(v) for k, v in stats.items() if k not in ("query", "scope")}
    if isinstance(stats, list):
        return [_figures(v) for v in stats]
    return stats


def _check_stock(engine: Engine) -> None:
    """Stock rows summed per holder equal the weight of the lots each holds now."""
    with engine.connect() as conn:
        from_flows: dict[str, int] = dict(
            conn.execute(
                text(
                    "SELECT org, sum(grams) FROM flows WHERE kind NOT IN "
                    "('recovered', 'credited', 'unaccounted') GROUP BY org HAVING sum(grams) <> 0"
                )
            ).all()
        )
        held: dict[str, int] = dict(
            conn.execute(
                text("SELECT holder, sum(weight_g) FROM lots WHERE state = 'held' GROUP BY holder")
            ).all()
        )
    assert from_flows == held


def _lot_docs(engine: Engine, lots: list[str]) -> list[dict[str, Any]]:
    import json

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT doc FROM subject_docs WHERE kind = 'lot'")).scalars().all()
    docs = [json.loads(r) for r in rows]
    return [d for d in docs if d["id"] in lots]


def _tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2"))]
            for t in (
                "keys",
                "subject_heads",
                "subject_docs",
                "organisations",
                "licences",
                "lots",
                "transfers",
                "flows",
            )
        }

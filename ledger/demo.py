"""A small, realistic custody story in an in-memory log, for the demo and for tests.

An authority registers a collector in Almaty, a transporter and a recycler in
Karaganda, licenses the recycler and binds everyone's keys; the collector
registers lots of small IT equipment and dispatches them; the transporter
takes them over; the recycler weighs and accepts them, then dismantles them
into output fractions.

A second, smaller journey follows on the same road: a box of small household
appliances that weighs more than a tenth less at the weighbridge than the
collector declared, so the recycler accepts it with an open discrepancy that
the collector and the recycler have 15 days to resolve.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.events import make_event, sign_event, utc_now
from ledger.genesis import make_genesis
from ledger.keys import SigningKey
from ledger.labels import ids
from ledger.memlog import MemoryLog
from ledger.note import NoteSigner

DEFAULT_ORIGIN = "demo.tizbek.kz/log"
AUTHORITY_ID = "kz-authority"
#: The label block the demo collector was issued.
DEMO_BLOCK = "D3M0"
#: Who signs in to the demo's web app for each role (the inspector is the authority).
DEMO_USERS = {
    "collector": "almaty-collect",
    "transporter": "steppe-haulage",
    "recycler": "karaganda-recycling",
}


def demo_lot(n: int) -> str:
    """The id on the demo collector's label ``n``."""
    return ids.make(DEMO_BLOCK, n)


@dataclass
class DemoLog:
    """The log and the keys of everyone in the story."""

    log: MemoryLog
    authority: SigningKey
    keys: dict[str, SigningKey] = field(default_factory=dict)

    def submit(self, etype: str, actor: str, **fields: Any) -> str:
        """Sign an event as ``actor`` and append it; return its leaf hash (hex)."""
        key = self.authority if actor == AUTHORITY_ID else self.keys[actor]
        event = make_event(etype, log=self.log.origin, actor=actor, key=key, **fields)
        return self.log.append(sign_event(key, event)).hash.hex()

    def bind(self, org: str, label: str) -> None:
        """Give ``org`` a fresh key, bound by the authority."""
        key = SigningKey.generate()
        self.keys[org] = key
        self.submit(
            "key.bound",
            AUTHORITY_ID,
            org=org,
            public_key=key.public.base64,
            key_id=key.key_id,
            label=label,
        )


def lot_fields(lot: str, **changes: Any) -> dict[str, Any]:
    """The fields of a collector's ``lot.registered`` for a box of small IT equipment."""
    fields: dict[str, Any] = {
        "lot": lot,
        "category": 6,
        "waste_code": "20 01 35*",
        "hazardous": True,
        "hp_codes": ["HP14"],
        "items": 40,
        "weight_g": 182_500,
        "weight_measured": True,
        "source": "household",
        "site": "Almaty, Bostandyq district",
    }
    fields.update(changes)
    return fields


def build_demo_log(*, origin: str = DEFAULT_ORIGIN, lots: int = 1) -> DemoLog:
    """Build the demo story with ``lots`` lots travelling in one transfer."""
    authority = SigningKey.generate()
    signer = NoteSigner(origin, SigningKey.generate())
    genesis = make_genesis(
        authority,
        origin=origin,
        log_key=signer.verifier,
        authority_id=AUTHORITY_ID,
        authority_name="Demo environmental authority",
    )
    demo = DemoLog(MemoryLog(signer=signer, genesis=genesis), authority)
    orgs = [
        ("almaty-collect", "Almaty Collect LLP", ["collector"], "Almaty"),
        ("steppe-haulage", "Steppe Haulage LLP", ["transporter"], "Karaganda Region"),
        ("karaganda-recycling", "Karaganda Recycling JSC", ["recycler"], "Karaganda Region"),
    ]
    for n, (org, name, roles, region) in enumerate(orgs):
        demo.submit(
            "org.registered",
            AUTHORITY_ID,
            org=org,
            name=name,
            bin=f"2104400{n:05d}",
            roles=roles,
            country="KZ",
            region=region,
        )
    year = int(utc_now()[:4])
    demo.submit(
        "license.granted",
        AUTHORITY_ID,
        org="karaganda-recycling",
        license="KZ-REC-0042",
        valid_from=f"{year - 1}-01-01",
        valid_to=f"{year + 1}-12-31",
        waste_codes=["20 01 35*", "20 01 36", "16 02 13*", "16 02 14"],
        categories=[2, 5, 6],
        operations=["R4", "R12", "R13", "D10"],
        capacity_kg=5_000_000,
    )
    demo.bind("almaty-collect", "collection point phone")
    demo.bind("steppe-haulage", "driver tablet")
    demo.bind("karaganda-recycling", "weighbridge PC")
    labels = max(lots, 999) + 1  # a thousand labels, or one more than the lots
    demo.submit(
        "labels.issued",
        AUTHORITY_ID,
        org="almaty-collect",
        block=DEMO_BLOCK,
        count=labels,
    )
    # The journey's times are a real one's: collected yesterday morning in Almaty, a night
    # on the road to Karaganda (about 1,000 km), weighed and treated today.
    now = dt.datetime.fromisoformat(utc_now().replace("Z", "+00:00"))

    def hours_ago(hours: float) -> str:
        return (now - dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    heads = {}
    for i in range(lots):
        lot = demo_lot(i)
        heads[lot] = demo.submit(
            "lot.registered", "almaty-collect", **lot_fields(lot), at=hours_ago(30)
        )
    dispatched = demo.submit(
        "transfer.dispatched",
        "almaty-collect",
        transfer="TR-DEMO-1",
        lots=[{"lot": lot, "after": h, "weight_g": 182_500} for lot, h in heads.items()],
        to="karaganda-recycling",
        transporter="steppe-haulage",
        vehicle="KZ 123 ABC 02",
        at=hours_ago(26),
    )
    taken = demo.submit(
        "transfer.taken_over",
        "steppe-haulage",
        transfer="TR-DEMO-1",
        after=dispatched,
        vehicle="KZ 123 ABC 02",
        at=hours_ago(25.5),
    )
    demo.log.checkpoint()
    received = demo.submit(
        "transfer.received",
        "karaganda-recycling",
        transfer="TR-DEMO-1",
        after=taken,
        lots=[
            {"lot": lot, "after": dispatched, "weight_g": 181_900, "outcome": "accepted"}
            for lot in heads
        ],
        at=hours_ago(12),
    )
    for lot in heads:
        demo.submit(
            "lot.processed",
            "karaganda-recycling",
            lot=lot,
            after=received,
            operation="R4",
            at=hours_ago(2),
            outputs=[
                {"waste_code": "19 12 02", "material": "ferrous", "weight_g": 61_000},
                {"waste_code": "19 12 03", "material": "non_ferrous", "weight_g": 24_500},
                {"waste_code": "19 12 04", "material": "plastics", "weight_g": 52_300},
                {"waste_code": "16 02 15*", "material": "circuit_boards", "weight_g": 18_200},
                {"waste_code": "16 06 01*", "material": "batteries", "weight_g": 9_800},
                {"waste_code": "19 12 11*", "material": "residues", "weight_g": 16_100},
            ],
        )
    demo.log.checkpoint()
    _short_journey(demo, demo_lot(labels - 1), hours_ago)  # the block's last label
    demo.log.checkpoint()
    return demo


#: The second journey's lot as the collector declared it, and as the recycler weighed it.
SHORT_DECLARED_G = 96_000
SHORT_MEASURED_G = 84_700


def _short_journey(demo: DemoLog, lot: str, hours_ago: Callable[[float], str]) -> None:
    """Collected the same morning, on the road the same night, weighed short this morning."""
    fields = lot_fields(
        lot,
        category=5,
        waste_code="20 01 36",
        hazardous=False,
        hp_codes=[],
        items=25,
        weight_g=SHORT_DECLARED_G,
        source="business",
        site="Almaty, Almaly district",
    )
    registered = demo.submit("lot.registered", "almaty-collect", **fields, at=hours_ago(29))
    dispatched = demo.submit(
        "transfer.dispatched",
        "almaty-collect",
        transfer="TR-DEMO-2",
        lots=[{"lot": lot, "after": registered, "weight_g": SHORT_DECLARED_G}],
        to="karaganda-recycling",
        transporter="steppe-haulage",
        vehicle="KZ 123 ABC 02",
        at=hours_ago(22),
    )
    taken = demo.submit(
        "transfer.taken_over",
        "steppe-haulage",
        transfer="TR-DEMO-2",
        after=dispatched,
        vehicle="KZ 123 ABC 02",
        at=hours_ago(21.5),
    )
    demo.submit(
        "transfer.received",
        "karaganda-recycling",
        transfer="TR-DEMO-2",
        after=taken,
        lots=[
            {
                "lot": lot,
                "after": dispatched,
                "weight_g": SHORT_MEASURED_G,
                "outcome": "accepted",
            }
        ],
        at=hours_ago(4),
    )

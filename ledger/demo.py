"""A small, realistic custody story in an in-memory log, for the demo and for tests.

An authority registers the keys of a collector in Almaty, a transporter and a
licensed recycler; the collector registers a lot of small IT equipment and
dispatches it; the transporter takes it over; the recycler weighs and accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.events import make_event, sign_event
from ledger.genesis import make_genesis
from ledger.keys import SigningKey
from ledger.memlog import MemoryLog
from ledger.note import NoteSigner

DEFAULT_ORIGIN = "demo.tizbek.kz/log"
AUTHORITY_ID = "kz-authority"


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
    demo.bind("almaty-collect", "collection point phone")
    demo.bind("steppe-haulage", "driver tablet")
    demo.bind("karaganda-recycling", "weighbridge PC")
    heads = {}
    for i in range(lots):
        lot = f"KZDEMO{i:04d}"
        heads[lot] = demo.submit(
            "lot.registered",
            "almaty-collect",
            lot=lot,
            category=6,
            waste_code="20 01 35*",
            hazardous=True,
            hp_codes=["HP14"],
            items=40,
            weight_g=182_500,
            weight_measured=True,
            source="household",
            site="Almaty, Bostandyq district",
        )
    dispatched = demo.submit(
        "transfer.dispatched",
        "almaty-collect",
        transfer="TR-DEMO-1",
        lots=[{"lot": lot, "after": h, "weight_g": 182_500} for lot, h in heads.items()],
        to="karaganda-recycling",
        transporter="steppe-haulage",
        vehicle="KZ 123 ABC 02",
    )
    taken = demo.submit(
        "transfer.taken_over",
        "steppe-haulage",
        transfer="TR-DEMO-1",
        after=dispatched,
        vehicle="KZ 123 ABC 02",
    )
    demo.log.checkpoint()
    demo.submit(
        "transfer.received",
        "karaganda-recycling",
        transfer="TR-DEMO-1",
        after=taken,
        lots=[
            {"lot": lot, "after": dispatched, "weight_g": 181_900, "outcome": "accepted"}
            for lot in heads
        ],
    )
    demo.log.checkpoint()
    return demo

"""A small world of organisations on an in-memory log, with a clock the tests move."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from ledger.custody.rules import Doc
from ledger.demo import lot_fields
from ledger.entries import Entry
from ledger.errors import VerificationError
from ledger.events import make_event, sign_event
from ledger.genesis import make_genesis
from ledger.keys import SigningKey
from ledger.labels import ids
from ledger.memlog import MemoryLog
from ledger.note import NoteSigner

AUTHORITY = "kz-eco"
ORIGIN = "test.tizbek.kz/log"
START = "2026-11-02T08:00:00Z"

#: Who is in the world: id, roles, region.
ORGS = [
    ("col-a", ["collector"], "Almaty"),
    ("col-b", ["collector"], "Almaty"),
    ("trans-a", ["transporter"], "Almaty"),
    ("trans-b", ["transporter"], "Karaganda Region"),
    ("rec-a", ["recycler"], "Karaganda Region"),
    ("rec-b", ["recycler"], "Almaty"),
    ("prod-a", ["producer"], "Astana"),
    ("insp", ["inspector"], "Astana"),
]

#: The label block issued to each organisation that makes lots, and its size.
BLOCKS = {"col-a": "AAAA", "col-b": "BBBB", "rec-a": "RRRR"}
BLOCK_COUNT = 10_000


def lot_id(serial: int, org: str = "col-a") -> str:
    """The id printed on label ``serial`` of ``org``'s block."""
    return ids.make(BLOCKS[org], serial)


L1, L2, L3, L4, L5, L9, L10 = (lot_id(n) for n in (1, 2, 3, 4, 5, 9, 10))
LB = lot_id(1, "col-b")

#: Outputs of dismantling a 182.5 kg box of small IT equipment.
OUTPUTS = [
    {"waste_code": "19 12 02", "material": "ferrous", "weight_g": 61_000},
    {"waste_code": "19 12 04", "material": "plastics", "weight_g": 52_300},
    {"waste_code": "16 02 15*", "material": "circuit_boards", "weight_g": 18_200},
]


class World:
    """The log, everyone's keys, and helpers to act and to expect refusals."""

    def __init__(self, *, licences: bool = True) -> None:
        self.now = datetime.fromisoformat(START.replace("Z", "+00:00"))
        self.authority = SigningKey.generate()
        signer = NoteSigner(ORIGIN, SigningKey.generate())
        genesis = make_genesis(
            self.authority,
            origin=ORIGIN,
            log_key=signer.verifier,
            authority_id=AUTHORITY,
            authority_name="Ministry of Ecology",
            at=self.at,
        )
        self.log = MemoryLog(signer=signer, genesis=genesis, clock=lambda: self.at)
        self.keys: dict[str, SigningKey] = {AUTHORITY: self.authority}
        for n, (org, roles, region) in enumerate(ORGS):
            self.register(org, roles, region, n)
            self.bind(org)
        for org, block in BLOCKS.items():
            self.submit(AUTHORITY, "labels.issued", org=org, block=block, count=BLOCK_COUNT)
        if licences:
            self.grant("rec-a", "LIC-A", "2026-01-01", "2027-12-31")
            self.grant("rec-b", "LIC-B", "2026-01-01", "2026-11-15")

    @property
    def at(self) -> str:
        """The world's current time."""
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def tick(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)

    def submit(
        self, actor: str, etype: str, *, key: SigningKey | None = None, **fields: Any
    ) -> Entry:
        """Sign an event as ``actor`` now and append it."""
        signer = key or self.keys[actor]
        fields.setdefault("at", self.at)
        event = make_event(etype, log=ORIGIN, actor=actor, key=signer, **fields)
        entry = self.log.append(sign_event(signer, event))
        self.tick(minutes=1)
        return entry

    def refused(self, actor: str, etype: str, rule: str, **fields: Any) -> VerificationError:
        """Expect a refusal for breaking ``rule``; the log must not change."""
        size = self.log.size
        with pytest.raises(VerificationError) as caught:
            self.submit(actor, etype, **fields)
        assert self.log.size == size
        assert caught.value.check == "rule", caught.value.message
        assert caught.value.rule == rule, caught.value.message
        return caught.value

    def register(self, org: str, roles: list[str], region: str, n: int = 99) -> Entry:
        """The authority registers an organisation."""
        return self.submit(
            AUTHORITY,
            "org.registered",
            org=org,
            name=f"{org} LLP",
            bin=f"{210440000000 + n:012d}",
            roles=roles,
            country="KZ",
            region=region,
        )

    def bind(self, org: str, *, admin: bool = False) -> SigningKey:
        """The authority binds a fresh key to ``org``."""
        key = SigningKey.generate()
        self.submit(
            AUTHORITY,
            "key.bound",
            org=org,
            public_key=key.public.base64,
            key_id=key.key_id,
            label="terminal",
            admin=admin,
        )
        self.keys[org] = key
        return key

    def grant(self, org: str, number: str, valid_from: str, valid_to: str, **more: Any) -> Entry:
        """The authority licenses ``org`` for small IT equipment."""
        fields: dict[str, Any] = {
            "waste_codes": ["20 01 35*", "20 01 36", "16 02 13*", "16 02 14"],
            "categories": [5, 6],
            "operations": ["R4", "R12", "R13"],
            "capacity_kg": 2_000_000,
        }
        fields.update(more)
        return self.submit(
            AUTHORITY,
            "license.granted",
            org=org,
            license=number,
            valid_from=valid_from,
            valid_to=valid_to,
            **fields,
        )

    def head(self, kind: str, ident: str) -> str:
        """The leaf hash (hex) of the latest entry about a lot or transfer."""
        return self.log.state.heads()[(kind, ident)].hex()

    def doc(self, kind: str, ident: str) -> Doc:
        """The current document of a subject."""
        found = self.log.state.doc(kind, ident)
        assert found is not None, f"{kind} {ident} does not exist"
        return found

    def lot(self, ident: str, actor: str = "col-a", **changes: Any) -> Entry:
        """``actor`` registers a lot."""
        return self.submit(actor, "lot.registered", **lot_fields(ident, **changes))

    def dispatch(
        self,
        transfer: str,
        lots: list[str],
        *,
        sender: str = "col-a",
        to: str = "rec-a",
        transporter: str | list[str] | None = "trans-a",
        weight_g: int = 182_500,
        **more: Any,
    ) -> Entry:
        """``sender`` dispatches lots to ``to``."""
        if transporter is not None:
            more["transporter"] = transporter
        return self.submit(
            sender,
            "transfer.dispatched",
            transfer=transfer,
            lots=[
                {"lot": lot, "after": self.head("lot", lot), "weight_g": weight_g} for lot in lots
            ],
            to=to,
            vehicle="KZ 123 ABC 02",
            **more,
        )

    def take(self, transfer: str, carrier: str = "trans-a") -> Entry:
        """A transporter takes the transfer over."""
        return self.submit(
            carrier,
            "transfer.taken_over",
            transfer=transfer,
            after=self.head("transfer", transfer),
            vehicle="KZ 777 TRK 09",
        )

    def receive(
        self,
        transfer: str,
        lots: list[str],
        *,
        to: str = "rec-a",
        weight_g: int = 181_900,
        outcome: str = "accepted",
        **per_lot: Any,
    ) -> Entry:
        """The destination weighs and accepts (or refuses) every lot."""
        return self.submit(
            to,
            "transfer.received",
            transfer=transfer,
            after=self.head("transfer", transfer),
            lots=[
                {
                    "lot": lot,
                    "after": self.head("lot", lot),
                    "weight_g": weight_g,
                    "outcome": outcome,
                    **per_lot,
                }
                for lot in lots
            ],
        )

    def deliver(self, lot: str, transfer: str, *, to: str = "rec-a") -> None:
        """Register, dispatch, carry and accept one lot."""
        self.lot(lot)
        self.dispatch(transfer, [lot], to=to)
        self.take(transfer)
        self.receive(transfer, [lot], to=to)

    def process(self, lot: str, actor: str = "rec-a", **more: Any) -> Entry:
        """A recycler processes a lot it holds."""
        more.setdefault("operation", "R4")
        more.setdefault("outputs", OUTPUTS)
        return self.submit(actor, "lot.processed", lot=lot, after=self.head("lot", lot), **more)

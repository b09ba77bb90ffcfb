"""Random sequences of valid and invalid custody events, with the invariants checked after each.

After every step: the live projections equal a replay of the log from
scratch; no lot is in two places (a lot at rest belongs to no open transfer,
and every lot of an open transfer is on its way); and what every recycler
reports out of a lot never exceeds what went in beyond the tolerance.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ledger.chain import ChainVerifier, MemoryState
from ledger.custody.settings import Rules
from ledger.demo import lot_fields
from ledger.errors import VerificationError
from tests.ledger.custody.world import BLOCKS, World, lot_id

#: Three draws in four pick the party the rules expect; the fourth, anyone.
FAIR = st.sampled_from([True, True, True, False])
#: Lots are rarely lost: one draw in four comes from the holder.
RARE = st.sampled_from([True, False, False, False])
COLLECTORS = ["col-a", "col-b"]
TRANSPORTERS = ["trans-a", "trans-b"]
RECYCLERS = ["rec-a", "rec-b"]
EVERYONE = [*COLLECTORS, *TRANSPORTERS, *RECYCLERS, "insp"]


class Custody(RuleBasedStateMachine):
    """Drives a :class:`World` with events that may or may not be allowed."""

    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self.counter = 0
        self.accepted = 0
        self.refused = 0

    # --- acting ------------------------------------------------------------------------

    def _try(self, actor: str, etype: str, **fields: Any) -> None:
        size = self.world.log.size
        refusal: VerificationError | None = None
        try:
            self.world.submit(actor, etype, **fields)
        except VerificationError as exc:
            refusal = exc
        if refusal is None:
            self.accepted += 1
            return
        # Refused by a rule, for a stale `after`, or for a key not bound to the actor;
        # the log is unchanged either way.
        assert refusal.check in ("rule", "reference", "key"), refusal.message
        assert self.world.log.size == size
        self.refused += 1

    def _new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _lots(self) -> list[str]:
        return sorted(i for k, i in self.world.log.state.docs() if k == "lot")

    def _pick(
        self, data: st.DataObject, fair: bool, holders: list[str] | None = None
    ) -> str | None:
        """A lot: when ``fair``, one at rest (with one of ``holders``), so acting on it may pass."""
        lots = self._lots()
        if fair:
            at_rest = [x for x in lots if self.world.doc("lot", x)["state"] == "held"]
            if holders is not None:
                at_rest = [x for x in at_rest if self.world.doc("lot", x)["holder"] in holders]
            lots = at_rest or lots
        return data.draw(st.sampled_from(lots)) if lots else None

    def _transfers(self) -> list[str]:
        return sorted(i for k, i in self.world.log.state.docs() if k == "transfer")

    def _head(self, kind: str, ident: str) -> str:
        return self.world.head(kind, ident)

    @rule(collector=st.sampled_from([*COLLECTORS, "trans-a"]), weight=st.integers(1, 500_000))
    def register(self, collector: str, weight: int) -> None:
        self.counter += 1
        lot = lot_id(self.counter, collector if collector in BLOCKS else "col-a")
        self._try(collector, "lot.registered", **lot_fields(lot, weight_g=weight))

    def _holder(self, lot: str, fair: bool, anyone: str) -> str:
        return str(self.world.doc("lot", lot)["holder"]) if fair else anyone

    @rule(
        data=st.data(),
        fair=FAIR,
        sender=st.sampled_from(EVERYONE),
        to=st.sampled_from([*RECYCLERS, *RECYCLERS, *EVERYONE]),
        carriers=st.sampled_from([None, ["trans-a"], ["trans-a", "trans-b"], ["col-b"]]),
    )
    def dispatch(
        self, data: st.DataObject, fair: bool, sender: str, to: str, carriers: Any
    ) -> None:
        first = self._pick(data, fair)
        if first is None:
            return
        sender = self._holder(first, fair, sender)
        same = [
            x
            for x in self._lots()
            if x != first
            and (not fair or self.world.doc("lot", x)["holder"] == sender)
            and (not fair or self.world.doc("lot", x)["state"] == "held")
        ]
        more = data.draw(st.lists(st.sampled_from(same), max_size=2, unique=True)) if same else []
        chosen = [first, *more]
        fields: dict[str, Any] = {
            "transfer": self._new_id("T"),
            "lots": [
                {"lot": lot, "after": self._head("lot", lot), "weight_g": 1 + len(lot)}
                for lot in chosen
            ],
            "to": to,
        }
        if carriers is not None:
            fields["transporter"] = carriers
        self._try(sender, "transfer.dispatched", **fields)

    @rule(data=st.data(), fair=FAIR, carrier=st.sampled_from(EVERYONE))
    def take_over(self, data: st.DataObject, fair: bool, carrier: str) -> None:
        transfers = self._transfers()
        if transfers:
            transfer = data.draw(st.sampled_from(transfers))
            pending = [
                leg["carrier"]
                for leg in self.world.doc("transfer", transfer)["legs"]
                if leg["taken_seq"] is None
            ]
            if fair and pending:
                carrier = pending[0]
            self._try(
                carrier,
                "transfer.taken_over",
                transfer=transfer,
                after=self._head("transfer", transfer),
            )

    @rule(
        data=st.data(),
        fair=FAIR,
        receiver=st.sampled_from(EVERYONE),
        factor=st.sampled_from([1.0, 0.95, 0.5, 1.3]),
        outcome=st.sampled_from(["accepted", "accepted", "refused", "partially_refused"]),
    )
    def receive(
        self, data: st.DataObject, fair: bool, receiver: str, factor: float, outcome: str
    ) -> None:
        transfers = self._transfers()
        if not transfers:
            return
        transfer = data.draw(st.sampled_from(transfers))
        doc = self.world.doc("transfer", transfer)
        receiver = doc["to"] if fair else receiver
        items = []
        for lot in doc["lots"]:
            lot_doc = self.world.doc("lot", lot)
            if lot_doc["state"] in ("processed", "split", "merged", "lost"):
                continue
            item: dict[str, Any] = {
                "lot": lot,
                "after": self._head("lot", lot),
                "weight_g": max(2, int(lot_doc["weight_g"] * factor)),
                "outcome": outcome,
            }
            if outcome != "accepted":
                item["reason"] = "contaminated"
            if outcome == "partially_refused":
                item["refused_weight_g"] = 1
                item["return_lot"] = self._new_id("R")
            items.append(item)
        if items:
            self._try(
                receiver,
                "transfer.received",
                transfer=transfer,
                after=self._head("transfer", transfer),
                lots=items,
            )

    @rule(
        data=st.data(),
        fair=FAIR,
        recycler=st.sampled_from([*RECYCLERS, "col-a"]),
        factor=st.sampled_from([0.5, 0.99, 1.02, 1.5]),
    )
    def process(self, data: st.DataObject, fair: bool, recycler: str, factor: float) -> None:
        lot = self._pick(data, fair, RECYCLERS)
        if lot is None:
            return
        recycler = self._holder(lot, fair, recycler)
        weight = self.world.doc("lot", lot)["weight_g"]
        out = int(weight * factor)
        self._try(
            recycler,
            "lot.processed",
            lot=lot,
            after=self._head("lot", lot),
            operation="R4",
            outputs=[
                {"waste_code": "19 12 02", "material": "ferrous", "weight_g": out // 2},
                {"waste_code": "19 12 04", "material": "plastics", "weight_g": out - out // 2},
            ],
        )

    @rule(
        data=st.data(),
        fair=FAIR,
        actor=st.sampled_from(EVERYONE),
        share=st.sampled_from([0.3, 0.6, 1.2]),
    )
    def split(self, data: st.DataObject, fair: bool, actor: str, share: float) -> None:
        lot = self._pick(data, fair)
        if lot is None:
            return
        actor = self._holder(lot, fair, actor)
        weight = self.world.doc("lot", lot)["weight_g"]
        part = max(1, int(weight * share))
        self._try(
            actor,
            "lot.split",
            lot=lot,
            after=self._head("lot", lot),
            children=[
                {"lot": self._new_id("S"), "weight_g": part},
                {"lot": self._new_id("S"), "weight_g": max(1, weight - part)},
            ],
        )

    @rule(data=st.data(), fair=RARE, actor=st.sampled_from(EVERYONE))
    def lose(self, data: st.DataObject, fair: bool, actor: str) -> None:
        lot = self._pick(data, fair)
        if lot is not None:
            actor = self._holder(lot, fair, actor)
            self._try(actor, "lot.lost", lot=lot, after=self._head("lot", lot), reason="missing")

    @rule(days=st.integers(0, 4))
    def tick(self, days: int) -> None:
        self.world.tick(days=days, hours=1)

    # --- invariants --------------------------------------------------------------------

    @invariant()
    def replay_gives_the_live_projections(self) -> None:
        fresh = MemoryState()
        chain = ChainVerifier(complete=True, state=fresh)
        for entry in self.world.log.entries:
            chain.add(entry)
        live = self.world.log.state
        assert fresh.docs() == live.docs()
        assert fresh.heads() == live.heads()
        assert fresh.bindings() == live.bindings()

    @invariant()
    def no_lot_is_in_two_places(self) -> None:
        docs = self.world.log.state.docs()
        on_the_way: dict[str, str] = {}
        for (kind, ident), doc in docs.items():
            if kind == "transfer" and doc["state"] in ("dispatched", "in_transit"):
                for lot in doc["lots"]:
                    if docs[("lot", lot)]["state"] not in ("processed", "split", "merged", "lost"):
                        assert lot not in on_the_way, f"{lot} in {on_the_way[lot]} and {ident}"
                        on_the_way[lot] = ident
        for (kind, ident), doc in docs.items():
            if kind != "lot":
                continue
            if doc["state"] in ("dispatched", "in_transit"):
                assert on_the_way.get(ident) == doc["transfer"]
            else:
                assert ident not in on_the_way
                assert doc["transfer"] is None

    @invariant()
    def recyclers_never_report_more_out_than_in(self) -> None:
        tolerance = 1 + Rules().output_tolerance_percent / 100
        totals: dict[str, list[int]] = {}
        for (kind, _), doc in self.world.log.state.docs().items():
            if kind == "lot" and doc["state"] == "processed":
                out = sum(o["weight_g"] for o in doc["outputs"])
                assert out <= doc["weight_g"] * tolerance
                pair = totals.setdefault(doc["processed_by"], [0, 0])
                pair[0] += doc["weight_g"]
                pair[1] += out
        for took, gave in totals.values():
            assert gave <= took * tolerance


Custody.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCustody = Custody.TestCase

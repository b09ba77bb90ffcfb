"""Lot lifecycle rules: registration, transfers, splits, merges, treatment, loss, inspection."""

from __future__ import annotations

from datetime import date, timedelta

from ledger.custody import codes
from ledger.custody import fields as f
from ledger.custody.engine import CLOSED, Doc, Rulebook
from ledger.errors import RuleError
from ledger.events import HEX64_RE, ID_RE, Event


class LotRules(Rulebook):
    """What may happen to a lot and its transfers, and who may do it."""

    def _lot_registered(self, event: Event) -> None:
        org = self._actor(event, "collector")
        ident = f.ident(event, "lot")
        assert ident is not None
        category = f.category(f.need(event, "category"))
        waste_code = f.waste_code(f.need(event, "waste_code"))
        hazardous = f.flag(event, "hazardous")
        if hazardous != codes.is_hazardous(waste_code):
            raise RuleError(
                f"hazardous is {str(hazardous).lower()} but waste code {waste_code} says "
                f"{str(codes.is_hazardous(waste_code)).lower()}",
                rule="hazard-class",
                subject=ident,
            )
        hp_codes = f.listed(event, "hp_codes", nonempty=False)
        for hp in hp_codes:
            if not isinstance(hp, str) or not codes.HP_CODE_RE.match(hp):
                raise RuleError(f"hp code {hp!r} is not HP1-HP15 or C16", rule="format")
        if hazardous and not hp_codes:
            raise RuleError(
                f"hazardous lot {ident} needs its HP codes", rule="hazard-class", subject=ident
            )
        if not hazardous and hp_codes:
            raise RuleError(
                f"lot {ident} is not hazardous but lists HP codes",
                rule="hazard-class",
                subject=ident,
            )
        items = f.count(f.need(event, "items"), "items", minimum=1)
        weight = f.count(f.need(event, "weight_g"), "weight_g", minimum=1)
        f.flag(event, "weight_measured")
        source = f.need(event, "source")
        if source not in codes.SOURCES:
            raise RuleError(f"source must be one of {sorted(codes.SOURCES)}", rule="format")
        site = f.text(event, "site")
        photo = event.get("photo_sha256")
        if photo is not None and (not isinstance(photo, str) or not HEX64_RE.match(photo)):
            raise RuleError("photo_sha256 must be the 64-hex SHA-256 of the photo", rule="format")
        producer = f.ident(event, "producer", optional=True)
        if producer is not None:
            prod = self._org(producer, what="producer")
            if "producer" not in prod["roles"]:
                raise RuleError(
                    f"{producer} is not registered as a producer", rule="role", subject=producer
                )
        self._new_lot(
            ident,
            event,
            holder=event["actor"],
            parent=None,
            weight_g=weight,
            items=items,
            origins={ident: weight},
            collector=event["actor"],
            category=category,
            waste_code=waste_code,
            hazardous=hazardous,
            hp_codes=sorted(hp_codes),
            source=source,
            site=site,
            producer=producer,
            region=org["region"],
            **({} if photo is None else {"photo_sha256": photo}),
        )

    def _dispatched(self, event: Event) -> None:
        self._actor(event)
        ident = f.ident(event, "transfer")
        to = f.ident(event, "to")
        assert ident is not None
        assert to is not None
        if to == event["actor"]:
            raise RuleError(
                "a transfer must go to another organisation", rule="destination", subject=ident
            )
        dest = self._org(to, what="destination")
        if not {"recycler", "collector"} & set(dest["roles"]):
            raise RuleError(
                f"destination {to} is neither a recycler nor a collection site",
                rule="destination",
                subject=to,
            )
        carriers = event.get("transporter")
        if carriers is None:
            legs: list[str] = []
        elif isinstance(carriers, str):
            legs = [carriers]
        elif isinstance(carriers, list) and carriers:
            legs = list(carriers)
        else:
            raise RuleError(
                "transporter must be an org id or a list of org ids in leg order", rule="format"
            )
        for carrier in legs:
            if not isinstance(carrier, str) or not ID_RE.match(carrier):
                raise RuleError("transporter must name organisations by id", rule="format")
            if "transporter" not in self._org(carrier, what="transporter")["roles"]:
                raise RuleError(
                    f"{carrier} is not registered as a transporter", rule="role", subject=carrier
                )
        f.text(event, "vehicle", optional=True)
        follows = f.ident(event, "follows", optional=True)
        if follows is not None:
            previous = self._read("transfer", follows)
            if previous is None or previous["sender"] != event["actor"]:
                raise RuleError(
                    f"follows names no transfer of {event['actor']}: {follows}",
                    rule="transfer-link",
                    subject=follows,
                )
        declared = {}
        for item in f.listed(event, "lots"):
            lot = self._held_by_actor(item["lot"], event)
            weight = f.count(item.get("weight_g"), f"lots[{item['lot']}].weight_g", minimum=1)
            self._destination_licence(dest, lot)
            lot["state"] = "dispatched"
            lot["transfer"] = ident
            if lot.get("first_dispatch_seq") is None:
                lot["first_dispatch_seq"] = self._seq
            declared[lot["id"]] = weight
            self._put("lot", lot["id"], lot)
        self._create(
            "transfer",
            ident,
            {
                "id": ident,
                "sender": event["actor"],
                "to": to,
                "legs": [{"carrier": c, "taken_seq": None} for c in legs],
                "vehicle": event.get("vehicle"),
                "lots": declared,
                "state": "dispatched",
                "follows": follows,
                "created_seq": self._seq,
                "head_seq": self._seq,
                "last_at": self._at,
                "dispatched_at": self._at,
                "received_seq": None,
                "received_at": None,
            },
        )

    def _open_transfer(self, event: Event) -> Doc:
        ident = event["transfer"]
        transfer = self._transfer(ident, event)
        if transfer["state"] not in ("dispatched", "in_transit"):
            raise RuleError(
                f"{event['type']} by {event['actor']} is not allowed on transfer {ident} "
                f"in state {transfer['state']}",
                rule="transfer-state",
                subject=ident,
            )
        return transfer

    def _taken_over(self, event: Event) -> None:
        self._actor(event, "transporter")
        transfer = self._open_transfer(event)
        pending = [leg for leg in transfer["legs"] if leg["taken_seq"] is None]
        if not pending:
            raise RuleError(
                f"every leg of transfer {transfer['id']} was already taken over",
                rule="transporter",
                subject=transfer["id"],
            )
        if pending[0]["carrier"] != event["actor"]:
            raise RuleError(
                f"the next leg of transfer {transfer['id']} is {pending[0]['carrier']}'s, "
                f"not {event['actor']}'s",
                rule="transporter",
                subject=transfer["id"],
            )
        f.text(event, "vehicle", optional=True)
        pending[0]["taken_seq"] = self._seq
        transfer["state"] = "in_transit"
        for ident in transfer["lots"]:
            lot = self._get("lot", ident)
            assert lot is not None
            if lot["state"] in CLOSED:
                continue
            lot["state"] = "in_transit"
            lot["holder"] = event["actor"]
            self._put("lot", ident, lot)
        self._put("transfer", transfer["id"], transfer)

    def _received(self, event: Event) -> None:
        dest = self._actor(event)
        transfer = self._open_transfer(event)
        ident = transfer["id"]
        if transfer["to"] != event["actor"]:
            raise RuleError(
                f"transfer {ident} goes to {transfer['to']}, not {event['actor']}",
                rule="destination",
                subject=ident,
            )
        if any(leg["taken_seq"] is None for leg in transfer["legs"]):
            raise RuleError(
                f"transfer {ident} has a leg not yet taken over by its transporter",
                rule="transporter",
                subject=ident,
            )
        open_lots = {
            lot_id
            for lot_id in transfer["lots"]
            if (doc := self._read("lot", lot_id)) is not None and doc["state"] not in CLOSED
        }
        listed = {item["lot"] for item in f.listed(event, "lots")}
        if listed != open_lots:
            raise RuleError(
                f"receipt of transfer {ident} must list exactly its lots {sorted(open_lots)}",
                rule="receipt-lots",
                subject=ident,
            )
        states = ("dispatched", "in_transit")
        all_refused = True
        for item in event["lots"]:
            lot = self._lot(item["lot"], event, states=states)
            if lot["transfer"] != ident:
                raise RuleError(
                    f"lot {lot['id']} is not in transfer {ident}",
                    rule="receipt-lots",
                    subject=lot["id"],
                )
            measured = f.count(item.get("weight_g"), f"lots[{lot['id']}].weight_g")
            outcome = item.get("outcome")
            if outcome not in codes.OUTCOMES:
                raise RuleError(f"outcome must be one of {sorted(codes.OUTCOMES)}", rule="format")
            items = item.get("items")
            if items is not None:
                f.count(items, f"lots[{lot['id']}].items")
            if outcome != "refused":
                self._destination_licence(dest, lot)
            declared = transfer["lots"][lot["id"]]
            differs = abs(measured - declared) * 100 > self.rules.discrepancy_percent * declared
            if differs or (items is not None and items != lot["items"]):
                deadline = date.fromisoformat(f.day(self._at)) + timedelta(
                    days=self.rules.discrepancy_days
                )
                lot["discrepancy"] = {
                    "transfer": ident,
                    "declared_g": declared,
                    "measured_g": measured,
                    "declared_items": lot["items"],
                    "counted_items": items,
                    "opened_seq": self._seq,
                    "deadline": deadline.isoformat(),
                    "status": "open",
                }
            lot["transfer"] = None
            lot["weight_g"] = measured
            if items is not None:
                lot["items"] = items
            if outcome != "refused":
                # What arrived, and who carried it: the findings weigh collection against these.
                lot["received_g"] = measured
                lot["carrier"] = ",".join(leg["carrier"] for leg in transfer["legs"]) or None
            if outcome == "accepted":
                all_refused = False
                lot["state"], lot["holder"] = "held", dest["id"]
            elif outcome == "refused":
                f.text(item, "reason")
                lot["state"], lot["holder"] = "held", transfer["sender"]
            else:
                all_refused = False
                f.text(item, "reason")
                refused = f.count(
                    item.get("refused_weight_g"), f"lots[{lot['id']}].refused_weight_g", minimum=1
                )
                if refused >= measured:
                    raise RuleError(
                        "a partial refusal refuses less than the measured weight",
                        rule="weights",
                        subject=lot["id"],
                    )
                back = f.ident(item, "return_lot")
                assert back is not None
                lot["state"], lot["holder"] = "held", dest["id"]
                lot["weight_g"] = measured - refused
                shares = f.scale(lot["origins"], refused, measured)
                lot["origins"] = f.scale(lot["origins"], measured - refused, measured)
                self._new_lot(
                    back,
                    event,
                    holder=transfer["sender"],
                    parent=lot,
                    weight_g=refused,
                    items=0,
                    origins=shares,
                )
            self._put("lot", lot["id"], lot)
        transfer["state"] = "refused" if all_refused else "received"
        transfer["received_seq"] = self._seq
        transfer["received_at"] = self._at
        self._put("transfer", ident, transfer)

    def _split(self, event: Event) -> None:
        self._actor(event)
        parent = self._held_by_actor(event["lot"], event)
        children = f.listed(event, "children")
        total = 0
        for child in children:
            if not isinstance(child, dict):
                raise RuleError("each child is {lot, weight_g, items?}", rule="format")
            f.ident(child, "lot")
            total += f.count(child.get("weight_g"), "children[].weight_g", minimum=1)
        if total > parent["weight_g"]:
            raise RuleError(
                f"children of lot {parent['id']} weigh {total} g, more than its "
                f"{parent['weight_g']} g",
                rule="weights",
                subject=parent["id"],
            )
        parent["state"] = "split"
        parent["children"] = [c["lot"] for c in children]
        self._put("lot", parent["id"], parent)
        for child in children:
            items = f.count(child.get("items", 0), "children[].items")
            self._new_lot(
                child["lot"],
                event,
                holder=event["actor"],
                parent=parent,
                weight_g=child["weight_g"],
                items=items,
                origins=f.scale(parent["origins"], child["weight_g"], parent["weight_g"]),
            )

    def _merged(self, event: Event) -> None:
        self._actor(event)
        into = f.ident(event, "into")
        assert into is not None
        inputs = [self._held_by_actor(item["lot"], event) for item in f.listed(event, "lots")]
        if len(inputs) < 2:
            raise RuleError("a merge takes at least two lots", rule="format", subject=into)
        categories = {lot["category"] for lot in inputs}
        if len(categories) != 1:
            raise RuleError(
                f"lots of categories {sorted(categories)} cannot share a container",
                rule="merge-category",
                subject=into,
            )
        waste_codes = {lot["waste_code"] for lot in inputs}
        if "waste_code" in event:
            waste_code = f.waste_code(event["waste_code"])
        elif len(waste_codes) == 1:
            waste_code = waste_codes.pop()
        else:
            raise RuleError(
                "lots of different waste codes need the merged lot's waste_code",
                rule="format",
                subject=into,
            )
        origins: dict[str, int] = {}
        for lot in inputs:
            for origin, grams in lot["origins"].items():
                origins[origin] = origins.get(origin, 0) + grams
            lot["state"] = "merged"
            lot["merged_into"] = into
            self._put("lot", lot["id"], lot)
        first = inputs[0]
        self._new_lot(
            into,
            event,
            holder=event["actor"],
            parent=first,
            weight_g=sum(lot["weight_g"] for lot in inputs),
            items=sum(lot["items"] for lot in inputs),
            origins=origins,
            waste_code=waste_code,
            hazardous=codes.is_hazardous(waste_code),
            hp_codes=sorted({hp for lot in inputs for hp in lot["hp_codes"]}),
        )
        merged = self._changes.docs[("lot", into)]
        merged["parents"] = [lot["id"] for lot in inputs]
        merged["collector"] = (
            first["collector"] if len({lot["collector"] for lot in inputs}) == 1 else None
        )

    def _processed(self, event: Event) -> None:
        org = self._actor(event, "recycler")
        lot = self._held_by_actor(event["lot"], event)
        operation = f.need(event, "operation")
        if not isinstance(operation, str) or not codes.OPERATION_RE.match(operation):
            raise RuleError("operation must be an R1-R13 or D1-D15 code", rule="format")
        self._destination_licence(org, lot, operation=operation)
        outputs = f.listed(event, "outputs")
        total = 0
        for out in outputs:
            if not isinstance(out, dict):
                raise RuleError(
                    "each output is {waste_code, material, weight_g, lot?}", rule="format"
                )
            f.waste_code(out.get("waste_code"), "outputs[].waste_code")
            if out.get("material") not in codes.MATERIALS:
                raise RuleError(f"material must be one of {sorted(codes.MATERIALS)}", rule="format")
            total += f.count(out.get("weight_g"), "outputs[].weight_g")
        limit = lot["weight_g"] * (100 + self.rules.output_tolerance_percent) / 100
        if total > limit:
            raise RuleError(
                f"outputs of lot {lot['id']} weigh {total} g, more than its {lot['weight_g']} g "
                f"plus {self.rules.output_tolerance_percent} % tolerance",
                rule="mass-balance",
                subject=lot["id"],
            )
        lot["state"] = "processed"
        lot["operation"] = operation
        lot["processed_by"] = event["actor"]
        lot["outputs"] = [
            {k: out[k] for k in ("waste_code", "material", "weight_g", "lot") if k in out}
            for out in outputs
        ]
        self._put("lot", lot["id"], lot)
        for out in outputs:
            if "lot" in out:
                code = out["waste_code"]
                self._new_lot(
                    f.ident(out, "lot") or "",
                    event,
                    holder=event["actor"],
                    parent=lot,
                    weight_g=out["weight_g"],
                    items=0,
                    origins=f.scale(lot["origins"], out["weight_g"], lot["weight_g"]),
                    waste_code=code,
                    hazardous=codes.is_hazardous(code),
                    material=out["material"],
                )

    def _lost(self, event: Event) -> None:
        self._actor(event)
        lot = self._lot(event["lot"], event, states=("held", "in_transit", "dispatched"))
        if lot["holder"] != event["actor"]:
            raise RuleError(
                f"lot {lot['id']} is held by {lot['holder']}, not {event['actor']}",
                rule="holder",
                subject=lot["id"],
            )
        f.text(event, "reason")
        lot["state"] = "lost"
        if lot["transfer"] is not None:  # lost on the way: the receipt will not list it
            lot["lost_in"], lot["transfer"] = lot["transfer"], None
        self._put("lot", lot["id"], lot)

    def _inspection(self, event: Event) -> None:
        if event["actor"] != self.authority_id:
            self._actor(event, "inspector")
        target = f.need(event, "target")
        if not isinstance(target, dict) or target.get("kind") not in ("lot", "transfer", "org"):
            raise RuleError("target must be {kind: lot|transfer|org, id}", rule="format")
        kind, ident = target["kind"], f.ident(target, "id")
        assert ident is not None
        doc = self._get(kind, ident)
        if doc is None:
            raise RuleError(
                f"{kind} {ident} does not exist", rule="inspection-target", subject=ident
            )
        finding = f.text(event, "finding")
        doc.setdefault("inspections", []).append(
            {"seq": self._seq, "by": event["actor"], "finding": finding}
        )
        self._put(kind, ident, doc)

    def _discrepancy_resolved(self, event: Event) -> None:
        if event["actor"] != self.authority_id:
            self._actor(event, "inspector")
        ident = f.ident(event, "subject_lot")
        assert ident is not None
        lot = self._get("lot", ident)
        if lot is None or not lot.get("discrepancy") or lot["discrepancy"]["status"] != "open":
            raise RuleError(
                f"lot {ident} has no open discrepancy", rule="discrepancy", subject=ident
            )
        lot["discrepancy"]["status"] = "resolved"
        lot["discrepancy"]["resolution"] = f.text(event, "resolution")
        lot["discrepancy"]["resolved_seq"] = self._seq
        self._put("lot", ident, lot)

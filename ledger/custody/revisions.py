"""Revisions: corrections proposed by a party and applied once every party approves."""

from __future__ import annotations

from ledger.custody import fields as f
from ledger.custody.engine import Rulebook
from ledger.errors import RuleError
from ledger.events import Event


class RevisionRules(Rulebook):
    """``revision.proposed`` and ``revision.approved``."""

    def _revision_proposed(self, event: Event) -> None:
        self._actor(event)
        ident = f.ident(event, "revision")
        assert ident is not None
        target = f.need(event, "entry")
        if not isinstance(target, int) or isinstance(target, bool) or not 0 < target < self._seq:
            raise RuleError("entry must be the seq of an earlier entry", rule="format")
        original = self.view.event_at(target)
        if original is None:
            raise RuleError(f"entry {target} is not in the log", rule="revision-target")
        reason = f.text(event, "reason")
        changes = f.listed(event, "changes")
        parties = {original["actor"]}
        if original["type"] == "transfer.received":
            transfer = self._read("transfer", original["transfer"])
            assert transfer is not None
            parties |= {transfer["sender"], transfer["to"]}
        touched = {item.get("lot") for item in original.get("lots", ())} | {original.get("lot")}
        touched |= {c.get("lot") for c in original.get("children", ()) if isinstance(c, dict)}
        for change in changes:
            if not isinstance(change, dict):
                raise RuleError("each change is {lot, weight_g?, items?}", rule="format")
            lot_id = f.ident(change, "lot")
            if lot_id not in touched:
                raise RuleError(
                    f"entry {target} is not about lot {lot_id}",
                    rule="revision-target",
                    subject=lot_id,
                )
            if not {"weight_g", "items"} & set(change):
                raise RuleError("a change revises weight_g or items", rule="format")
            for name in ("weight_g", "items"):
                if name in change:
                    f.count(change[name], f"changes[].{name}")
            lot = self._read("lot", lot_id or "")
            assert lot is not None
            parties.add(lot["holder"])
        if event["actor"] not in parties:
            raise RuleError(
                f"{event['actor']} is not a party to entry {target}",
                rule="revision-party",
                subject=ident,
            )
        self._create(
            "revision",
            ident,
            {
                "id": ident,
                "entry": target,
                "changes": changes,
                "reason": reason,
                "parties": sorted(parties),
                "approved": [event["actor"]],
                "state": "proposed",
                "proposed_seq": self._seq,
                "applied_seq": None,
            },
        )
        self._maybe_apply(ident)

    def _revision_approved(self, event: Event) -> None:
        self._actor(event)
        ident = f.ident(event, "revision")
        assert ident is not None
        revision = self._get("revision", ident)
        if revision is None:
            raise RuleError(
                f"revision {ident} does not exist", rule="revision-exists", subject=ident
            )
        if revision["state"] != "proposed":
            raise RuleError(
                f"revision {ident} is already {revision['state']}",
                rule="revision-state",
                subject=ident,
            )
        if event["actor"] not in revision["parties"]:
            raise RuleError(
                f"{event['actor']} is not a party to revision {ident}",
                rule="revision-party",
                subject=ident,
            )
        if event["actor"] in revision["approved"]:
            raise RuleError(
                f"{event['actor']} already approved revision {ident}",
                rule="revision-party",
                subject=ident,
            )
        revision["approved"].append(event["actor"])
        self._put("revision", ident, revision)
        self._maybe_apply(ident)

    def _maybe_apply(self, ident: str) -> None:
        revision = self._get("revision", ident)
        assert revision is not None
        if set(revision["approved"]) != set(revision["parties"]):
            return
        revision["state"] = "applied"
        revision["applied_seq"] = self._seq
        self._put("revision", ident, revision)
        for change in revision["changes"]:
            lot = self._get("lot", change["lot"])
            assert lot is not None
            lot.setdefault("revisions", []).append(ident)
            for name in ("weight_g", "items"):
                if name in change:
                    lot[name] = change[name]
            found = lot.get("discrepancy")
            if found and found["status"] == "open":
                found["status"] = "resolved"
                found["resolution"] = f"revision {ident}"
                found["resolved_seq"] = self._seq
            self._put("lot", lot["id"], lot)

"""A lot's record as the scan page shows it: public status, timeline, and what proves them.

Without a token or share link a scanner sees the minimal public status
(category, state, current holder's name, last update) and the proof that the
lot's latest entry is in the signed log. With one, the full timeline (who,
when, where, weights, outcome) and the lot's audit bundle, which the page's
script checks entry by entry in the browser.
"""

from __future__ import annotations

from typing import Any

from ledger import i18n
from ledger.checkpoint import verify_checkpoint
from ledger.custody.rules import Doc
from ledger.entries import Entry
from ledger.errors import TizbekError
from ledger.labels.content import issued_to
from ledger.merkle import leaf_hash
from ledger.storage.reader import LogReader


def _name(reader: LogReader, org: str | None, names: dict[str, str]) -> str:
    if org is None:
        return ""
    if org not in names:
        doc = reader.doc("org", org)
        names[org] = doc["name"] if doc else org
    return names[org]


def _item(event: dict[str, Any], lot: str) -> dict[str, Any]:
    for item in event.get("lots", []):
        if isinstance(item, dict) and item.get("lot") == lot:
            return item
    return {}


def _details(
    reader: LogReader, event: dict[str, Any], lot: str, lang: str, names: dict[str, str]
) -> list[str]:
    """The facts of one event about ``lot``, in words."""
    item = _item(event, lot)
    facts = []
    grams = item.get("weight_g", event.get("weight_g") if event.get("lot") == lot else None)
    if isinstance(grams, int):
        facts.append(i18n.t(lang, "detail.weight", weight=i18n.weight(grams, lang)))
    if event["type"] == "lot.processed" and isinstance(event.get("outputs"), list):
        total = sum(o.get("weight_g", 0) for o in event["outputs"] if isinstance(o, dict))
        facts.append(i18n.t(lang, "detail.weight", weight=i18n.weight(total, lang)))
    for field, key in (("to", "detail.to"), ("vehicle", "detail.vehicle"), ("site", "detail.site")):
        value = event.get(field)
        if isinstance(value, str):
            shown = _name(reader, value, names) if field == "to" else value
            facts.append(i18n.t(lang, key, **{field: shown}))
    outcome = item.get("outcome")
    if isinstance(outcome, str):
        key = f"outcome.{outcome}"
        shown = i18n.t(lang, key) if key in i18n.MESSAGES["en"] else outcome
        facts.append(i18n.t(lang, "detail.outcome", outcome=shown))
    if isinstance(event.get("operation"), str):
        facts.append(i18n.t(lang, "detail.operation", operation=event["operation"]))
    if isinstance(event.get("reason"), str):
        facts.append(i18n.t(lang, "detail.reason", reason=event["reason"]))
    return facts


def _step(
    reader: LogReader, entry: Entry, lot: str, lang: str, names: dict[str, str]
) -> dict[str, Any]:
    event = entry.event
    actor = _name(reader, event["actor"], names)
    key = f"event.{event['type']}"
    title = (
        i18n.t(lang, key, actor=actor)
        if key in i18n.MESSAGES["en"]
        else i18n.t(lang, "event.other", type=event["type"], actor=actor)
    )
    return {
        "seq": entry.seq,
        "type": event["type"],
        "actor": event["actor"],
        "actor_name": actor,
        "at": event["at"],
        "at_text": i18n.when(event["at"], lang),
        "title": title,
        "details": _details(reader, event, lot, lang, names),
        "leaf_hash": entry.hash.hex(),
    }


def _step_of(
    reader: LogReader, seq: int, leaf: str, lot: str, lang: str, names: dict[str, str]
) -> dict[str, Any]:
    """A timeline step, or, for an entry whose stored bytes no longer parse, a marked gap."""
    try:
        entry = Entry.parse(leaf.encode("utf-8"))
    except TizbekError:
        return {
            "seq": seq,
            "type": None,
            "actor": None,
            "actor_name": "",
            "at": "",
            "at_text": "",
            "title": i18n.t(lang, "fail.form", seq=seq),
            "details": [],
            "leaf_hash": leaf_hash(leaf.encode("utf-8")).hex(),
        }
    return _step(reader, entry, lot, lang, names)


def _status(reader: LogReader, doc: Doc, lang: str, names: dict[str, str]) -> dict[str, Any]:
    return {
        "category": doc["category"],
        "category_text": i18n.category(doc["category"], lang),
        "state": doc["state"],
        "state_text": i18n.t(lang, f"state.{doc['state']}"),
        "holder": doc["holder"],
        "holder_name": _name(reader, doc["holder"], names),
        "updated": doc["last_at"],
        "updated_text": i18n.when(doc["last_at"], lang),
    }


def lot_record(reader: LogReader, lot: str, *, full: bool, lang: str) -> dict[str, Any] | None:
    """The record of ``lot`` (canonical id), or None if the log knows neither lot nor label."""
    names: dict[str, str] = {}
    genesis = reader.genesis()
    base: dict[str, Any] = {"lot": lot, "log": genesis.origin, "log_key": str(genesis.log_key)}
    doc = reader.doc("lot", lot)
    if doc is None:
        org = issued_to(reader, lot)
        if org is None:
            return None
        return {
            **base,
            "registered": False,
            "full": False,
            "status": {
                "state": "issued",
                "state_text": i18n.t(lang, "state.issued"),
                "collector": org["id"],
                "collector_name": org["name"],
            },
        }
    record: dict[str, Any] = {
        **base,
        "registered": True,
        "full": full,
        "status": _status(reader, doc, lang, names),
    }
    record["status"]["collector_name"] = _name(reader, doc["collector"], names)
    if full:
        history = list(doc["history"])
        bundle = reader.bundle(history)
        leaves = {item["seq"]: item["leaf"] for item in bundle["entries"]}
        record["weight_text"] = i18n.weight(doc["weight_g"], lang)
        record["timeline"] = [
            _step_of(reader, s, leaves[s], lot, lang, names) for s in history if s in leaves
        ]
        # Entries no signed checkpoint covers yet (a log with a checkpoint interval).
        record["awaiting"] = sum(1 for s in history if s not in leaves)
        record["history"] = history
        record["bundle"] = bundle
        return record
    note = reader.checkpoint()
    size = verify_checkpoint(note, genesis.log_key).size
    head = reader.leaf(doc["head_seq"])
    if head is not None and head.seq < size:
        record["head"] = {
            "seq": head.seq,
            "leaf_hash": head.hash.hex(),
            "proof": [h.hex() for h in reader.inclusion(seq=head.seq, size=size)],
        }
    record["checkpoint"] = note
    return record

"""What a lot's label shows, read from the log's documents."""

from __future__ import annotations

from typing import Protocol

from ledger import i18n
from ledger.custody.engine import Doc
from ledger.entries import Entry
from ledger.errors import LotIdError
from ledger.labels import ids
from ledger.labels.links import Links
from ledger.labels.render import Label


class Records(Protocol):
    """Where labels read from: the log's documents and entries."""

    def doc(self, kind: str, ident: str) -> Doc | None: ...

    def entry(self, seq: int) -> Entry | None: ...


def issued_to(records: Records, lot: str) -> Doc | None:
    """The organisation a label id was issued to, or None if it was never issued."""
    if not ids.is_lot_id(lot):
        return None
    block, serial = ids.split(lot)
    issue = records.doc("labels", block)
    if issue is None or serial >= issue["count"]:
        return None
    return records.doc("org", issue["org"])


def label_for(records: Records, links: Links, lot: str, lang: str) -> Label:
    """The label of ``lot``: a blank one for an issued id, a filled one for a registered lot."""
    doc = records.doc("lot", lot)
    if doc is None:
        org = issued_to(records, lot)
        if org is None:
            raise LotIdError(f"lot id {lot} was never issued")
        return Label(url=links.label_url(lot), lot=lot, collector=org["name"], lang=lang)
    collector = records.doc("org", doc["collector"])
    created = records.entry(doc["created_seq"])
    return Label(
        url=links.label_url(lot),
        lot=lot,
        collector=collector["name"] if collector else doc["collector"],
        category=i18n.category(doc["category"], lang),
        weight=i18n.weight(doc["weight_g"], lang),
        leaf=created.hash.hex()[:12] if created else None,
        lang=lang,
    )


def block_labels(records: Records, links: Links, block: str, lang: str) -> list[Label]:
    """Every label of an issued block, in serial order."""
    issue = records.doc("labels", block)
    if issue is None:
        raise LotIdError(f"label block {block} was never issued")
    return [label_for(records, links, ids.make(block, n), lang) for n in range(issue["count"])]

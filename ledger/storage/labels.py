"""Issuing blocks of lot labels to an organisation, signed by the authority."""

from __future__ import annotations

from ledger.errors import LotIdError
from ledger.events import make_event, sign_event
from ledger.keys import SigningKey
from ledger.labels import ids
from ledger.storage.reader import LogReader
from ledger.storage.sqllog import SqlLog

#: How many random blocks to try before giving up (a full block space is far away).
ATTEMPTS = 20


def issue_labels(
    log: SqlLog, reader: LogReader, authority: SigningKey, *, org: str, count: int
) -> list[str]:
    """Append a ``labels.issued`` of ``count`` labels for ``org``; return their lot ids.

    The block is drawn at random among those never issued; the log's rules
    refuse an unknown organisation or a count out of range.
    """
    genesis = reader.genesis()
    for _ in range(ATTEMPTS):
        block = ids.random_block()
        if reader.doc("labels", block) is not None:
            continue
        event = make_event(
            "labels.issued",
            log=genesis.origin,
            actor=genesis.authority_id,
            key=authority,
            org=org,
            block=block,
            count=count,
        )
        log.append(sign_event(authority, event))
        return [ids.make(block, serial) for serial in range(count)]
    raise LotIdError(f"found no free label block in {ATTEMPTS} tries")

"""Whole-log backups as JSON Lines: export from a database, import into an empty one.

The first line is a header ``{"format": "tizbek-log/1", "log_key": ..., "checkpoints":
[signed notes...]}``; every further line is one entry's exact leaf data, in
``seq`` order. Anyone can check such a file: replay the entries and compare the
recomputed roots with the signed checkpoints. Import does exactly that before
it writes anything, so a database never holds a log that does not verify.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from ledger.chain import ChainVerifier
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.entries import Entry
from ledger.errors import BundleFormatError, TizbekError, VerificationError
from ledger.merkle import CompactRange
from ledger.note import VerifierKey
from ledger.storage.hotpath import Driver
from ledger.storage.projections import write_flows
from ledger.storage.state import ReplayState, write_projections
from ledger.storage.tables import CHECKPOINTS, ENTRIES, NODES

EXPORT_FORMAT = "tizbek-log/1"
#: Rows written per statement while importing (and the most held in memory).
BATCH = 1000


def export_header(log_key: str, notes: Iterable[str]) -> str:
    """The first line of an export: its format, the log key and the signed checkpoints."""
    header = {"format": EXPORT_FORMAT, "log_key": log_key, "checkpoints": list(notes)}
    return json.dumps(header, ensure_ascii=False)


@dataclass
class ExportCounts:
    """What an export held: the entries written, and the later ones left out."""

    written: int = 0
    left_out: int = 0


def export_lines(engine: Engine, *, counts: ExportCounts | None = None) -> Iterator[str]:
    """The JSON Lines of the log stored at ``engine`` (without newlines).

    The entries are those the latest signed checkpoint covers, so that the file
    ends where a checkpoint does (and, from a log that grows meanwhile, holds
    no entry later than its header's checkpoints). Entries after it, which a
    log with a checkpoint interval holds until its next checkpoint, are left
    out; ``counts``, if given, is told how many entries were written and how
    many were left out.
    """
    with engine.connect() as conn:
        first = conn.execute(select(ENTRIES.c.data).where(ENTRIES.c.seq == 0)).scalar_one_or_none()
        if first is None:
            raise BundleFormatError("the database holds no log")
        log_key = Entry.parse(first).event["log_key"]
        notes = [
            (int(size), str(note))
            for size, note in conn.execute(
                select(CHECKPOINTS.c.size, CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.size)
            )
        ]
        covered = notes[-1][0] if notes else 0
        stored = int(
            conn.execute(select(func.coalesce(func.max(ENTRIES.c.seq) + 1, 0))).scalar_one()
        )
        if counts is not None:
            counts.written, counts.left_out = covered, max(0, stored - covered)
        yield export_header(log_key, (note for _, note in notes))
        rows = conn.execute(
            select(ENTRIES.c.data).where(ENTRIES.c.seq < covered).order_by(ENTRIES.c.seq),
            execution_options={"yield_per": BATCH},
        )
        for data in rows.scalars():
            yield data.decode("utf-8")


def export_file(engine: Engine, path: Path) -> tuple[int, int]:
    """Write the log to ``path``; return how many entries it holds, and how many later
    entries no signed checkpoint covered yet and were left out (see :func:`export_lines`)."""
    counts = ExportCounts()
    with path.open("w", encoding="utf-8") as out:
        for line in export_lines(engine, counts=counts):
            out.write(line + "\n")
    return counts.written, counts.left_out


def _header(line: str) -> tuple[VerifierKey, list[str]]:
    try:
        header = json.loads(line)
        if header.get("format") != EXPORT_FORMAT:
            raise BundleFormatError(f"the first line must be a {EXPORT_FORMAT} header")
        notes = header["checkpoints"]
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise BundleFormatError("header checkpoints must be a list of signed notes")
        return VerifierKey.parse(header["log_key"]), notes
    except (ValueError, KeyError, AttributeError, TypeError):
        raise BundleFormatError(f"the first line must be a {EXPORT_FORMAT} header") from None


def _entry_row(e: Entry) -> dict[str, object]:
    return {
        "seq": e.seq,
        "leaf_hash": e.hash,
        "data": e.data,
        "signer_key": e.event["key"],
        "nonce": e.event["nonce"],
        "logged_at": e.logged_at,
    }


def import_lines(engine: Engine, lines: Iterable[str]) -> Checkpoint:
    """Verify a whole exported log while storing it in ``engine``'s empty, migrated database.

    Entries are written in batches inside one transaction as they verify, so
    memory stays bounded; any failure rolls the transaction back and leaves
    the database as empty as it was.
    """
    it = iter(lines)
    log_key, notes = _header(next(it, ""))
    checkpoints = {}
    for note in notes:
        try:
            cp = verify_checkpoint(note, log_key)
        except TizbekError as exc:
            raise VerificationError(exc.message, seq=None, check="checkpoint") from None
        checkpoints[cp.size] = (cp, note)
    rows: list[tuple[Any, ...]] = []
    state = ReplayState(rows.extend)
    chain = ChainVerifier(complete=True, log_key=log_key, state=state)
    tree = CompactRange()
    entries: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one():
            raise BundleFormatError("the database already holds a log; import needs an empty one")
        for number, line in enumerate(it):
            try:
                entry = Entry.parse(line.rstrip("\n").encode("utf-8"))
            except TizbekError as exc:
                raise VerificationError(exc.message, seq=number, check="leaf") from None
            chain.add(entry)
            entries.append(_entry_row(entry))
            nodes.extend(
                {"level": lv, "idx": ix, "hash": h} for lv, ix, h in tree.append(entry.hash)
            )
            held = checkpoints.get(tree.size)
            if held is not None and held[0].root != tree.root():
                raise VerificationError(
                    f"entries do not hash to the checkpoint at size {tree.size}",
                    seq=tree.size - 1,
                    check="checkpoint",
                )
            if len(entries) >= BATCH:
                conn.execute(insert(ENTRIES), entries)
                conn.execute(insert(NODES), nodes)
                entries, nodes = [], []
        if not checkpoints or max(checkpoints) != tree.size:
            raise VerificationError(
                "the last signed checkpoint does not cover exactly the entries given",
                seq=tree.size,
                check="checkpoint",
            )
        if entries:
            conn.execute(insert(ENTRIES), entries)
            conn.execute(insert(NODES), nodes)
        state.close()
        write_projections(conn, state.bindings(), state.heads(), state.docs())
        write_flows(Driver(conn), rows)
        conn.execute(
            insert(CHECKPOINTS),
            [
                {"size": cp.size, "root": cp.root, "note": note, "signed_at": ""}
                for cp, note in checkpoints.values()
            ],
        )
    return checkpoints[tree.size][0]

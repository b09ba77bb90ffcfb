"""The replay state of a stored log, read from and written to its tables.

:class:`SqlState` answers what :class:`~ledger.chain.ChainVerifier` asks (the
latest entry, the genesis, key bindings, nonces, the latest entry about each
lot and transfer) inside the appending transaction, so a check sees exactly
the log it extends, whichever process appends.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, insert, select, update

from ledger.chain import Tip
from ledger.entries import Entry
from ledger.events import subjects
from ledger.genesis import Genesis, read_genesis
from ledger.keyring import Binding, RegistryChange, authority_bindings
from ledger.keys import PublicKey
from ledger.storage.tables import ENTRIES, HEADS, KEYS


def _binding_row(b: Binding) -> dict[str, object]:
    return {
        "key_id": b.key_id,
        "org": b.actor,
        "public_key": b.public_key.base64,
        "label": b.label,
        "bound_seq": b.bound_seq,
        "revoked_seq": b.revoked_seq,
    }


def write_projections(
    conn: Connection, bindings: Iterable[Binding], heads: dict[tuple[str, str], bytes]
) -> None:
    """Store key bindings and subject heads (after an import or a rebuild)."""
    rows = [_binding_row(b) for b in bindings]
    if rows:
        conn.execute(insert(KEYS), rows)
    if heads:
        conn.execute(
            insert(HEADS),
            [{"kind": k, "subject": s, "head_hash": h} for (k, s), h in heads.items()],
        )


class SqlState:
    """A :class:`~ledger.chain.LogState` over one open transaction."""

    def __init__(self, conn: Connection, genesis: Genesis | None = None) -> None:
        self.conn = conn
        self._genesis = genesis

    def tip(self) -> Tip | None:
        """The latest entry, if any."""
        row = self.conn.execute(
            select(ENTRIES.c.seq, ENTRIES.c.leaf_hash, ENTRIES.c.logged_at)
            .order_by(ENTRIES.c.seq.desc())
            .limit(1)
        ).first()
        return None if row is None else Tip(row[0], row[1], row[2])

    def genesis(self) -> Genesis | None:
        """What entry 0 established."""
        if self._genesis is None:
            data = self.conn.execute(
                select(ENTRIES.c.data).where(ENTRIES.c.seq == 0)
            ).scalar_one_or_none()
            if data is not None:
                self._genesis = read_genesis(Entry.parse(data).event)
        return self._genesis

    def binding(self, key_id: str) -> Binding | None:
        """The binding of a key id."""
        row = self.conn.execute(select(KEYS).where(KEYS.c.key_id == key_id)).mappings().first()
        if row is None:
            return None
        return Binding(
            row["key_id"],
            row["org"],
            PublicKey.from_base64(row["public_key"]),
            row["label"],
            row["bound_seq"],
            row["revoked_seq"],
        )

    def nonce_used(self, key_id: str, nonce: str) -> bool:
        """Whether the key already signed an event with this nonce."""
        found = self.conn.execute(
            select(ENTRIES.c.seq).where(ENTRIES.c.signer_key == key_id, ENTRIES.c.nonce == nonce)
        ).first()
        return found is not None

    def head(self, kind: str, ident: str) -> bytes | None:
        """Leaf hash of the latest entry about a lot or transfer."""
        value = self.conn.execute(
            select(HEADS.c.head_hash).where(HEADS.c.kind == kind, HEADS.c.subject == ident)
        ).scalar_one_or_none()
        return None if value is None else bytes(value)

    def record(
        self, entry: Entry, *, genesis: Genesis | None, change: RegistryChange | None
    ) -> None:
        """Update the projections for a checked entry (the entry row is the log's to write)."""
        if genesis is not None:
            self._genesis = genesis
            write_projections(self.conn, authority_bindings(genesis), {})
        if change is not None and change.bound is not None:
            write_projections(self.conn, [change.bound], {})
        if change is not None and change.revoked is not None:
            self.conn.execute(
                update(KEYS).where(KEYS.c.key_id == change.revoked).values(revoked_seq=entry.seq)
            )
        for kind, ident, _after in subjects(entry.event):
            done = self.conn.execute(
                update(HEADS)
                .where(HEADS.c.kind == kind, HEADS.c.subject == ident)
                .values(head_hash=entry.hash)
            )
            if done.rowcount == 0:
                self.conn.execute(
                    insert(HEADS).values(kind=kind, subject=ident, head_hash=entry.hash)
                )

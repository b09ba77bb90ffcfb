"""The replay state of a stored log, read from and written to its tables.

:class:`SqlState` answers what :class:`~ledger.chain.ChainVerifier` asks (the
latest entry, the genesis, key bindings, nonces, the latest entry about each
lot and transfer) inside the appending transaction, so a check sees exactly
the log it extends, whichever process appends. It serves a whole batch of
submissions: what the batch's earlier entries changed is kept in memory and
read first, what the database holds is fetched once per batch, and
:meth:`SqlState.flush` writes the batch's projections in a few statements.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select

from ledger.chain import MemoryState, Tip
from ledger.custody.rules import Changes, Doc, DocKey, references
from ledger.entries import Entry
from ledger.events import SUBJECT_FIELDS, Event, Submission, subjects
from ledger.genesis import Genesis, read_genesis
from ledger.insight import flows
from ledger.keyring import Binding, RegistryChange, authority_bindings
from ledger.keys import PublicKey
from ledger.storage.hotpath import Driver, Query
from ledger.storage.projections import write_bindings, write_docs, write_flows, write_heads
from ledger.storage.tables import ENTRIES, HEADS

#: Rows per ``IN (...)`` lookup, well under every driver's parameter limit.
_CHUNK = 400


_TIP = "SELECT seq, leaf_hash, logged_at FROM log_entries ORDER BY seq DESC LIMIT 1"
_NONCES_ANY = "SELECT signer_key, nonce FROM log_entries WHERE nonce = ANY(?)"
_HEADS_ANY = "SELECT subject, head_hash FROM subject_heads WHERE kind = ? AND subject = ANY(?)"
_KEYS_ANY = (
    "SELECT key_id, org, public_key, label, bound_seq, revoked_seq, admin FROM keys "
    "WHERE key_id = ANY(?)"
)
_DOCS_ANY = "SELECT subject, doc FROM subject_docs WHERE kind = ? AND subject = ANY(?)"


def _binding_of(row: Sequence[Any]) -> Binding:
    """A binding from a row of the ``keys`` table."""
    key_id, org, public_key, label, bound_seq, revoked_seq, admin = row
    return Binding(
        key_id, org, PublicKey.from_base64(public_key), label, bound_seq, revoked_seq, bool(admin)
    )


def write_projections(
    conn: Connection,
    bindings: Iterable[Binding],
    heads: dict[tuple[str, str], bytes],
    docs: dict[DocKey, Doc] | None = None,
) -> None:
    """Store every projection a replay produced (after an import or a rebuild)."""
    driver = Driver(conn)
    write_bindings(driver, bindings)
    write_heads(driver, heads)
    write_docs(driver, docs or {}, lambda kind, ident: heads.get((kind, ident)))


class ReplayState(MemoryState):
    """A :class:`~ledger.chain.MemoryState` that also writes the ``flows`` rows as it goes.

    A whole-log replay (``tizbek rebuild``, ``tizbek import``) passes every
    batch of rows to ``sink``, so the rows of millions of entries never sit in
    memory at once; call :meth:`close` after the last entry.
    """

    BATCH = 5000

    def __init__(self, sink: Callable[[list[tuple[Any, ...]]], None]) -> None:
        super().__init__()
        self._sink = sink
        self._rows: list[tuple[Any, ...]] = []

    def record(
        self,
        entry: Entry,
        *,
        genesis: Genesis | None,
        change: RegistryChange | None,
        custody: Changes | None = None,
    ) -> None:
        """Take a checked entry as the latest one, and the grams it moved."""
        if custody is not None:
            self._rows += [
                row.row() for row in flows.flows_of(entry.seq, entry.event, custody.docs, self.doc)
            ]
            if len(self._rows) >= self.BATCH:
                self.close()
        super().record(entry, genesis=genesis, change=change, custody=custody)

    def close(self) -> None:
        """Pass on the rows not written yet."""
        if self._rows:
            self._sink(self._rows)
            self._rows = []


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class SqlState:
    """A :class:`~ledger.chain.LogState` over one open transaction, for a batch of appends."""

    def __init__(self, conn: Connection, genesis: Genesis | None = None) -> None:
        self.conn = conn
        self.driver = Driver(conn)
        self._genesis = genesis
        self._tip: Tip | None = None
        self._tip_read = False
        self._bindings: dict[str, Binding | None] = {}
        self._heads: dict[tuple[str, str], bytes | None] = {}
        self._nonces: dict[tuple[str, str], bool] = {}
        self._new_bindings: dict[str, Binding] = {}
        self._revoked: dict[str, int] = {}
        self._new_heads: dict[tuple[str, str], bytes] = {}
        self._docs: dict[DocKey, Doc | None] = {}
        self._new_docs: dict[DocKey, Doc] = {}
        self._events: dict[int, Event] = {}
        self._new_flows: list[tuple[Any, ...]] = []

    def prefetch(self, submissions: Iterable[Submission], *, first: Sequence[str] = ()) -> None:
        """Read at once what checking these submissions will ask of the database.

        The statements in ``first`` (taking the sequencer lock) run before the
        reads, in the same round trip on PostgreSQL; so does reading the tip.
        """
        keys: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        subs: set[tuple[str, str]] = set()
        refs: set[DocKey] = set()
        for submission in submissions:
            event = submission.event
            keys.add(event["key"])
            pairs.add((event["key"], event["nonce"]))
            subs.update((kind, ident) for kind, ident, _after in subjects(event))
            refs |= references(event)
        # What is known already is not read again (each test is by lookup: what is known
        # may be large, and ``set -= dict.keys()`` would walk all of it).
        refs = {r for r in refs if r not in self._docs}
        keys = {k for k in keys if k not in self._bindings}
        pairs = {p for p in pairs if p not in self._nonces}
        subs = {s for s in subs if s not in self._heads}
        queries: list[Query] = [(text, []) for text in first]
        handlers: list[Callable[[list[tuple[Any, ...]]], None]] = [lambda _rows: None] * len(first)
        if not self._tip_read:
            queries.append((_TIP, []))
            handlers.append(self._take_tip)
        for chunk in _chunks(sorted(keys)):
            queries.append(self.driver.any_of(_KEYS_ANY, chunk))
            handlers.append(self._take_bindings)
        for chunk in _chunks(sorted({n for _, n in pairs})):
            queries.append(self.driver.any_of(_NONCES_ANY, chunk))
            handlers.append(functools.partial(self._take_nonces, pairs))
        for kind in sorted({k for k, _ in subs}):
            for chunk in _chunks(sorted({i for k, i in subs if k == kind})):
                queries.append(self.driver.any_of(_HEADS_ANY, chunk, [kind]))
                handlers.append(functools.partial(self._take_heads, kind))
        for kind in sorted({k for k, _ in refs}):
            for chunk in _chunks(sorted({i for k, i in refs if k == kind})):
                queries.append(self.driver.any_of(_DOCS_ANY, chunk, [kind]))
                handlers.append(functools.partial(self._take_docs, kind))
        self._docs.update(dict.fromkeys(refs))
        self._bindings.update(dict.fromkeys(keys))
        self._nonces.update(dict.fromkeys(pairs, False))
        self._heads.update(dict.fromkeys(subs))
        for handle, rows in zip(handlers, self.driver.rows_of_all(queries), strict=True):
            handle(rows)

    def _take_tip(self, rows: list[tuple[Any, ...]]) -> None:
        self._tip = Tip(rows[0][0], bytes(rows[0][1]), rows[0][2]) if rows else None
        self._tip_read = True

    def _take_bindings(self, rows: list[tuple[Any, ...]]) -> None:
        for row in rows:
            self._bindings[row[0]] = _binding_of(row)

    def _take_nonces(self, pairs: set[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
        for key_id, nonce in rows:
            if (key_id, nonce) in pairs:
                self._nonces[(key_id, nonce)] = True

    def _take_heads(self, kind: str, rows: list[tuple[Any, ...]]) -> None:
        for ident, head in rows:
            self._heads[(kind, ident)] = bytes(head)

    def _take_docs(self, kind: str, rows: list[tuple[Any, ...]]) -> None:
        for ident, text in rows:
            self._docs[(kind, ident)] = orjson.loads(text)

    def doc(self, kind: str, ident: str) -> Doc | None:
        """The custody document of an organisation, lot, transfer or revision."""
        key = (kind, ident)
        if key not in self._docs:
            self._take_docs(kind, self.driver.rows_in(_DOCS_ANY, [ident], [kind]))
            self._docs.setdefault(key, None)
        return self._docs[key]

    def event_at(self, seq: int) -> Event | None:
        """The event of an earlier entry."""
        if seq not in self._events:
            rows = self.driver.rows("SELECT data FROM log_entries WHERE seq = ?", [seq])
            if not rows:
                return None
            self._events[seq] = Entry.parse(bytes(rows[0][0])).event
        return self._events[seq]

    def forget(self, key_ids: Iterable[str], docs: Iterable[DocKey] = ()) -> None:
        """Drop what is known of these bindings and documents; they are read again if asked."""
        for key_id in key_ids:
            self._bindings.pop(key_id, None)
        for key in docs:
            self._docs.pop(key, None)

    def remember(
        self, bindings: dict[str, Binding | None], docs: dict[DocKey, Doc | None] | None = None
    ) -> None:
        """Take what an earlier batch read, still current (no one appended since)."""
        for key_id, binding in bindings.items():
            self._bindings.setdefault(key_id, binding)
        for key, doc in (docs or {}).items():
            self._docs.setdefault(key, doc)

    def docs_of(self, kind: str) -> dict[DocKey, Doc | None]:
        """The documents of one kind read or made so far (``None``: known not to exist)."""
        return {k: d for k, d in self._docs.items() if k[0] == kind}

    def bindings(self) -> dict[str, Binding | None]:
        """Every binding read or made so far, ``None`` for key ids known to be unbound."""
        return dict(self._bindings)

    def public_keys(self) -> dict[str, PublicKey]:
        """The public keys of every binding this state has read or made."""
        return {k: b.public_key for k, b in self._bindings.items() if b is not None}

    def stored(self, key_id: str, nonce: str) -> bytes | None:
        """The leaf data of the stored entry signed by ``key_id`` with ``nonce``, if any."""
        if not self._nonces.get((key_id, nonce), True):
            return None
        value = self.conn.execute(
            select(ENTRIES.c.data).where(ENTRIES.c.signer_key == key_id, ENTRIES.c.nonce == nonce)
        ).scalar_one_or_none()
        return None if value is None else bytes(value)

    def tip(self) -> Tip | None:
        """The latest entry, if any."""
        if not self._tip_read:
            self._take_tip(self.driver.rows(_TIP))
        return self._tip

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
        if key_id not in self._bindings:
            found = self.driver.rows(_KEYS_ANY.replace("= ANY(?)", "= ?"), [key_id])
            self._bindings[key_id] = _binding_of(found[0]) if found else None
        return self._bindings[key_id]

    def nonce_used(self, key_id: str, nonce: str) -> bool:
        """Whether the key already signed an event with this nonce."""
        pair = (key_id, nonce)
        if pair not in self._nonces:
            found = self.conn.execute(
                select(ENTRIES.c.seq).where(
                    ENTRIES.c.signer_key == key_id, ENTRIES.c.nonce == nonce
                )
            ).first()
            self._nonces[pair] = found is not None
        return self._nonces[pair]

    def head(self, kind: str, ident: str) -> bytes | None:
        """Leaf hash of the latest entry about a lot or transfer."""
        sub = (kind, ident)
        if sub not in self._heads:
            value = self.conn.execute(
                select(HEADS.c.head_hash).where(HEADS.c.kind == kind, HEADS.c.subject == ident)
            ).scalar_one_or_none()
            self._heads[sub] = None if value is None else bytes(value)
        return self._heads[sub]

    def record(
        self,
        entry: Entry,
        *,
        genesis: Genesis | None,
        change: RegistryChange | None,
        custody: Changes | None = None,
    ) -> None:
        """Take a checked entry as the latest one; :meth:`flush` stores what it changed."""
        self._events[entry.seq] = entry.event
        if custody is not None:
            self._new_flows += [
                row.row()
                for row in flows.flows_of(
                    entry.seq, entry.event, custody.docs, lambda k, i: self._docs.get((k, i))
                )
            ]
            self._docs.update(custody.docs)
            self._new_docs.update(custody.docs)
            for key in custody.created:
                if key[0] in SUBJECT_FIELDS:
                    self._heads[key] = self._new_heads[key] = entry.hash
        if genesis is not None:
            self._genesis = genesis
            for b in authority_bindings(genesis):
                self._bindings[b.key_id] = self._new_bindings[b.key_id] = b
        if change is not None and change.bound is not None:
            b = change.bound
            self._bindings[b.key_id] = self._new_bindings[b.key_id] = b
        if change is not None and change.revoked is not None:
            old = self._bindings.get(change.revoked) or self.binding(change.revoked)
            assert old is not None
            revoked = dataclasses.replace(old, revoked_seq=entry.seq)
            self._bindings[old.key_id] = revoked
            if old.key_id in self._new_bindings:
                self._new_bindings[old.key_id] = revoked
            else:
                self._revoked[old.key_id] = entry.seq
        event = entry.event
        self._nonces[(event["key"], event["nonce"])] = True
        for kind, ident, _after in subjects(event):
            self._heads[(kind, ident)] = self._new_heads[(kind, ident)] = entry.hash
        self._tip = Tip(entry.seq, entry.hash, entry.logged_at)
        self._tip_read = True

    def flush(self) -> None:
        """Write the projections that the recorded entries changed."""
        write_bindings(self.driver, self._new_bindings.values())
        self.driver.many(
            "UPDATE keys SET revoked_seq = ? WHERE key_id = ?",
            [(seq, key_id) for key_id, seq in self._revoked.items()],
        )
        write_heads(self.driver, self._new_heads)
        write_docs(self.driver, self._new_docs, self.head)
        write_flows(self.driver, self._new_flows)
        self._new_bindings.clear()
        self._new_flows = []
        self._revoked.clear()
        self._new_heads.clear()
        self._new_docs.clear()

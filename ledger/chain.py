"""Replaying entries in order and checking every protocol rule on each one.

The same :class:`ChainVerifier` runs when the log appends a submission and when
an inspector replays a log or a bundle, so a rule cannot hold on one side and
not the other. It checks, entry by entry: sequence order and the ``prev`` link,
server time never going backwards, the genesis entry, the event's form and
``log`` binding, the signature with a key bound to the actor at that point,
nonce reuse, registry events, and that each ``after`` names the latest entry
about its lot or transfer. What the replay has seen lives in a
:class:`LogState`: in memory here, in the database for the durable log.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

from ledger.custody.rules import Changes, Custody, Doc, DocKey, RuleError
from ledger.entries import ZERO_HASH, Entry
from ledger.errors import TizbekError, VerificationError
from ledger.events import GENESIS_TYPE, SUBJECT_FIELDS, Event, subjects
from ledger.genesis import Genesis, read_genesis
from ledger.keyring import (
    Binding,
    BindingLookup,
    RegistryChange,
    authority_bindings,
    key_for,
    registry_change,
)
from ledger.note import VerifierKey


@dataclass(frozen=True)
class Tip:
    """The latest entry: its seq, leaf hash and server time."""

    seq: int
    hash: bytes
    logged_at: str


class LogState(Protocol):
    """What a replay needs to know of the entries before the one it checks."""

    def tip(self) -> Tip | None:
        """The latest entry, if any."""

    def genesis(self) -> Genesis | None:
        """What entry 0 established, once applied."""

    def binding(self, key_id: str) -> Binding | None:
        """The binding of a key id."""

    def nonce_used(self, key_id: str, nonce: str) -> bool:
        """Whether the key already signed an event with this nonce."""

    def head(self, kind: str, ident: str) -> bytes | None:
        """Leaf hash of the latest entry about a lot or transfer."""

    def doc(self, kind: str, ident: str) -> Doc | None:
        """The custody document of an organisation, lot, transfer or revision."""

    def event_at(self, seq: int) -> Event | None:
        """The event of an earlier entry."""

    def record(
        self,
        entry: Entry,
        *,
        genesis: Genesis | None,
        change: RegistryChange | None,
        custody: Changes | None = None,
    ) -> None:
        """Take a checked entry as the latest one."""


class MemoryState:
    """A :class:`LogState` in dictionaries."""

    def __init__(self) -> None:
        self._tip: Tip | None = None
        self._genesis: Genesis | None = None
        self._bindings: dict[str, Binding] = {}
        self._nonces: set[tuple[str, str]] = set()
        self._heads: dict[tuple[str, str], bytes] = {}
        self._docs: dict[DocKey, Doc] = {}
        self._events: list[Event] = []

    def tip(self) -> Tip | None:
        """The latest entry, if any."""
        return self._tip

    def genesis(self) -> Genesis | None:
        """What entry 0 established, once applied."""
        return self._genesis

    def binding(self, key_id: str) -> Binding | None:
        """The binding of a key id."""
        return self._bindings.get(key_id)

    def nonce_used(self, key_id: str, nonce: str) -> bool:
        """Whether the key already signed an event with this nonce."""
        return (key_id, nonce) in self._nonces

    def head(self, kind: str, ident: str) -> bytes | None:
        """Leaf hash of the latest entry about a lot or transfer."""
        return self._heads.get((kind, ident))

    def doc(self, kind: str, ident: str) -> Doc | None:
        """The custody document of an organisation, lot, transfer or revision."""
        return self._docs.get((kind, ident))

    def docs(self) -> dict[DocKey, Doc]:
        """Every custody document."""
        return dict(self._docs)

    def event_at(self, seq: int) -> Event | None:
        """The event of an earlier entry."""
        return self._events[seq] if 0 <= seq < len(self._events) else None

    def bindings(self) -> list[Binding]:
        """Every binding, in the order made."""
        return list(self._bindings.values())

    def heads(self) -> dict[tuple[str, str], bytes]:
        """The latest entry about every lot and transfer."""
        return dict(self._heads)

    def record(
        self,
        entry: Entry,
        *,
        genesis: Genesis | None,
        change: RegistryChange | None,
        custody: Changes | None = None,
    ) -> None:
        """Take a checked entry as the latest one."""
        if len(self._events) == entry.seq:  # a complete replay: keep events for revisions
            self._events.append(entry.event)
        if custody is not None:
            self._docs.update(custody.docs)
            for kind, ident in custody.created:
                if kind in SUBJECT_FIELDS:
                    self._heads[(kind, ident)] = entry.hash
        if genesis is not None:
            self._genesis = genesis
            self._bindings.update((b.key_id, b) for b in authority_bindings(genesis))
        if change is not None and change.bound is not None:
            self._bindings[change.bound.key_id] = change.bound
        if change is not None and change.revoked is not None:
            old = self._bindings[change.revoked]
            self._bindings[old.key_id] = dataclasses.replace(old, revoked_seq=entry.seq)
        event = entry.event
        self._nonces.add((event["key"], event["nonce"]))
        for kind, ident, _after in subjects(event):
            self._heads[(kind, ident)] = entry.hash
        self._tip = Tip(entry.seq, entry.hash, entry.logged_at)


def _lookup_in(bindings: list[Binding]) -> BindingLookup:
    table = {b.key_id: b for b in bindings}
    return table.get


class ChainVerifier:
    """Checks entries given in increasing ``seq`` order.

    ``complete`` says the entries are the whole log from seq 0 with no gaps; a
    sparse replay (an audit bundle) checks the ``prev`` link only between
    neighbours and ``after`` only for lots and transfers created in view.
    """

    def __init__(
        self,
        *,
        complete: bool = True,
        log_key: VerifierKey | None = None,
        state: LogState | None = None,
    ) -> None:
        self.complete = complete
        self.log_key = log_key
        self.state: LogState = MemoryState() if state is None else state
        self.count = 0
        self._rules: Custody | None = None

    @property
    def genesis(self) -> Genesis | None:
        """What entry 0 established, once applied."""
        return self.state.genesis()

    @property
    def last(self) -> Tip | None:
        """The latest entry applied."""
        return self.state.tip()

    def _fail(self, seq: int, check: str, message: str, **evidence: str) -> VerificationError:
        return VerificationError(message, seq=seq, check=check, **evidence)

    def check(self, entry: Entry) -> None:
        """Raise :class:`VerificationError` unless ``entry`` may follow those seen so far."""
        self._checked(entry)

    def _checked(
        self, entry: Entry
    ) -> tuple[Genesis | None, RegistryChange | None, Changes | None]:
        seq, event = entry.seq, entry.event
        self._check_position(entry)
        new_genesis = None
        lookup: BindingLookup
        if seq == 0:
            genesis = new_genesis = self._check_genesis(entry)
            lookup = _lookup_in(authority_bindings(genesis))
        elif event["type"] == GENESIS_TYPE:
            raise self._fail(seq, "format", "only entry 0 may be a genesis entry")
        else:
            known = self.state.genesis()
            assert known is not None
            genesis, lookup = known, self.state.binding
        if event["log"] != genesis.origin:
            raise self._fail(
                seq, "format", f"event is for log {event['log']!r}, not {genesis.origin!r}"
            )
        try:
            public = key_for(lookup, event["actor"], event["key"])
        except TizbekError as exc:
            raise self._fail(seq, "key", exc.message) from None
        try:
            entry.submission.verify(public)
        except TizbekError as exc:
            raise self._fail(seq, "signature", exc.message) from None
        if self.state.nonce_used(event["key"], event["nonce"]):
            raise self._fail(seq, "replay", f"nonce {event['nonce']} was already used by this key")
        try:
            change = registry_change(event, seq, authority_id=genesis.authority_id, lookup=lookup)
        except TizbekError as exc:
            raise self._fail(seq, "registry", exc.message) from None
        self._check_subjects(entry)
        custody = None
        if self.complete and seq > 0:
            try:
                custody = self._custody(genesis).apply(event, seq=seq, logged_at=entry.logged_at)
            except RuleError as exc:
                raise self._rule_failure(seq, exc) from None
        return new_genesis, change, custody

    def _custody(self, genesis: Genesis) -> Custody:
        if self._rules is None:
            self._rules = Custody(
                self.state, authority_id=genesis.authority_id, rules=genesis.rules
            )
        return self._rules

    def _rule_failure(self, seq: int, exc: RuleError) -> VerificationError:
        failure = self._fail(seq, "rule", f"{exc.rule}: {exc.message}")
        failure.rule = exc.rule
        return failure

    def _check_position(self, entry: Entry) -> None:
        seq, last = entry.seq, self.state.tip()
        if last is None:
            if seq != 0:
                raise self._fail(seq, "order", "the entries must start with the genesis entry 0")
        elif seq <= last.seq:
            raise self._fail(seq, "order", f"seq {seq} does not follow seq {last.seq}")
        elif self.complete and seq != last.seq + 1:
            raise self._fail(last.seq + 1, "order", f"entry {last.seq + 1} is missing")
        if last is not None and seq == last.seq + 1 and entry.prev != last.hash:
            raise self._fail(
                seq,
                "chain",
                f"prev does not match the leaf hash of entry {last.seq}",
                expected=last.hash.hex(),
                actual=entry.prev.hex(),
            )
        if last is not None and entry.logged_at < last.logged_at:
            raise self._fail(seq, "time", "logged_at goes back in time")

    def _check_genesis(self, entry: Entry) -> Genesis:
        if entry.prev != ZERO_HASH:
            raise self._fail(0, "chain", "entry 0 must have prev of 64 zeros")
        try:
            genesis = read_genesis(entry.event)
        except TizbekError as exc:
            raise self._fail(0, "format", exc.message) from None
        if self.log_key is not None and str(genesis.log_key) != str(self.log_key):
            raise self._fail(
                0,
                "checkpoint",
                "the genesis entry names another checkpoint key than the one given",
                expected=str(genesis.log_key),
                actual=str(self.log_key),
            )
        return genesis

    def _check_subjects(self, entry: Entry) -> None:
        for kind, ident, after in subjects(entry.event):
            head = self.state.head(kind, ident)
            if after is None:
                if head is not None:
                    raise self._fail(entry.seq, "reference", f"{kind} {ident} already exists")
                continue
            if head is None:
                if self.complete:
                    raise self._fail(entry.seq, "reference", f"{kind} {ident} does not exist")
                continue
            if bytes.fromhex(after) != head:
                raise self._fail(
                    entry.seq,
                    "reference",
                    f"after does not name the latest entry about {kind} {ident}",
                    expected=head.hex(),
                    actual=after,
                )

    def apply(self, entry: Entry) -> None:
        """Record an entry as the latest one (checked now, or by an earlier audit)."""
        genesis = read_genesis(entry.event) if entry.seq == 0 else self.state.genesis()
        assert genesis is not None
        lookup = _lookup_in(authority_bindings(genesis)) if entry.seq == 0 else self.state.binding
        change = registry_change(
            entry.event, entry.seq, authority_id=genesis.authority_id, lookup=lookup
        )
        custody = None
        if self.complete and entry.seq > 0:
            try:
                custody = self._custody(genesis).apply(
                    entry.event, seq=entry.seq, logged_at=entry.logged_at
                )
            except RuleError as exc:
                raise self._rule_failure(entry.seq, exc) from None
        self.state.record(
            entry, genesis=genesis if entry.seq == 0 else None, change=change, custody=custody
        )
        self.count += 1

    def add(self, entry: Entry) -> None:
        """Check then record ``entry``."""
        genesis, change, custody = self._checked(entry)
        self.state.record(entry, genesis=genesis, change=change, custody=custody)
        self.count += 1

    def skip(self, entry: Entry) -> None:
        """Take an entry that broke a custody rule as the latest one, without its effects.

        An audit goes on past such an entry to report every violation: the
        entry keeps its place in the chain, its nonce and its ``after``
        links, but changes no registry or lot.
        """
        self.state.record(entry, genesis=None, change=None, custody=None)
        self.count += 1

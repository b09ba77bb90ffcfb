"""Replaying entries in order and checking every protocol rule on each one.

The same :class:`ChainVerifier` runs when the log appends a submission and when
an inspector replays a log or a bundle, so a rule cannot hold on one side and
not the other. It checks, entry by entry: sequence order and the ``prev`` link,
server time never going backwards, the genesis entry, the event's form and
``log`` binding, the signature with a key bound to the actor at that point,
nonce reuse, and that each ``after`` names the latest entry about its lot or
transfer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.entries import ZERO_HASH, Entry
from ledger.errors import TizbekError, VerificationError
from ledger.events import GENESIS_TYPE, subjects
from ledger.genesis import Genesis, read_genesis
from ledger.keyring import KeyRing
from ledger.note import VerifierKey


@dataclass
class ChainVerifier:
    """Checks entries given in increasing ``seq`` order.

    ``complete`` says the entries are the whole log from seq 0 with no gaps; a
    sparse replay (an audit bundle) checks the ``prev`` link only between
    neighbours and ``after`` only for lots and transfers created in view.
    """

    complete: bool = True
    log_key: VerifierKey | None = None
    genesis: Genesis | None = None
    keyring: KeyRing | None = None
    last: Entry | None = None
    count: int = 0
    _nonces: set[tuple[str, str]] = field(default_factory=set)
    _heads: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def _fail(self, entry_seq: int, check: str, message: str, **evidence: str) -> VerificationError:
        return VerificationError(message, seq=entry_seq, check=check, **evidence)

    def check(self, entry: Entry) -> None:
        """Raise :class:`VerificationError` unless ``entry`` may follow those seen so far."""
        seq = entry.seq
        self._check_position(entry)
        event = entry.event
        if seq == 0:
            genesis = self._check_genesis(entry)
            keyring = KeyRing(genesis)
        elif event["type"] == GENESIS_TYPE:
            raise self._fail(seq, "format", "only entry 0 may be a genesis entry")
        else:
            assert self.genesis is not None
            assert self.keyring is not None
            genesis, keyring = self.genesis, self.keyring
        if event["log"] != genesis.origin:
            raise self._fail(
                seq, "format", f"event is for log {event['log']!r}, not {genesis.origin!r}"
            )
        try:
            public = keyring.key_for(event["actor"], event["key"])
        except TizbekError as exc:
            raise self._fail(seq, "key", exc.message) from None
        try:
            entry.submission.verify(public)
        except TizbekError as exc:
            raise self._fail(seq, "signature", exc.message) from None
        if (event["key"], event["nonce"]) in self._nonces:
            raise self._fail(seq, "replay", f"nonce {event['nonce']} was already used by this key")
        try:
            keyring.check(event)
        except TizbekError as exc:
            raise self._fail(seq, "registry", exc.message) from None
        self._check_subjects(entry)

    def _check_position(self, entry: Entry) -> None:
        seq, last = entry.seq, self.last
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
            head = self._heads.get((kind, ident))
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
        """Record a checked entry as the latest one."""
        event = entry.event
        if entry.seq == 0:
            self.genesis = read_genesis(event)
            self.keyring = KeyRing(self.genesis)
        assert self.keyring is not None
        self.keyring.apply(entry.seq, event)
        self._nonces.add((event["key"], event["nonce"]))
        for kind, ident, _after in subjects(event):
            self._heads[(kind, ident)] = entry.hash
        self.last = entry
        self.count += 1

    def add(self, entry: Entry) -> None:
        """Check then record ``entry``."""
        self.check(entry)
        self.apply(entry)

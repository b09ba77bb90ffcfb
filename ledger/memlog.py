"""A complete log held in memory: sequencing, checkpoints and bundles without a database.

It runs the same rules as the durable log (the :class:`~ledger.chain.ChainVerifier`
checks every submission before it gets a seq), and serves tests, the demo and
the benchmarks. Durable storage keeps the same shape over SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ledger.bundle import make_bundle, with_dependencies
from ledger.chain import ChainVerifier, MemoryState
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entries import ZERO_HASH, Entry
from ledger.errors import EventFormatError
from ledger.events import Submission, utc_now
from ledger.merkle import (
    CompactRange,
    Node,
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
)
from ledger.note import NoteSigner


class MemoryLog:
    """An append-only log in memory, with stored perfect-subtree hashes."""

    def __init__(
        self,
        *,
        signer: NoteSigner,
        genesis: Submission,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.signer = signer
        self.origin = signer.name
        self._clock = clock
        self.entries: list[Entry] = []
        self._nodes: dict[Node, bytes] = {}
        self._range = CompactRange()
        self.state = MemoryState()
        self._chain = ChainVerifier(complete=True, log_key=signer.verifier, state=self.state)
        self._by_nonce: dict[tuple[str, str], int] = {}
        self.checkpoints: list[tuple[Checkpoint, str]] = []
        self.append(genesis)
        self.checkpoint()

    @property
    def size(self) -> int:
        """Number of entries."""
        return len(self.entries)

    def read_nodes(self, nodes: Sequence[Node]) -> list[bytes]:
        """The :data:`~ledger.merkle.NodeReader` over this log's stored nodes."""
        return [self._nodes[n] for n in nodes]

    def append(self, submission: Submission) -> Entry:
        """Append a submission; the same submission again returns its original entry."""
        key = (submission.event["key"], submission.event["nonce"])
        if key in self._by_nonce:
            original = self.entries[self._by_nonce[key]]
            if original.submission == submission:
                return original
            raise EventFormatError(f"nonce {key[1]} was already used by key {key[0]}")
        last = self._chain.last
        logged_at = self._clock()
        if last is not None and logged_at < last.logged_at:
            logged_at = last.logged_at
        entry = Entry.build(
            seq=self.size,
            prev=last.hash if last else ZERO_HASH,
            logged_at=logged_at,
            submission=submission,
        )
        self._chain.add(entry)
        self.entries.append(entry)
        self._by_nonce[key] = entry.seq
        for level, index, h in self._range.append(entry.hash):
            self._nodes[(level, index)] = h
        return entry

    def checkpoint(self) -> str:
        """Sign (if the log grew) and return the latest checkpoint note."""
        if self.checkpoints and self.checkpoints[-1][0].size == self.size:
            return self.checkpoints[-1][1]
        new = Checkpoint(self.origin, self.size, self._range.root())
        previous = self.checkpoints[-1][0] if self.checkpoints else None
        proof = (
            consistency_proof_from_nodes(self.read_nodes, old_size=previous.size, size=new.size)
            if previous
            else []
        )
        note = sign_checkpoint(self.signer, new, previous=previous, proof=proof)
        self.checkpoints.append((new, note))
        return note

    def _with_dependencies(self, seqs: Iterable[int]) -> list[int]:
        """The seqs plus entry 0 and the key bindings their signers depend on."""

        def bound_at(key_id: str) -> int | None:
            binding = self.state.binding(key_id)
            return None if binding is None else binding.bound_seq

        return with_dependencies(
            seqs, key_of=lambda seq: self.entries[seq].event["key"], bound_at=bound_at
        )

    def bundle(self, seqs: Iterable[int] | None = None) -> dict[str, Any]:
        """A bundle at the latest checkpoint: the whole log, or ``seqs`` and what they need."""
        note = self.checkpoint()
        size = self.size
        if seqs is None:
            chosen, kind = list(range(size)), "log"
        else:
            chosen, kind = self._with_dependencies(seqs), "entries"
        entries = [self.entries[s] for s in chosen]
        proofs = [inclusion_proof_from_nodes(self.read_nodes, index=s, size=size) for s in chosen]
        older = [
            (n, consistency_proof_from_nodes(self.read_nodes, old_size=c.size, size=size))
            for c, n in self.checkpoints[:-1]
        ]
        return make_bundle(
            kind=kind,
            log_key=self.signer.verifier,
            checkpoint=note,
            entries=entries,
            proofs=proofs,
            consistency=older,
        )

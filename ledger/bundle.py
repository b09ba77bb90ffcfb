"""Offline audit bundles: entries, a signed checkpoint and the proofs that tie them.

A bundle is one JSON object::

    {"format": "tizbek-bundle/1",
     "kind": "log" | "entries",
     "log_key": "<the log's C2SP verifier key>",
     "checkpoint": "<signed checkpoint note>",
     "entries": [{"seq": n, "leaf": "<leaf data as text>", "proof": ["<hex>", ...]}, ...],
     "consistency": [{"checkpoint": "<older signed checkpoint>", "proof": ["<hex>", ...]}]}

``kind: "log"`` holds every entry of the checkpoint's tree; ``"entries"`` holds
some of them and always entry 0. Each entry carries its inclusion proof
against the checkpoint, and every proof is checked, so a bundle holds no byte
that is not verified. :func:`verify_bundle` needs no server and no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.chain import ChainVerifier
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.entries import Entry, parse_entry_text
from ledger.errors import BundleFormatError, TizbekError, VerificationError
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.note import VerifierKey

BUNDLE_FORMAT = "tizbek-bundle/1"
KINDS = ("log", "entries")


@dataclass(frozen=True)
class BundleReport:
    """What a verified bundle establishes."""

    kind: str
    origin: str
    size: int
    root: bytes
    entries: int
    first_seq: int
    last_seq: int
    log_key: str
    authority_id: str
    consistency_checked: int

    def summary(self) -> str:
        """A one-line human summary."""
        scope = "the whole log" if self.kind == "log" else "selected entries"
        return (
            f"OK: {self.entries} entries ({scope}, seq {self.first_seq}..{self.last_seq}) of "
            f"{self.origin} verified against checkpoint size {self.size} root "
            f"{self.root.hex()[:16]}…, {self.consistency_checked} older checkpoint(s) consistent; "
            f"log key {self.log_key}; authority {self.authority_id}"
        )


def _hashes(value: object, where: str) -> list[bytes]:
    """Decode a list of lowercase 64-hex hashes (round-tripped, so nothing else passes)."""
    if not isinstance(value, list):
        raise BundleFormatError(f"{where} must be a list of 64-hex hashes")
    out = []
    for h in value:
        try:
            raw = bytes.fromhex(h)
        except (TypeError, ValueError):
            raise BundleFormatError(f"{where} must be a list of 64-hex hashes") from None
        if len(raw) != 32 or raw.hex() != h:
            raise BundleFormatError(f"{where} must be a list of 64-hex hashes")
        out.append(raw)
    return out


def with_dependencies(
    seqs: Iterable[int], *, key_of: Callable[[int], str], bound_at: Callable[[str], int | None]
) -> list[int]:
    """``seqs`` plus entry 0 and the ``key.bound`` entries their signers depend on, sorted.

    ``key_of`` gives the signing key id of an entry; ``bound_at`` the seq that
    bound a key (``None`` or 0 for the authority's keys, bound by entry 0).
    """
    chosen: set[int] = set()
    todo = [0, *seqs]
    while todo:
        seq = todo.pop()
        if seq in chosen:
            continue
        chosen.add(seq)
        bound = bound_at(key_of(seq))
        if bound:
            todo.append(bound)
    return sorted(chosen)


class Leaf(Protocol):
    """What a bundle holds of an entry: its seq and its leaf data as stored."""

    @property
    def seq(self) -> int: ...

    @property
    def data(self) -> bytes: ...


def make_bundle(
    *,
    kind: str,
    log_key: VerifierKey,
    checkpoint: str,
    entries: Sequence[Leaf],
    proofs: Sequence[Sequence[bytes]],
    consistency: Sequence[tuple[str, Sequence[bytes]]] = (),
) -> dict[str, Any]:
    """Assemble a bundle from entries and their inclusion proofs against ``checkpoint``."""
    if kind not in KINDS:
        raise BundleFormatError(f"bundle kind must be one of {KINDS}")
    return {
        "format": BUNDLE_FORMAT,
        "kind": kind,
        "log_key": str(log_key),
        "checkpoint": checkpoint,
        "entries": [
            {
                "seq": e.seq,
                "leaf": e.data.decode("utf-8", errors="replace"),
                "proof": [h.hex() for h in p],
            }
            for e, p in zip(entries, proofs, strict=True)
        ],
        "consistency": [
            {"checkpoint": note, "proof": [h.hex() for h in proof]} for note, proof in consistency
        ],
    }


def _read_header(bundle: object) -> tuple[str, VerifierKey, str, list[Any], list[Any]]:
    if not isinstance(bundle, dict):
        raise BundleFormatError("a bundle is a JSON object")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise BundleFormatError(f"bundle format must be {BUNDLE_FORMAT!r}")
    kind = bundle.get("kind")
    if kind not in KINDS:
        raise BundleFormatError(f"bundle kind must be one of {KINDS}")
    entries, consistency = bundle.get("entries"), bundle.get("consistency", [])
    if not isinstance(entries, list) or not entries:
        raise BundleFormatError("bundle has no entries")
    if not isinstance(consistency, list):
        raise BundleFormatError("bundle consistency must be a list")
    if not isinstance(bundle.get("log_key"), str) or not isinstance(bundle.get("checkpoint"), str):
        raise BundleFormatError("bundle needs log_key and checkpoint strings")
    try:
        log_key = VerifierKey.parse(bundle["log_key"])
    except TizbekError as exc:
        raise BundleFormatError(f"bundle log_key: {exc.message}") from None
    return kind, log_key, bundle["checkpoint"], entries, consistency


def _check_order(kind: str, items: list[Any], size: int) -> None:
    """Seqs strictly increasing, within the tree, and gap-free for a whole-log bundle."""
    previous = -1
    for i, item in enumerate(items):
        seq = item.get("seq") if isinstance(item, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            where = previous + 1 if kind == "log" else None
            raise VerificationError(f"bundle item {i} has no valid seq", seq=where, check="format")
        if seq <= previous:
            raise VerificationError(
                f"entry {seq} comes after entry {previous}: entries are out of order or repeated",
                seq=seq,
                check="order",
            )
        if seq >= size:
            raise VerificationError(
                f"entry {seq} is beyond the checkpoint's {size} entries", seq=seq, check="order"
            )
        if kind == "log" and seq != previous + 1:
            raise VerificationError(
                "entry is missing from the bundle", seq=previous + 1, check="order"
            )
        previous = seq
    if kind == "log" and previous != size - 1:
        raise VerificationError("entry is missing from the bundle", seq=previous + 1, check="order")


def _entry(item: dict[str, Any], checkpoint: Checkpoint) -> Entry:
    seq = item["seq"]
    leaf = item.get("leaf")
    if not isinstance(leaf, str):
        raise VerificationError("entry has no leaf text", seq=seq, check="format")
    try:
        entry = parse_entry_text(leaf)
    except TizbekError as exc:
        raise VerificationError(exc.message, seq=seq, check="leaf") from None
    if entry.seq != seq:
        raise VerificationError(f"leaf data says seq {entry.seq}", seq=seq, check="leaf")
    try:
        proof = _hashes(item.get("proof"), "proof")
        verify_inclusion(
            index=seq, size=checkpoint.size, leaf=entry.hash, proof=proof, root=checkpoint.root
        )
    except TizbekError as exc:
        raise VerificationError(exc.message, seq=seq, check="proof") from None
    return entry


def verify_bundle(bundle: object, *, log_key: VerifierKey | None = None) -> BundleReport:
    """Verify a bundle completely; raise the first failure, naming its entry's seq.

    ``log_key`` pins the verifier key the caller trusts; without it the bundle's
    own key is used and reported, and still must match the genesis entry.
    """
    kind, own_key, note, items, consistency = _read_header(bundle)
    if log_key is not None and str(own_key) != str(log_key):
        raise VerificationError(
            "the bundle's log key is not the trusted one",
            seq=None,
            check="checkpoint",
            expected=str(log_key),
            actual=str(own_key),
        )
    try:
        checkpoint = verify_checkpoint(note, own_key)
    except TizbekError as exc:
        raise VerificationError(exc.message, seq=None, check="checkpoint") from None
    _check_order(kind, items, checkpoint.size)
    chain = ChainVerifier(complete=kind == "log", log_key=own_key)
    for item in items:
        chain.add(_entry(item, checkpoint))
    checked = 0
    for i, older in enumerate(consistency):
        if not isinstance(older, dict) or not isinstance(older.get("checkpoint"), str):
            raise BundleFormatError(f"consistency[{i}] needs a checkpoint")
        try:
            old = verify_checkpoint(older["checkpoint"], own_key)
            proof = _hashes(older.get("proof"), f"consistency[{i}].proof")
            verify_consistency(
                old_size=old.size,
                size=checkpoint.size,
                old_root=old.root,
                root=checkpoint.root,
                proof=proof,
            )
        except TizbekError as exc:
            raise VerificationError(
                f"older checkpoint {i}: {exc.message}", seq=None, check="consistency"
            ) from None
        checked += 1
    assert chain.genesis is not None
    assert chain.last is not None
    return BundleReport(
        kind=kind,
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root,
        entries=chain.count,
        first_seq=items[0]["seq"],
        last_seq=chain.last.seq,
        log_key=str(own_key),
        authority_id=chain.genesis.authority_id,
        consistency_checked=checked,
    )

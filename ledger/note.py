"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures.

A note is a text ending in a newline, a blank line, and signature lines
``— <key name> base64(key hash[4] ‖ signature)``. A verifier key is written
``<name>+<hex key hash>+base64(0x01 ‖ public key)``, where the key hash is
SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4].
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import KeyFormatError, NoteError, SignatureError
from ledger.keys import PublicKey, SigningKey

ED25519_TYPE = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
#: Enough for the log's own signature and a generous set of witness cosignatures.
MAX_SIGNATURES = 100
#: Checkpoints are a few hundred bytes; anything this large is not one of ours.
MAX_NOTE_BYTES = 1 << 20


#: Whitespace as ``str.isspace`` has it, and the control characters a note's text may not hold.
_SPACE = re.compile(r"\s")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and _SPACE.search(name) is None


def key_hash(name: str, public: PublicKey) -> bytes:
    """The 4-byte key hash of an Ed25519 note key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_TYPE]) + public.raw).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A note verifier: a key name and an Ed25519 public key."""

    name: str
    public: PublicKey

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise KeyFormatError(f"invalid note key name {self.name!r}")

    @property
    def hash(self) -> bytes:
        """The 4-byte key hash."""
        return key_hash(self.name, self.public)

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519_TYPE]) + self.public.raw).decode("ascii")
        return f"{self.name}+{self.hash.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse ``name+hash+base64`` and check that the hash matches the key."""
        parts = text.strip().split("+")
        # The base64 part may itself contain '+': rejoin everything after the hash.
        if len(parts) < 3:
            raise KeyFormatError("a verifier key has the form name+hash+key")
        name, hash_hex, encoded = parts[0], parts[1], "+".join(parts[2:])
        if len(hash_hex) != 8:
            raise KeyFormatError("a verifier key's hash is 8 hex digits")
        try:
            claimed = bytes.fromhex(hash_hex)
            blob = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise KeyFormatError("a verifier key's hash or key is malformed") from None
        if len(blob) != 33 or blob[0] != ED25519_TYPE:
            raise KeyFormatError("a verifier key must be an Ed25519 key (type 0x01, 32 bytes)")
        key = cls(name, PublicKey.from_raw(blob[1:]))
        if key.hash != claimed:
            raise KeyFormatError("a verifier key's hash does not match its name and key")
        return key


@dataclass(frozen=True)
class NoteSigner:
    """A note signer: a key name and an Ed25519 private key."""

    name: str
    key: SigningKey

    @functools.cached_property
    def verifier(self) -> VerifierKey:
        """The matching verifier key."""
        return VerifierKey(self.name, self.key.public)

    def signature_line(self, text: str) -> str:
        """The signature line of this signer over ``text``."""
        sig = self.key.sign(text.encode())
        blob = base64.b64encode(key_hash(self.name, self.key.public) + sig).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {blob}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note text contains a control character")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign ``text`` with every signer; return the note."""
    _check_text(text)
    if "\n\n" in text:
        raise NoteError("note text must not contain a blank line")
    if not signers:
        raise NoteError("a note needs at least one signature")
    return text + "\n" + "".join(s.signature_line(text) for s in signers)


@dataclass(frozen=True)
class Signature:
    """One parsed signature line."""

    name: str
    hash: bytes
    signature: bytes


def parse_note(note: str) -> tuple[str, list[Signature]]:
    """Split a note into its text and signatures, checking the syntax only."""
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteError("note is too large")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    _check_text(text)
    if not block.endswith("\n"):
        raise NoteError("note signatures must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not _valid_name(name) or not encoded:
            raise NoteError(f"malformed signature line {line[:40]!r}")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError(f"signature of {name!r} is not base64") from None
        if len(blob) < 5:
            raise NoteError(f"signature of {name!r} is too short")
        sigs.append(Signature(name, blob[:4], blob[4:]))
    return text, sigs


def open_note(note: str, verifiers: Sequence[VerifierKey]) -> tuple[str, list[str]]:
    """Verify a note; return its text and the names of the keys that signed it.

    Signatures from unknown keys are ignored; a failing signature from a known
    key rejects the note; so does a note with no signature from a known key.
    """
    text, sigs = parse_note(note)
    known = {(v.name, v.hash): v for v in verifiers}
    verified: list[str] = []
    for sig in sigs:
        verifier = known.get((sig.name, sig.hash))
        if verifier is None:
            continue
        try:
            verifier.public.verify(sig.signature, text.encode())
        except SignatureError:
            raise NoteError(f"signature by {sig.name} does not verify") from None
        verified.append(sig.name)
    if not verified:
        raise NoteError("note carries no signature from a known key")
    return text, verified

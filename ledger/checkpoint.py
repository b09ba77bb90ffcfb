"""C2SP tlog-checkpoint: the signed statement "this log had this many entries and this root".

The note text is ``origin\\nsize\\nbase64(root)\\n`` and optional extension
lines; the log signs it as a signed note with its own Ed25519 key, whose name
is the origin. The log never signs a checkpoint inconsistent with its previous
one: :func:`sign_checkpoint` demands the consistency proof first.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import InconsistentCheckpointError, NoteError, ProofError
from ledger.merkle import HASH_SIZE, verify_consistency
from ledger.note import NoteSigner, VerifierKey, open_note, sign_note


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and root hash (plus rarely used extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The checkpoint's note text."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (without signatures)."""
        if not text.endswith("\n"):
            raise NoteError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise NoteError("checkpoint needs origin, size and root on non-empty lines")
        origin, size_text, root_text = lines[:3]
        if (
            not size_text.isascii()
            or not size_text.isdigit()
            or (size_text != "0" and size_text.startswith("0"))
        ):
            raise NoteError(f"checkpoint size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("checkpoint root is not base64") from None
        if len(root) != HASH_SIZE:
            raise NoteError(f"checkpoint root has {len(root)} bytes, not {HASH_SIZE}")
        return cls(origin, int(size_text), root, tuple(lines[3:]))


def check_consistent(previous: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise :class:`InconsistentCheckpointError` unless ``new`` extends ``previous``."""
    if new.origin != previous.origin:
        raise InconsistentCheckpointError(
            f"origin {new.origin!r} differs from the previous checkpoint's {previous.origin!r}"
        )
    if new.size < previous.size:
        raise InconsistentCheckpointError(
            f"size {new.size} is smaller than the previous checkpoint's {previous.size}"
        )
    if previous.size == 0:
        return
    try:
        verify_consistency(
            old_size=previous.size,
            size=new.size,
            old_root=previous.root,
            root=new.root,
            proof=proof,
        )
    except ProofError as exc:
        raise InconsistentCheckpointError(
            f"checkpoint at size {new.size} is not consistent with size {previous.size}: {exc}"
        ) from None


def sign_checkpoint(
    signer: NoteSigner,
    checkpoint: Checkpoint,
    *,
    previous: Checkpoint | None,
    proof: Sequence[bytes] = (),
) -> str:
    """Sign ``checkpoint`` after proving it consistent with the log's previous checkpoint."""
    if signer.name != checkpoint.origin:
        raise NoteError(f"log key name {signer.name!r} differs from origin {checkpoint.origin!r}")
    if previous is not None:
        check_consistent(previous, checkpoint, proof)
    return sign_note(checkpoint.body(), [signer])


def verify_checkpoint(note: str, verifier: VerifierKey, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint against the log's verifier key; return the checkpoint."""
    text, _ = open_note(note, [verifier])
    checkpoint = Checkpoint.parse(text)
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {expected!r}")
    return checkpoint

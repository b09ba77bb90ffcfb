"""One error hierarchy for Tizbek, each error with a stable machine code.

The API maps these once to RFC 9457 problem+json and the CLI once to a one-line
message and an exit code. Verification failures carry their evidence: the
entry's ``seq`` and what was expected and found.
"""

from __future__ import annotations


class TizbekError(Exception):
    """Base of every error Tizbek raises on purpose."""

    code: str = "tizbek_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CanonicalEncodingError(TizbekError):
    """A value cannot be encoded as canonical JSON (RFC 8785), or bytes are not canonical."""

    code = "canonical_encoding"


class KeyFormatError(TizbekError):
    """A key, key id or verifier key string is malformed or cannot be read."""

    code = "key_format"


class SignatureError(TizbekError):
    """A signature does not verify, or is malformed."""

    code = "bad_signature"


class EventFormatError(TizbekError):
    """An event or submission is missing a field or has one of the wrong form."""

    code = "event_format"


class UnknownKeyError(TizbekError):
    """The signing key is not bound to the actor at that point of the log, or was revoked."""

    code = "unknown_key"


class LotIdError(TizbekError, ValueError):
    """A lot id or GS1 key that is malformed or fails its check character."""

    code = "lot_id"


class ProofError(TizbekError):
    """A Merkle inclusion or consistency proof is malformed or does not verify."""

    code = "bad_proof"


class NoteError(TizbekError):
    """A signed note or checkpoint is malformed or carries no valid signature from a known key."""

    code = "bad_note"


class InconsistentCheckpointError(TizbekError):
    """A new checkpoint would contradict one the log already signed."""

    code = "inconsistent_checkpoint"


class BundleFormatError(TizbekError):
    """An audit bundle is not valid JSON or lacks a required part."""

    code = "bundle_format"


class StorageError(TizbekError):
    """The log's store cannot take or serve the request (closed, unreachable, no log yet)."""

    code = "storage"


class RuleError(TizbekError):
    """An event breaks a custody or registry rule at the point of the log where it sits.

    ``rule`` names the rule (for example ``licence``, ``holder``); ``subject``
    the lot, transfer, organisation or licence concerned.
    """

    code = "rule_violation"

    def __init__(self, message: str, *, rule: str, subject: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.subject = subject


class VerificationError(TizbekError):
    """A log entry failed verification; names the entry and what failed.

    ``check`` is one of: ``chain`` (prev link), ``leaf`` (leaf data or hash),
    ``signature``, ``proof``, ``checkpoint``, ``order`` (seq order, gaps,
    duplicates), ``format``, ``key``, ``reference`` (an ``after`` that points
    at nothing earlier in the log), ``rule`` (a custody or registry rule,
    named in ``rule``).
    """

    code = "verification_failed"

    def __init__(
        self,
        message: str,
        *,
        seq: int | None,
        check: str,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        where = f"seq {seq}" if seq is not None else "log"
        super().__init__(f"{where}: {check}: {message}")
        self.seq = seq
        self.check = check
        self.expected = expected
        self.actual = actual
        #: For ``check == "rule"``: which custody or registry rule was broken.
        self.rule: str | None = None

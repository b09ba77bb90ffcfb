"""Short-lived share links: a holder lets someone without a token see a lot's full record.

A driver stopped by the police, or a recycler showing an inspector a lot,
opens a share link on a phone; its QR carries ``/l/{lot}?share=TOKEN``. The
token is ``EXPIRES.MAC``: the Unix time it stops working and an HMAC-SHA256
of the lot id and that time, keyed by a secret derived (HKDF) from the log's
own key, so every API worker of one log accepts the links the others made and
no new secret needs managing. A link cannot be widened to another lot or
stretched in time without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.errors import TizbekError
from ledger.keys import SigningKey

#: How long a share link works unless the holder asks otherwise, and at most.
DEFAULT_MINUTES = 30
MAX_MINUTES = 24 * 60
_MAC_BYTES = 16


class ShareLinkError(TizbekError):
    """A share token that is malformed, forged, for another lot, or expired."""

    code = "bad_share_link"


class ShareLinks:
    """Makes and checks share tokens for one log."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def for_log(cls, log_key: SigningKey) -> ShareLinks:
        """Share links keyed by a secret derived from the log's checkpoint key."""
        secret = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"tizbek share links v1"
        ).derive(log_key.private_bytes())
        return cls(secret)

    def _mac(self, lot: str, expires: int) -> str:
        message = f"tizbek share v1\n{lot}\n{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def make(self, lot: str, *, minutes: int = DEFAULT_MINUTES, now: float | None = None) -> str:
        """A token for ``lot`` that works for ``minutes``."""
        if not 1 <= minutes <= MAX_MINUTES:
            raise ShareLinkError(f"a share link lasts 1 to {MAX_MINUTES} minutes")
        expires = int(now if now is not None else time.time()) + 60 * minutes
        return f"{expires}.{self._mac(lot, expires)}"

    def check(self, token: str, lot: str, *, now: float | None = None) -> int:
        """The expiry (Unix time) of a valid token for ``lot``; ShareLinkError otherwise."""
        expires_text, _, mac = token.partition(".")
        if not expires_text.isdigit() or not mac or len(expires_text) > 12:
            raise ShareLinkError("the share link is malformed")
        expires = int(expires_text)
        if not hmac.compare_digest(mac, self._mac(lot, expires)):
            raise ShareLinkError("the share link is not valid for this lot")
        if (now if now is not None else time.time()) >= expires:
            raise ShareLinkError("the share link has expired; ask the holder for a new one")
        return expires

"""What a lot's QR label holds, and how a scanned URL leads back to the lot.

A deployment prints ``{base}/l/{lot}`` under its public base URL
(``TIZBEK_BASE_URL``). With a GS1 company prefix (``TIZBEK_GS1_PREFIX``) it
prints a GS1 Digital Link instead, ``{base}/8004/{prefix}{lot}``: the lot's
GIAI, which any GS1-aware scanner reads as a standard key. Both forms resolve
to the same scan page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledger.errors import LotIdError
from ledger.labels import gs1, ids

BASE_ENV = "TIZBEK_BASE_URL"
PREFIX_ENV = "TIZBEK_GS1_PREFIX"
DEFAULT_BASE = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Links:
    """The label URLs of one deployment."""

    base: str = DEFAULT_BASE
    gs1_prefix: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.base)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query:
            raise LotIdError(f"{BASE_ENV} must be an http(s) URL like https://tizbek.kz")
        object.__setattr__(self, "base", self.base.rstrip("/"))
        if self.gs1_prefix is not None and not gs1.PREFIX_RE.match(self.gs1_prefix):
            raise LotIdError(f"{PREFIX_ENV} must be a GS1 company prefix of 6-12 digits")

    @classmethod
    def from_env(cls) -> Links:
        """The deployment's links as ``TIZBEK_BASE_URL`` and ``TIZBEK_GS1_PREFIX`` set them."""
        prefix = os.environ.get(PREFIX_ENV, "").strip() or None
        return cls(os.environ.get(BASE_ENV, "").strip() or DEFAULT_BASE, prefix)

    def scan_url(self, lot: str) -> str:
        """The plain scan page URL of a lot."""
        return f"{self.base}/l/{lot}"

    def label_url(self, lot: str) -> str:
        """What the lot's QR code holds: the Digital Link if a prefix is set, else the scan URL."""
        if self.gs1_prefix is None or not ids.is_lot_id(lot):
            return self.scan_url(lot)
        return gs1.DigitalLink("8004", gs1.giai(self.gs1_prefix, lot)).url(self.base)

    def lot_of_giai(self, giai: str) -> str:
        """The lot a GIAI names; LotIdError if it is not one of this deployment's."""
        gs1.key_link("8004", giai)
        if self.gs1_prefix is None or not giai.startswith(self.gs1_prefix):
            raise LotIdError(f"GIAI {giai} does not carry this deployment's GS1 company prefix")
        return ids.normalise(giai[len(self.gs1_prefix) :])

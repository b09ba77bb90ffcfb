"""GS1 keys and Digital Link URIs for lot labels.

A deployment with a GS1 company prefix labels lots with a GS1 Digital Link
instead of a plain Tizbek URL, so that any GS1-aware scanner reads a standard
key: a GIAI (application identifier 8004: company prefix + the lot id) or an
SSCC (AI 00: 18 digits ending in a mod-10 check digit). GLN (AI 414) check
digits are computed the same way, for sites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ledger.errors import LotIdError

PREFIX_RE = re.compile(r"^[0-9]{6,12}$")
# GS1 AI encodable character set 82, as allowed in a GIAI.
GIAI_RE = re.compile(r"^[0-9]{6,12}[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,24}$")
GIAI_MAX = 30


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit for ``digits`` (all data digits, without the check)."""
    if not digits.isdigit() or not digits.isascii():
        raise LotIdError(f"GS1 key {digits!r} must be digits only")
    # From the rightmost data digit leftwards the weights are 3, 1, 3, 1, ...
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def valid_check_digit(key: str) -> bool:
    """Whether a complete GS1 key (SSCC, GLN, GTIN) ends in its correct check digit."""
    return len(key) >= 2 and key.isdigit() and check_digit(key[:-1]) == key[-1]


def sscc(extension: int, prefix: str, serial: int) -> str:
    """An 18-digit SSCC: extension digit, company prefix, serial reference, check digit."""
    if not PREFIX_RE.match(prefix):
        raise LotIdError(f"GS1 company prefix {prefix!r} must be 6-12 digits")
    if not 0 <= extension <= 9:
        raise LotIdError("SSCC extension digit must be 0-9")
    width = 16 - len(prefix)
    if not 0 <= serial < 10**width:
        raise LotIdError(f"SSCC serial reference {serial} does not fit {width} digits")
    body = f"{extension}{prefix}{serial:0{width}d}"
    return body + check_digit(body)


def giai(prefix: str, reference: str) -> str:
    """A GIAI: the company prefix followed by the asset reference (here, a lot id)."""
    key = prefix + reference
    if not PREFIX_RE.match(prefix) or len(key) > GIAI_MAX or not GIAI_RE.match(key):
        raise LotIdError(f"GIAI {key!r} must be a 6-12 digit prefix and at most 30 characters")
    return key


@dataclass(frozen=True)
class DigitalLink:
    """A parsed GS1 Digital Link: its application identifier and key value."""

    ai: str  # "8004" (GIAI) or "00" (SSCC)
    value: str

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/{self.ai}/{self.value}"


def parse_link(url: str) -> DigitalLink:
    """The key a Digital Link URL names; LotIdError if it is not a valid GIAI or SSCC link."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise LotIdError(f"{url!r} is not an http(s) URL")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if len(segments) < 2:
        raise LotIdError(f"{url!r} names no GS1 key")
    ai, value = segments[-2], segments[-1]
    return key_link(ai, value)


def key_link(ai: str, value: str) -> DigitalLink:
    """Check a key value for its application identifier."""
    if ai == "00":
        if len(value) != 18 or not valid_check_digit(value):
            raise LotIdError(f"SSCC {value!r} must be 18 digits with a valid check digit")
    elif ai == "8004":
        if len(value) > GIAI_MAX or not GIAI_RE.match(value):
            raise LotIdError(f"GIAI {value!r} is not a valid individual asset identifier")
    else:
        raise LotIdError(f"application identifier {ai!r} is not a lot key (use 00 or 8004)")
    return DigitalLink(ai, value)

"""Lot ids that survive being read aloud, typed from a torn label, or misread.

A lot id is nine characters from a 31-symbol alphabet (Crockford's base 32
without ``Z``, which is too easily read as ``2``): a four-character **block**
issued to one collector by a ``labels.issued`` entry, a four-character
**serial** inside that block, and one **check character**.

The check character makes the weighted sum of all nine values, with weights
9, 8, ..., 1 from the left, divisible by 31. Because 31 is prime and every
weight and every difference of weights is non-zero modulo 31, changing any one
character or swapping any two different neighbours always breaks the check.

Ids are case-insensitive. When read back, ``O`` is taken for ``0`` and ``I``
and ``L`` for ``1`` (the usual misreadings); spaces and hyphens are ignored,
so ``7t5t-0001-3`` and ``7T5T 0001 3`` name the same lot ``7T5T00013``.
"""

from __future__ import annotations

import functools
import re
import secrets

from ledger.errors import LotIdError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"
BASE = len(ALPHABET)  # 31, a prime
BLOCK_LEN = 4
SERIAL_LEN = 4
ID_LEN = BLOCK_LEN + SERIAL_LEN + 1
BLOCK_SIZE = BASE**SERIAL_LEN  # serials per block
MAX_ISSUE = 100_000  # labels per labels.issued entry

_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_VALUE.update({"O": 0, "I": 1, "L": 1})
_SEPARATORS = re.compile(r"[\s\-]+")
BLOCK_RE = re.compile(f"^[{ALPHABET}]{{{BLOCK_LEN}}}$")


def _weighted(values: list[int]) -> int:
    n = len(values)
    return sum((n - i) * v for i, v in enumerate(values)) % BASE


def check_char(body: str) -> str:
    """The check character for the eight characters ``block + serial``."""
    values = [_VALUE[c] for c in body]
    # The check character carries weight 1, so it is minus the others' sum.
    return ALPHABET[(-_weighted([*values, 0])) % BASE]


def make(block: str, serial: int) -> str:
    """The lot id of ``serial`` in ``block``."""
    if not BLOCK_RE.match(block):
        raise LotIdError(f"block {block!r} must be {BLOCK_LEN} characters of {ALPHABET}")
    if not 0 <= serial < BLOCK_SIZE:
        raise LotIdError(f"serial {serial} is outside a block (0-{BLOCK_SIZE - 1})")
    digits = []
    for _ in range(SERIAL_LEN):
        serial, digit = divmod(serial, BASE)
        digits.append(ALPHABET[digit])
    body = block + "".join(reversed(digits))
    return body + check_char(body)


@functools.lru_cache(maxsize=4096)  # an event's lot id is read by several rules
def normalise(text: str) -> str:
    """The canonical form of a typed or scanned lot id; raises LotIdError if it is not one.

    The message says whether the id is malformed or its check failed, so a
    collector who mistyped it knows to look again at the label.
    """
    compact = _SEPARATORS.sub("", text).upper()
    if len(compact) != ID_LEN:
        raise LotIdError(
            f"lot id {text!r} must have {ID_LEN} characters (letters and digits), "
            f"not {len(compact)}"
        )
    bad = sorted({c for c in compact if c not in _VALUE})
    if bad:
        raise LotIdError(f"lot id {text!r} contains characters lot ids never use: {''.join(bad)}")
    canonical = "".join(ALPHABET[_VALUE[c]] for c in compact)
    if _weighted([_VALUE[c] for c in canonical]) != 0:
        raise LotIdError(
            f"lot id {text!r} failed its check character: a character is wrong or two are swapped"
        )
    return canonical


def is_lot_id(text: str) -> bool:
    """Whether ``text`` is a canonical lot id with a valid check character."""
    try:
        return normalise(text) == text
    except LotIdError:
        return False


def split(lot: str) -> tuple[str, int]:
    """The block and serial of a canonical lot id."""
    canonical = normalise(lot)
    serial = 0
    for c in canonical[BLOCK_LEN : BLOCK_LEN + SERIAL_LEN]:
        serial = serial * BASE + _VALUE[c]
    return canonical[:BLOCK_LEN], serial


def grouped(lot: str) -> str:
    """The id as printed for people: ``7T5T 0001 3``."""
    return f"{lot[:BLOCK_LEN]} {lot[BLOCK_LEN : BLOCK_LEN + SERIAL_LEN]} {lot[-1]}"


def random_block() -> str:
    """A fresh block id drawn at random (the log refuses one already issued)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(BLOCK_LEN))

"""How treatment outputs count towards recovery and recycling, and the WEEE Annex V targets.

A treatment output (a ``recovered`` flow: material, operation, grams) counts as

* *prepared for reuse and recycled* (so also *recovered*) when its material is
  ``reuse``, or when the treatment was a recovery operation R2-R13 and the
  material is not ``residues`` (R12 and R13, exchange and storage before
  recovery, count because their fractions leave for recycling);
* *recovered* only, when the operation was R1 (energy recovery);
* neither, for ``residues`` and for every disposal operation D1-D15.

Rates divide these by the input weight treated (``processed``) in the same
category. Targets: Directive 2012/19/EU Annex V, part 3 (from 15 August 2018).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """Minimum shares of the treated weight, in percent (``None``: no target)."""

    recovered: int | None
    reused_recycled: int


#: WEEE category -> Annex V target.
ANNEX_V: dict[int, Target] = {
    1: Target(85, 80),
    2: Target(80, 70),
    3: Target(None, 80),
    4: Target(85, 80),
    5: Target(75, 55),
    6: Target(75, 55),
}


def counts(operation: str | None, material: str | None) -> tuple[bool, bool]:
    """Whether an output counts as (recovered, prepared for reuse and recycled)."""
    if material == "reuse":
        return True, True
    if material == "residues" or not operation or not operation.startswith("R"):
        return False, False
    if operation == "R1":
        return True, False
    return True, True

"""The rule settings a log runs under, fixed in its genesis entry.

Jurisdictions differ: the discrepancy threshold and reporting deadline come
from their manifest rules (40 CFR 264.72 uses more than 10 % by weight and 15
days), and how far a signer's clock may stray is a deployment's choice. A log
states its settings once, in the genesis event's optional ``rules`` object, so
that every verifier checks the log by the settings it was written under;
missing settings take the defaults below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.errors import EventFormatError


@dataclass(frozen=True)
class Rules:
    """Thresholds the custody rules use."""

    #: A receipt whose measured weight differs from the declared one by more
    #: than this percentage of the declared weight opens a discrepancy.
    discrepancy_percent: int = 10
    #: Days after the receipt by which an open discrepancy must be resolved.
    discrepancy_days: int = 15
    #: How much the outputs of a treatment may exceed its input, in percent
    #: (moisture, scale tolerance).
    output_tolerance_percent: int = 2
    #: How far a signer's ``at`` may be ahead of the log's clock, in seconds.
    max_future_seconds: int = 300
    #: How far a signer's ``at`` may be behind the log's clock (an offline
    #: device syncing late), in seconds.
    max_past_seconds: int = 7 * 86_400

    def to_json(self) -> dict[str, Any]:
        """The settings as the genesis event's ``rules`` object."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: object) -> Rules:
        """Read a genesis ``rules`` object; absent settings keep their defaults."""
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise EventFormatError("genesis rules must be a JSON object")
        known = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = set(value) - set(known)
        if unknown:
            raise EventFormatError(f"genesis rules has unknown settings {sorted(unknown)}")
        for name, setting in value.items():
            if not isinstance(setting, int) or isinstance(setting, bool) or setting < 0:
                raise EventFormatError(f"genesis rules {name} must be a non-negative integer")
        return cls(**dict(value))
